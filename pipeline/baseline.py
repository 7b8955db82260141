"""The Evaluator's baseline: the last blessed model before this run's.

Locally a Resolver finds it in ML Metadata (PreviousBlessedModelStrategy).
Kubeflow Pipelines cannot run that: open-source KFP rejects the `resolver`
executors a TFX Resolver compiles to, and Vertex AI only runs TFX's two
built-in strategies. There LatestPushedModel finds it at the push
destination. Only blessed models are pushed, so the newest version at the push
destination is the last blessed model: this step copies it into a Model
artifact. Before the first push there is none, and it copies the candidate
instead: comparing a model with itself changes nothing, so the value
thresholds alone decide the first blessing.
"""

from tfx.dsl.component.experimental.annotations import InputArtifact
from tfx.dsl.component.experimental.annotations import OutputArtifact
from tfx.dsl.component.experimental.annotations import Parameter
from tfx.dsl.component.experimental.decorators import component
from tfx.dsl.input_resolution.strategies import latest_blessed_model_strategy
from tfx.types.standard_artifacts import Model
from tfx.utils import io_utils
from tfx.utils import path_utils

from pipeline import push_destination as destination


class PreviousBlessedModelStrategy(
    latest_blessed_model_strategy.LatestBlessedModelStrategy):
  """The latest blessed model other than the candidate (channel
  'candidate'): a model is not its own baseline. So a re-run whose Trainer
  is cached resolves the same baseline as the run that trained the model,
  and the Evaluator and Pusher stay cached too."""

  def resolve_artifacts(self, store, input_dict):
    candidates = input_dict['candidate']
    candidate_ids = {model.id for model in candidates}
    others = {
        'model': [m for m in input_dict['model'] if m.id not in candidate_ids],
        'model_blessing': input_dict['model_blessing'],
    }
    return dict(super().resolve_artifacts(store, others), candidate=candidates)


@component
def LatestPushedModel(  # pylint: disable=invalid-name
    candidate: InputArtifact[Model],
    baseline: OutputArtifact[Model],
    push_destination: Parameter[str],
):
  """Copies the newest pushed model (or, before any push, the candidate)."""
  source = (destination.latest_version_dir(push_destination) or
            path_utils.serving_model_path(candidate.uri))
  io_utils.copy_dir(source, path_utils.serving_model_dir(baseline.uri))
  baseline.set_string_custom_property('source', source)
