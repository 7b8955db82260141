"""The Evaluator's baseline where ML Metadata queries cannot run.

Open-source Kubeflow Pipelines rejects the `resolver` executors a TFX Resolver
compiles to. Only blessed models are pushed, so the newest version at the push
destination is the last blessed model: this step copies it into a Model
artifact. Before the first push there is none, and it copies the candidate
instead: comparing a model with itself changes nothing, so the value
thresholds alone decide the first blessing.
"""

from tfx import v1 as tfx
from tfx.utils import io_utils
from tfx.utils import path_utils

from pipeline import push_destination as destination


@tfx.dsl.components.component
def LatestPushedModel(  # pylint: disable=invalid-name
    candidate: tfx.dsl.components.InputArtifact[
        tfx.types.standard_artifacts.Model],
    baseline: tfx.dsl.components.OutputArtifact[
        tfx.types.standard_artifacts.Model],
    push_destination: tfx.dsl.components.Parameter[str],
):
  """Copies the newest pushed model (or, before any push, the candidate)."""
  source = (destination.latest_version_dir(push_destination) or
            path_utils.serving_model_path(candidate.uri))
  io_utils.copy_dir(source, path_utils.serving_model_dir(baseline.uri))
  baseline.set_string_custom_property('source', source)
