"""Every tunable of the pipeline, in one place.

Runners read these; `create_pipeline(...)` takes them as arguments so tests
can vary them without touching this file.
"""

import dataclasses
import os
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

# Module files rather than import paths: TFX packages their folder into a
# wheel named by a hash of its sources, so any edit under models/ re-runs
# Transform, Trainer and everything downstream, and nothing upstream.
PREPROCESSING_MODULE = PROJECT_ROOT / 'models' / 'preprocessing.py'
TRAINER_MODULE = PROJECT_ROOT / 'models' / 'trainer.py'

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
    'learning_rate': 0.001,
    'hidden_units': [128, 64],
    'embedding_dim': 8,
    'dropout': 0.4,
    'l2': 3e-3,
    'seed': 42,
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
SLICE_FEATURES = ['payment_type', 'trip_start_hour']

BEAM_PIPELINE_ARGS = [
    '--direct_running_mode=in_memory',
    '--direct_num_workers=1',
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
