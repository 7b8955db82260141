"""The KServe InferenceService that serves the pushed model on the cluster.

KServe's TF Serving runtime (the ClusterServingRuntime
`kserve-tensorflow-serving`) serves the push destination: its storage
initializer copies `storageUri` to /mnt/models when the pod starts, and
TF Serving serves the highest version there as the model named after the
InferenceService, over TF Serving's REST API (the same requests as
`taxi-tips serve`).
"""

from pathlib import Path

import yaml

from cluster import settings as cluster_settings
from pipeline import configs

# KServe's runtime defaults to tensorflow/serving:2.6.2; `runtimeVersion`
# replaces that tag. Our SavedModels, exported by TensorFlow 2.16, hold the
# DisableCopyOnRead op and VarHandleOp's debug_name attribute, which
# runtimes without them refuse; TF Serving 2.16.1 is
# built on TensorFlow 2.16.1 (docs/kubeflow.md, "Serve it: KServe").
TF_SERVING_VERSION = '2.16.1'
_RUNTIME = 'kserve-tensorflow-serving'
FILE_NAME = f'{configs.PIPELINE_NAME}-inferenceservice.yaml'


def manifest(settings: cluster_settings.KubeflowSettings) -> dict:
  """The InferenceService (serving.kserve.io/v1beta1) of the pushed model.

  Args:
    settings: the cluster settings (the push destination).

  Returns:
    The manifest, for `kubectl apply -f`.
  """
  return {
      'apiVersion': 'serving.kserve.io/v1beta1',
      'kind': 'InferenceService',
      # TF Serving's model name is the InferenceService's: requests go to
      # /v1/models/taxi-tips, as to `taxi-tips serve`.
      'metadata': {'name': configs.PIPELINE_NAME},
      'spec': {'predictor': {'model': {
          'modelFormat': {'name': 'tensorflow', 'version': '2'},
          'runtime': _RUNTIME,
          'runtimeVersion': TF_SERVING_VERSION,
          'storageUri': settings.serving_model_dir,
          'resources': {
              'requests': {'cpu': '1', 'memory': '2Gi'},
              'limits': {'cpu': '1', 'memory': '2Gi'}},
      }}},
  }


def write(settings: cluster_settings.KubeflowSettings,
          output_dir: Path) -> Path:
  """Writes manifest(settings) into output_dir; returns its path."""
  path = output_dir / FILE_NAME
  path.write_text(yaml.safe_dump(manifest(settings), sort_keys=False))
  return path
