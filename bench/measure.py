"""What one pipeline run cost and produced: wall time and peak memory of the
process, per-component durations from ML Metadata, and the trained model's
accuracy and AUC on the run's own eval split."""

import dataclasses
import os
from pathlib import Path
import subprocess
import time
from typing import Dict

from ml_metadata import metadata_store
from ml_metadata.proto import metadata_store_pb2

_BATCH = 1024


@dataclasses.dataclass
class Run:
  wall_seconds: float
  peak_rss_mb: float  # the largest resident set of any one process in the tree
  returncode: int


def run_measured(command, cwd: Path, env: dict, log: Path) -> Run:
  """Runs command to completion; os.wait4 gives the child's own peak RSS
  (the maximum over it and the descendants it waited for)."""
  start = time.monotonic()
  with open(log, 'w') as out:
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=out,
                               stderr=subprocess.STDOUT)
    _, status, usage = os.wait4(process.pid, 0)
  process.returncode = os.waitstatus_to_exitcode(status)
  return Run(time.monotonic() - start, usage.ru_maxrss / 1024,
             process.returncode)


def _store(metadata_db: Path) -> metadata_store.MetadataStore:
  config = metadata_store_pb2.ConnectionConfig()
  config.sqlite.filename_uri = str(metadata_db)
  config.sqlite.connection_mode = (
      metadata_store_pb2.SqliteMetadataSourceConfig.READONLY)
  return metadata_store.MetadataStore(config)


def component_seconds(metadata_db: Path) -> Dict[str, float]:
  """Executor time per component type of the newest run (short names)."""
  store = _store(metadata_db)
  runs = store.get_contexts_by_type('pipeline_run')
  newest = max(runs, key=lambda c: c.create_time_since_epoch)
  seconds = {}
  for execution in store.get_executions_by_context(newest.id):
    name = execution.type.rsplit('.', 1)[-1]
    seconds[name] = (execution.last_update_time_since_epoch -
                     execution.create_time_since_epoch) / 1000
  return seconds


def _output_uri(store, execution_type_suffix: str, output_key: str) -> str:
  executions = [e for e in store.get_executions()
                if e.type.endswith(execution_type_suffix)]
  newest = max(executions, key=lambda e: e.create_time_since_epoch)
  events = store.get_events_by_execution_ids([newest.id])
  ids = [e.artifact_id for e in events
         if e.type == metadata_store_pb2.Event.OUTPUT and any(
             step.key == output_key for step in e.path.steps)]
  return store.get_artifacts_by_id(ids)[0].uri


def _big_tip(features) -> int:
  """Tip above 20 % of the fare, in whole cents (missing -> no big tip)."""
  fare = features['fare'].float_list.value
  tips = features['tips'].float_list.value
  if not fare or not tips:
    return 0
  return int(round(tips[0] * 100) * 5 > round(fare[0] * 100))


def eval_quality(metadata_db: Path, run_dir: Path) -> Dict[str, float]:
  """Accuracy (threshold 0.5) and AUC of the newest trained model on the
  eval split of the newest ExampleGen output, through its serving signature
  (raw tf.Examples in, probability out), the same code for both pipelines.
  Relative artifact URIs are relative to run_dir, where the run started."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top

  store = _store(metadata_db)
  model_dir = run_dir / _output_uri(store, 'Trainer', 'model') / 'Format-Serving'
  examples = run_dir / _output_uri(store, 'ExampleGen', 'examples') / 'Split-eval'
  serve = tf.saved_model.load(str(model_dir)).signatures['serving_default']
  dataset = tf.data.TFRecordDataset(
      [str(p) for p in sorted(examples.glob('*.gz'))], compression_type='GZIP')
  accuracy = tf.keras.metrics.BinaryAccuracy()
  auc = tf.keras.metrics.AUC(num_thresholds=2000)
  for batch in dataset.batch(_BATCH):
    labels = [_big_tip(tf.train.Example.FromString(x.numpy()).features.feature)
              for x in batch]
    [scores] = serve(examples=batch).values()
    scores = tf.reshape(scores, [-1])
    accuracy.update_state(labels, scores)
    auc.update_state(labels, scores)
  return {'accuracy': float(accuracy.result()), 'auc': float(auc.result())}
