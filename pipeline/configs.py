"""Every tunable of the pipeline, in one place.

Runners read these; `create_pipeline(...)` takes them as arguments so tests
can vary them without touching this file.
"""

import dataclasses
import os
import re
from pathlib import Path

# Lower-case letters, digits and '-' only: Kubeflow rejects anything else.
PIPELINE_NAME = 'taxi-tips'

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_PATH = PROJECT_ROOT / 'data'
DEFAULT_OUTPUT_DIR = PROJECT_ROOT / 'outputs'
# Environment variables that move the data source and every output.
DATA_PATH_ENV = 'DATA_PATH'
OUTPUT_DIR_ENV = 'OUTPUT_DIR'

# The curated schema (see README "Schema"); None makes SchemaGen infer one.
SCHEMA_PATH = PROJECT_ROOT / 'pipeline' / 'schema' / 'schema.pbtxt'

# The model code, imported by name: from the checkout locally, from the
# image on Kubeflow. (Module files would make TFX build a wheel of models/
# and pip-install it in every run of Transform and Trainer: ~10 s a run.)
MODEL_CODE_DIR = PROJECT_ROOT / 'models'
PREPROCESSING_FN = 'models.preprocessing.preprocessing_fn'
RUN_FN = 'models.trainer.run_fn'

# tf.Transform builds the graph once, in TF1 style, instead of tracing
# preprocessing_fn as tf.functions for each analysis phase and the export:
# Transform takes ~5 s less on the bundled sample; the output graph serves
# the same in TF2 (the Trainer and the serving signatures load it there).
TRANSFORM_TF_COMPAT_V1 = True

# ExampleGen hash-bucket split of the input rows.
TRAIN_BUCKETS = 3
EVAL_BUCKETS = 1

# About six passes over the bundled sample's train split; the model overfits
# beyond that (measured on the eval split).
TRAIN_STEPS = 300
EVAL_STEPS = 15

# Passed to run_fn as custom_config['hparams'].
HPARAMS = {
    'batch_size': 256,
    'learning_rate': 0.003,
    'hidden_units': [128, 64],
    'embedding_dim': 8,
    'dropout': 0.4,
    'l2': 3e-3,
    'seed': 42,
    'ema_momentum': 0.99,
}


@dataclasses.dataclass(frozen=True)
class EvalThresholds:
  """What the Evaluator requires before it blesses a model for pushing."""
  min_auc: float = 0.93
  min_accuracy: float = 0.88
  # AUC a candidate may lose against the baseline (the last blessed model)
  # on the same eval data: none, beyond float noise.
  max_auc_regression: float = 1e-10


EVAL_THRESHOLDS = EvalThresholds()
# Metrics per payment type (cash tips go unrecorded: its own story) and per
# hour of the day. Each slicing runs the metrics' combiner over every
# example once more.
SLICE_FEATURES = ['payment_type', 'trip_start_hour']

# Naming an SDK image stops TFX from building and staging an sdist of
# itself for Beam workers in every Beam component (~1.5 s each): the
# DirectRunner runs on this machine, where TFX is installed, and ignores it.
_NO_TFX_STAGING = '--sdk_container_image=unused-by-the-direct-runner'
# In memory, one worker: Beam worker processes each import TensorFlow, TFMA
# and TFX first (~8 s of CPU) and hold ~450 MB; with the Evaluator's metrics
# on one histogram no component here gains enough from them (see
# docs/benchmarks.md).
BEAM_PIPELINE_ARGS = [
    '--direct_running_mode=in_memory',
    '--direct_num_workers=1',
    _NO_TFX_STAGING,
]


@dataclasses.dataclass(frozen=True)
class LocalPaths:
  """Where a local run keeps its outputs; all of them live under `root`."""
  root: Path

  @property
  def pipeline_root(self) -> Path:
    return self.root / 'pipelines' / PIPELINE_NAME

  @property
  def metadata_path(self) -> Path:
    return self.root / 'metadata' / PIPELINE_NAME / 'metadata.db'

  @property
  def serving_model_dir(self) -> Path:
    return self.root / 'serving_model' / PIPELINE_NAME

  @property
  def log_dir(self) -> Path:
    return self.root / 'logs'


def data_path_from_env() -> Path:
  return Path(os.environ.get(DATA_PATH_ENV) or DEFAULT_DATA_PATH)


def output_dir_from_env() -> Path:
  return Path(os.environ.get(OUTPUT_DIR_ENV) or DEFAULT_OUTPUT_DIR)


# --- Kubeflow Pipelines (GKE) and Vertex AI Pipelines -----------------------
# kubeflow_runner.py reads these; each has an environment variable so one
# image and one checkout serve several projects.

KUBEFLOW_PIPELINE_NAME_RE = r'[a-z0-9][a-z0-9-]*'
# Targets: 'kfp' = open-source Kubeflow Pipelines 2.x, 'vertex' = Vertex AI.
KUBEFLOW_TARGETS = ('kfp', 'vertex')


def check_kubeflow_pipeline_name(name: str) -> str:
  """Returns name if Kubeflow accepts it, else raises naming the rule."""
  if not re.fullmatch(KUBEFLOW_PIPELINE_NAME_RE, name):
    raise ValueError(f'pipeline name {name!r}: Kubeflow accepts only '
                     'lower-case letters, digits and "-", starting with a '
                     'letter or digit')
  return name


@dataclasses.dataclass(frozen=True)
class Resources:
  """A component's container limits: CPUs and memory in GB."""
  cpu: float
  memory_gb: float
  gpus: int = 0
  gpu_type: str = 'NVIDIA_TESLA_T4'


@dataclasses.dataclass(frozen=True)
class KubeflowSettings:
  """Where and how the pipeline runs on a cluster."""
  project: str = 'my-gcp-project'
  region: str = 'us-central1'
  # Pipeline root, pushed models and Beam temp files live under here.
  storage_root: str = 'gs://my-gcp-project-taxi-tips'
  image: str = ''  # default: gcr.io/<project>/taxi-tips:<IMAGE_TAG>
  # CSV files under this GCS folder, unless bigquery_query is set.
  data_root: str = ''  # default: <storage_root>/data/taxi-tips
  bigquery_query: str = ''
  # Beam inside each component's pod, or on Dataflow.
  beam_on_dataflow: bool = False
  dataflow_machine_type: str = 'e2-standard-4'
  dataflow_max_workers: int = 4
  target: str = 'kfp'

  @property
  def image_name(self) -> str:
    return self.image or f'gcr.io/{self.project}/{PIPELINE_NAME}:{IMAGE_TAG}'

  @property
  def pipeline_root(self) -> str:
    return f'{self.storage_root}/pipelines/{PIPELINE_NAME}'

  @property
  def serving_model_dir(self) -> str:
    return f'{self.storage_root}/serving_model/{PIPELINE_NAME}'

  @property
  def data_path(self) -> str:
    return self.data_root or f'{self.storage_root}/data/{PIPELINE_NAME}'

  @property
  def temp_location(self) -> str:
    return f'{self.storage_root}/tmp'

  def beam_pipeline_args(self) -> list:
    # BigQuery export and Dataflow both need a project and a GCS temp folder;
    # the image has TFX and the model code for Dataflow workers, and names
    # a dependency so TFX stages no sdist of itself from the pod.
    common = [f'--project={self.project}',
              f'--temp_location={self.temp_location}',
              f'--sdk_container_image={self.image_name}']
    if not self.beam_on_dataflow:
      # Both of the pod's CPUs (see COMPONENT_RESOURCES).
      return common + ['--direct_running_mode=multi_processing',
                       '--direct_num_workers=0']
    return common + [
        '--runner=DataflowRunner',
        f'--region={self.region}',
        f'--machine_type={self.dataflow_machine_type}',
        f'--max_num_workers={self.dataflow_max_workers}',
        '--experiments=use_runner_v2',
    ]


# The image tag: bump it with every image you push, so a compiled package
# always names the exact code it runs.
IMAGE_TAG = '0.1.0'

KUBEFLOW_ENV = {
    'project': 'GOOGLE_CLOUD_PROJECT',
    'region': 'GOOGLE_CLOUD_REGION',
    'storage_root': 'STORAGE_ROOT',
    'image': 'PIPELINE_IMAGE',
    'data_root': 'KUBEFLOW_DATA_ROOT',
    'bigquery_query': 'BIGQUERY_QUERY',
    'beam_on_dataflow': 'BEAM_ON_DATAFLOW',
    'target': 'KUBEFLOW_TARGET',
}


def kubeflow_settings_from_env() -> KubeflowSettings:
  values = {}
  for field, var in KUBEFLOW_ENV.items():
    if os.environ.get(var):
      values[field] = os.environ[var]
  if 'beam_on_dataflow' in values:
    values['beam_on_dataflow'] = values['beam_on_dataflow'].lower() in (
        '1', 'true', 'yes')
  settings = KubeflowSettings(**values)
  if settings.target not in KUBEFLOW_TARGETS:
    raise ValueError(f'{KUBEFLOW_ENV["target"]}={settings.target!r}: '
                     f'expected one of {", ".join(KUBEFLOW_TARGETS)}')
  return settings


# Requests per component id on the cluster; the rest get DEFAULT_RESOURCES.
# Transform analyzes and rewrites every row; Trainer holds the model and the
# shuffle buffer.
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
    CONTAINER_PROJECT_DIR / SCHEMA_PATH.relative_to(PROJECT_ROOT))

# --- Kubeflow Pipelines API (kubeflow_runner.py create/update/run/...) ------
# kfp's own environment variable names, so an existing kfp set-up just works;
# the namespace variable is ours (multi-user Kubeflow only).
KFP_ENDPOINT_ENV = 'KF_PIPELINES_ENDPOINT'
KFP_UI_ENDPOINT_ENV = 'KF_PIPELINES_UI_ENDPOINT'
KFP_IAP_CLIENT_ID_ENV = 'KF_PIPELINES_IAP_OAUTH2_CLIENT_ID'
KFP_NAMESPACE_ENV = 'KF_PIPELINES_NAMESPACE'
KFP_EXPERIMENT = PIPELINE_NAME
KFP_SCHEDULE_NAME = f'{PIPELINE_NAME}-retraining'
# `run --wait` gives up after this long (the run itself goes on).
KFP_RUN_TIMEOUT_SECONDS = 4 * 3600
KFP_CRON_EXAMPLE = '0 0 3 * * *'  # every day at 03:00 (seconds field first)


def check_kfp_cron(cron: str) -> str:
  """Returns cron if KFP's scheduler (robfig/cron, seconds first) takes it."""
  fields = cron.split()
  if cron.startswith('@') and len(fields) <= 2:
    return cron  # @daily, @hourly, @every 6h, ...
  if len(fields) != 6 or not all(
      re.fullmatch(r'[0-9A-Za-z*?/,-]+', field) for field in fields):
    raise ValueError(
        f'cron {cron!r}: Kubeflow Pipelines expects 6 fields, seconds first '
        f'(second minute hour day-of-month month day-of-week), e.g. '
        f'{KFP_CRON_EXAMPLE!r} for 03:00 every day')
  return cron
