"""The KServe InferenceService that serves the pushed model on the cluster.

KServe's TF Serving runtime (the ClusterServingRuntime
`kserve-tensorflow-serving`) serves the highest version of the push
destination as the model named after the InferenceService, over TF
Serving's REST API (the same requests as `taxi-tips serve`). TF Serving
reads the destination itself and polls it, so every push and rollback is
served without a new revision: the runtime's `--model_base_path` (the
storage initializer's one-time copy, /mnt/models) is overridden by ours,
given after it (KServe's MergeRuntimeContainers appends the
InferenceService's args; TF Serving's flag parser keeps the last value).
`storageUri` stays: without it KServe takes the predictor for a
multi-model server (IsMMSPredictor) and adds its agent.
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
# TF Serving polls the destination every POLL_SECONDS. A version folder it
# sees before its copy ends (GCS has no rename) fails to load and is
# retried every RETRY_SECONDS, LOAD_RETRIES times; the served one stays.
POLL_SECONDS = 5
RETRY_SECONDS = 5
LOAD_RETRIES = 60
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
      'spec': {'predictor': {
          # Its Google identity reads the destination: KServe gives its
          # credentials to the storage initializer only.
          'serviceAccountName': settings.serving_service_account,
          'model': {
              'modelFormat': {'name': 'tensorflow', 'version': '2'},
              'runtime': _RUNTIME,
              'runtimeVersion': TF_SERVING_VERSION,
              'storageUri': settings.serving_model_dir,
              'args': [
                  f'--model_base_path={settings.serving_model_dir}',
                  f'--file_system_poll_wait_seconds={POLL_SECONDS}',
                  f'--load_retry_interval_micros={RETRY_SECONDS * 10**6}',
                  f'--max_num_load_retries={LOAD_RETRIES}'],
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
