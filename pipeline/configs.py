"""What the pipeline does: its steps' tunables, in one place.

Where a local run reads and writes is in local/paths.py (under
output_dir_from_env(), which also holds compiled packages); where and how a
cluster run runs, in cluster/settings.py; facts about the features (names,
id ranges, slices) in models/features.py. `create_pipeline(...)` takes these
as arguments, so tests vary them without touching this file.
"""

import dataclasses
import os
from pathlib import Path
from typing import NamedTuple, Tuple

# Lower-case letters, digits and '-' only: Kubeflow rejects anything else.
PIPELINE_NAME = 'taxi-tips'

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Every output on this machine (runs, reports, packages, benchmarks) lives
# under $OUTPUT_DIR, or outputs/.
OUTPUT_DIR_ENV = 'OUTPUT_DIR'
DEFAULT_OUTPUT_DIR = PROJECT_ROOT / 'outputs'


def output_dir_from_env() -> Path:
  """The root of every output on this machine: $OUTPUT_DIR, or outputs/."""
  return Path(os.environ.get(OUTPUT_DIR_ENV) or DEFAULT_OUTPUT_DIR)


# The curated schema (see README "Schema"); None makes SchemaGen infer one.
SCHEMA_PATH = PROJECT_ROOT / 'pipeline' / 'schema' / 'schema.pbtxt'

# The model code, imported by name: from the checkout locally, from the
# image on Kubeflow. (Module files would make TFX build a wheel of models/
# and pip-install it in every run of Transform and Trainer.)
MODEL_CODE_DIR = PROJECT_ROOT / 'models'
PREPROCESSING_FN = 'models.preprocessing.preprocessing_fn'
RUN_FN = 'models.trainer.run_fn'

# --- ExampleGen --------------------------------------------------------------
# A run trains on the newest this many spans of the data (pipeline/spans.py)
# and is evaluated on the newest.
WINDOW_SPANS = 4
# A span of a BigQuery table (pipeline/query_spans.py): one period of the
# trips' start, a BigQuery TIMESTAMP_TRUNC part: DAY, WEEK, MONTH, QUARTER
# or YEAR.
SPAN_PERIOD = 'MONTH'
# Hash-bucket split of the input rows.
TRAIN_SPLIT, EVAL_SPLIT = 'train', 'eval'
TRAIN_BUCKETS = 3
EVAL_BUCKETS = 1
# Arrow parses this much CSV text at a time, and each block becomes one output
# file per split: large enough to amortize the per-block cost, small enough
# that a reader with several Beam workers can share the files out.
CSV_BLOCK_BYTES = 2 << 20

# --- Data gate (pipeline/components/data_gate/) -------------------------------
@dataclasses.dataclass(frozen=True)
class DataGateThresholds:
  """How far new data may be from the serving model's training data.

  That data is the serving model's train split; new data further off stops
  the run ahead of Transform and Trainer.
  """
  # Rows of the train split: fewer cannot train a model worth comparing.
  min_rows: int = 500
  # Share of rows without a `tips` value.
  max_label_missing: float = 0.01
  # Per feature: how much the share of empty cells may grow.
  max_missing_increase: float = 0.05
  # TFDV's drift comparators: L-infinity distance between the shares of the
  # values of a string feature, Jensen-Shannon divergence for numbers (over
  # decile buckets). Each year of the bundled sample stays well below these
  # and a unit change goes far above (docs/data_gate.md).
  max_categorical_linf: float = 0.2
  max_numeric_jsd: float = 0.3
  # A category this common in the serving model's data must not vanish.
  min_vanished_share: float = 0.01
  # Anomalies accepted as real changes, as the gate's report names them:
  # 'feature:check', e.g. 'fare:drift'.
  allowed: Tuple[str, ...] = ()


DATA_GATE = DataGateThresholds()

# --- Transform ---------------------------------------------------------------
# tf.Transform builds the graph once, in TF1 style, instead of tracing
# preprocessing_fn as tf.functions for each analysis phase and the export;
# the output graph serves the same in TF2 (docs/performance.md,
# "Transform in TF1 graph mode"). For TFX's
# Transform (cluster runs): the in-memory one of local runs has this mode
# only (pipeline/in_process/transform/).
TRANSFORM_TF_COMPAT_V1 = True

# --- Trainer -----------------------------------------------------------------
# About six passes over the bundled sample's train split; the model overfits
# beyond that (measured on the eval split).
TRAIN_STEPS = 300
EVAL_STEPS = 15

# Start training from the serving model's weights (models/warm_start.py);
# measured in docs/performance.md, "Warm start".
WARM_START = False

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
    # Training loss and AUC go to TensorBoard's logs every this many steps.
    'log_every_steps': 10,
}


# --- Evaluator ---------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class EvalThresholds:
  """What the Evaluator requires before it blesses a model for pushing."""
  min_auc: float = 0.93
  min_accuracy: float = 0.88
  # AUC a candidate may lose against the baseline (the last blessed model)
  # on the same eval data: none, beyond float noise.
  max_auc_regression: float = 1e-10


EVAL_THRESHOLDS = EvalThresholds()
# A predicted probability from this on counts as "big tip" (accuracy,
# precision, recall).
DECISION_THRESHOLD = 0.5

# --- Serving check (pipeline/components/serving_check/) -----------------------
# Eval rows each signature of a blessed model answers in a fresh process;
# the answers may differ from the Evaluator's by this much (float noise).
SERVING_CHECK_ROWS = 100
SERVING_CHECK_TOLERANCE = 1e-6
SERVING_CHECK_TIMEOUT = 300  # seconds for loading and querying

# --- Beam --------------------------------------------------------------------
# Naming an SDK image stops TFX from building and staging an sdist of
# itself for Beam workers in every Beam component: the DirectRunner runs on
# this machine, where TFX is installed, and ignores it.
_NO_TFX_STAGING = '--sdk_container_image=unused-by-the-direct-runner'
# In memory, one worker: Beam worker processes each import TensorFlow, TFMA
# and TFX first and hold hundreds of MB (docs/performance.md, "Beam in
# memory, one worker"). ExampleGen is
# the one Beam step of a local run (create_pipeline(without_beam=True)).
BEAM_PIPELINE_ARGS = [
    '--direct_running_mode=in_memory',
    '--direct_num_workers=1',
    _NO_TFX_STAGING,
]


# --- Outputs -----------------------------------------------------------------
class OutputDirs(NamedTuple):
  pipeline_root: str  # every component's artifacts
  serving_model_dir: str  # the push destination, TF Serving's layout


def output_dirs(storage_root: str) -> OutputDirs:
  """Where the pipeline writes under a storage root, locally or on GCS.

  Args:
    storage_root: a local folder or a `gs://` path.

  Returns:
    `<storage_root>/pipelines/<pipeline name>` and
    `<storage_root>/serving_model/<pipeline name>`.
  """
  return OutputDirs(f'{storage_root}/pipelines/{PIPELINE_NAME}',
                    f'{storage_root}/serving_model/{PIPELINE_NAME}')
