"""The Evaluator's baseline: the served model.

That is the last blessed model before this run's, unless a rollback
restored an older one.

Locally a Resolver finds it in ML Metadata (strategy.py).
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
from tfx.types.standard_artifacts import Model
from tfx.utils import io_utils
from tfx.utils import path_utils

from models import push_destination as destination


@component
def LatestPushedModel(  # pylint: disable=invalid-name
    candidate: InputArtifact[Model],
    baseline: OutputArtifact[Model],
    push_destination: Parameter[str],
):
  """Copies the newest pushed model (or, before any push, the candidate).

  Args:
    candidate: the Trainer's model.
    baseline: where the copy goes; its `source` property names what it is.
    push_destination: the Pusher's destination folder.
  """
  source = (destination.latest_version_dir(push_destination) or
            path_utils.serving_model_path(candidate.uri))
  io_utils.copy_dir(source, path_utils.serving_model_dir(baseline.uri))
  baseline.set_string_custom_property('source', source)
