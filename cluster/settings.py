"""Where and how the pipeline runs on a cluster.

The targets: Kubeflow Pipelines 2.x on GKE ('kfp') or Vertex AI Pipelines
('vertex').

kubeflow_runner.py reads these; each setting of KubeflowSettings has an
environment variable (KUBEFLOW_ENV), so one image and one checkout serve
several projects.
"""

import dataclasses
import os
from pathlib import Path
import re

from pipeline import configs

# Targets: 'kfp' = open-source Kubeflow Pipelines 2.x, 'vertex' = Vertex AI.
KUBEFLOW_TARGETS = ('kfp', 'vertex')
KUBEFLOW_PIPELINE_NAME_RE = r'[a-z0-9][a-z0-9-]*'

# The image tag: bump it with every image you push, so a compiled package
# always names the exact code it runs.
IMAGE_TAG = '0.1.0'


@dataclasses.dataclass(frozen=True)
class Resources:
  """A component's container limits: CPUs and memory in GB, and GPUs."""
  cpu: float
  memory_gb: float
  gpus: int = 0
  # Vertex AI's machine name; on KFP the GPU's Kubernetes resource name
  # (KFP_GPU_RESOURCE), with the GPU model left to the node pool.
  gpu_type: str = 'NVIDIA_TESLA_T4'

  def accelerator_type(self, target: str) -> str:
    """The accelerator type the target's backend understands.

    Args:
      target: one of KUBEFLOW_TARGETS.

    Returns:
      KFP's driver takes it as the pod's resource name; Vertex AI, as a
      machine name.
    """
    return KFP_GPU_RESOURCE if target == 'kfp' else self.gpu_type


KFP_GPU_RESOURCE = 'nvidia.com/gpu'


# Limits per component id on the cluster; the rest get DEFAULT_RESOURCES.
# Transform analyzes every row; Trainer holds the model and the shuffle buffer.
DEFAULT_RESOURCES = Resources(cpu=1, memory_gb=2)
COMPONENT_RESOURCES = {
    'Transform': Resources(cpu=2, memory_gb=8),
    'Trainer': Resources(cpu=2, memory_gb=8),
    'Evaluator': Resources(cpu=2, memory_gb=4),
}

# Where the Dockerfile puts the project inside the image (the variable lets
# the container-contract test run the tasks from a checkout instead).
DEFAULT_CONTAINER_PROJECT_DIR = '/opt/taxi-tips'
CONTAINER_PROJECT_DIR = Path(
    os.environ.get('CONTAINER_PROJECT_DIR') or DEFAULT_CONTAINER_PROJECT_DIR)
CONTAINER_SCHEMA_PATH = (
    CONTAINER_PROJECT_DIR / configs.SCHEMA_PATH.relative_to(configs.PROJECT_ROOT))


@dataclasses.dataclass(frozen=True)
class KubeflowSettings:
  """Where and how the pipeline runs on a cluster."""
  project: str = 'my-gcp-project'
  region: str = 'us-central1'
  # Pipeline root, pushed models and Beam temp files live under here.
  storage_root: str = 'gs://my-gcp-project-taxi-tips'
  image: str = ''  # default: gcr.io/<project>/taxi-tips:<IMAGE_TAG>
  # CSV files under this GCS folder, unless bigquery_table is set: spans of
  # a table with the Chicago taxi trips columns (pipeline/query_spans.py).
  data_root: str = ''  # default: <storage_root>/data/taxi-tips
  bigquery_table: str = ''
  # Beam inside each component's pod, or on Dataflow (workers per component:
  # cluster/dataflow.py).
  beam_on_dataflow: bool = False
  # The Dataflow workers' image (Dockerfile.dataflow); default:
  # gcr.io/<project>/taxi-tips-dataflow:<IMAGE_TAG>.
  dataflow_image: str = ''
  # Passes over the train split instead of configs.TRAIN_STEPS (0): for a
  # window whose size varies, such as a table's months (docs/scale.md).
  train_epochs: int = 0
  # The Kubernetes service account TF Serving runs as (KServe): bound to a
  # Google service account that reads the push destination (Workload
  # Identity; docs/kubeflow.md, "Serve it: KServe").
  serving_service_account: str = f'{configs.PIPELINE_NAME}-serving'
  target: str = 'kfp'

  @property
  def image_name(self) -> str:
    return self.image or (
        f'gcr.io/{self.project}/{configs.PIPELINE_NAME}:{IMAGE_TAG}')

  @property
  def dataflow_image_name(self) -> str:
    return self.dataflow_image or (
        f'gcr.io/{self.project}/{configs.PIPELINE_NAME}-dataflow:{IMAGE_TAG}')

  @property
  def pipeline_root(self) -> str:
    return configs.output_dirs(self.storage_root).pipeline_root

  @property
  def serving_model_dir(self) -> str:
    return configs.output_dirs(self.storage_root).serving_model_dir

  @property
  def data_path(self) -> str:
    return self.data_root or (
        f'{self.storage_root}/data/{configs.PIPELINE_NAME}')

  @property
  def temp_location(self) -> str:
    return f'{self.storage_root}/tmp'

  def beam_pipeline_args(self) -> list:
    """Beam options of every Beam component on the cluster.

    Returns:
      The flags every Beam component shares; each adds its Dataflow job's
      (cluster/dataflow.py) or its pod's DirectRunner workers
      (direct_runner_args).
    """
    # BigQuery export and Dataflow both need a project and a GCS temp folder.
    common = [f'--project={self.project}',
              f'--temp_location={self.temp_location}']
    if self.beam_on_dataflow:
      return common
    # The task image has TFX and the model code; naming it stops TFX from
    # staging an sdist of itself from the pod.
    return common + [f'--sdk_container_image={self.image_name}']


def whole_cpus(cpu_limit: float) -> int:
  """Beam workers, and threads of each TensorFlow pool, that fit a CPU limit.

  Both default to one per CPU of the node, not of the pod.
  """
  return max(1, int(cpu_limit))


def direct_runner_args(resources: Resources) -> list:
  """Beam's DirectRunner inside one pod: as many workers as its CPU limit.

  Args:
    resources: the pod's limits.

  Returns:
    Flags added to the component's Beam options.
  """
  workers = whole_cpus(resources.cpu)
  if workers == 1:
    return ['--direct_running_mode=in_memory', '--direct_num_workers=1']
  return ['--direct_running_mode=multi_processing',
          f'--direct_num_workers={workers}']


def tensorflow_thread_env(cpu_limit: float) -> dict:
  """TensorFlow's thread pools sized to the pod's CPU limit, as variables.

  Sized to the node, their threads would compete for the pod's CPU quota;
  TensorFlow's pools spin before they sleep, so the excess burns CPU time
  (docs/performance.md, "TensorFlow threads").

  Args:
    cpu_limit: the pod's CPU limit.

  Returns:
    Environment variable -> value, for the component's container.
  """
  threads = str(whole_cpus(cpu_limit))
  return {'TF_NUM_INTRAOP_THREADS': threads, 'TF_NUM_INTEROP_THREADS': threads}


KUBEFLOW_ENV = {
    'project': 'GOOGLE_CLOUD_PROJECT',
    'region': 'GOOGLE_CLOUD_REGION',
    'storage_root': 'STORAGE_ROOT',
    'image': 'PIPELINE_IMAGE',
    'data_root': 'KUBEFLOW_DATA_ROOT',
    'bigquery_table': 'BIGQUERY_TABLE',
    'beam_on_dataflow': 'BEAM_ON_DATAFLOW',
    'dataflow_image': 'DATAFLOW_IMAGE',
    'train_epochs': 'TRAIN_EPOCHS',
    'serving_service_account': 'SERVING_SERVICE_ACCOUNT',
    'target': 'KUBEFLOW_TARGET',
}


def check_kubeflow_pipeline_name(name: str) -> str:
  """Checks a pipeline name against Kubeflow's rule.

  Args:
    name: the pipeline name.

  Returns:
    name, unchanged.

  Raises:
    ValueError: naming the rule the name breaks.
  """
  if not re.fullmatch(KUBEFLOW_PIPELINE_NAME_RE, name):
    raise ValueError(f'pipeline name {name!r}: Kubeflow accepts only '
                     'lower-case letters, digits and "-", starting with a '
                     'letter or digit')
  return name


def kubeflow_settings_from_env() -> KubeflowSettings:
  """The defaults above, overridden by the variables of KUBEFLOW_ENV.

  Returns:
    The settings.

  Raises:
    ValueError: the target is not one of KUBEFLOW_TARGETS, or TRAIN_EPOCHS
      is not a whole number of 1 or more.
  """
  values = {}
  for field, var in KUBEFLOW_ENV.items():
    if os.environ.get(var):
      values[field] = os.environ[var]
  if 'beam_on_dataflow' in values:
    values['beam_on_dataflow'] = values['beam_on_dataflow'].lower() in (
        '1', 'true', 'yes')
  if 'train_epochs' in values:
    epochs = values['train_epochs']
    if not epochs.isdigit() or int(epochs) < 1:
      raise ValueError(f'{KUBEFLOW_ENV["train_epochs"]}={epochs!r}: expected '
                       'a whole number of passes over the train split, 1 or '
                       'more')
    values['train_epochs'] = int(epochs)
  settings = KubeflowSettings(**values)
  if settings.target not in KUBEFLOW_TARGETS:
    raise ValueError(f'{KUBEFLOW_ENV["target"]}={settings.target!r}: '
                     f'expected one of {", ".join(KUBEFLOW_TARGETS)}')
  return settings


def resources_by_component(component_ids) -> dict:
  """Each component's limits: its COMPONENT_RESOURCES entry or the default.

  Args:
    component_ids: the ids of the pipeline's container components.

  Returns:
    Component id -> Resources.

  Raises:
    ValueError: COMPONENT_RESOURCES names a component the pipeline lacks
      (a misspelt id would otherwise silently get the defaults).
  """
  component_ids = list(component_ids)
  unknown = sorted(set(COMPONENT_RESOURCES) - set(component_ids))
  if unknown:
    raise ValueError(
        f'COMPONENT_RESOURCES names no component of the pipeline: '
        f'{", ".join(unknown)} (components: {", ".join(component_ids)})')
  return {id_: COMPONENT_RESOURCES.get(id_, DEFAULT_RESOURCES)
          for id_ in component_ids}


# --- The cluster commands (kubeflow_runner.py create/update/run/...) ---------
KFP_EXPERIMENT = configs.PIPELINE_NAME
KFP_SCHEDULE_NAME = f'{configs.PIPELINE_NAME}-retraining'
# `run --wait` gives up after this long (the run itself goes on).
KFP_RUN_TIMEOUT_SECONDS = 4 * 3600
