"""Measures one pipeline run: what it cost and what it produced.

The wall time and peak memory of the process tree, per-component durations
from ML Metadata, and the trained model's accuracy and AUC on the run's own
eval split.
"""

import collections
import dataclasses
import json
from pathlib import Path
import re
import subprocess
import sys
import threading
import time
from typing import Dict

from ml_metadata.proto import metadata_store_pb2

from local import metadata
from pipeline.components.serving_check import probe_process

_BATCH = 1024
# Reading a 1 GB process's smaps_rollup takes ~12 ms of kernel time, which
# the measured run pays for: sampled every 0.2 s, the Evaluator's three
# processes took 41 s at 10x instead of 36 s. Memory peaks last seconds:
# once a second finds the same peak (1.88 vs 1.89 GB).
_SAMPLE_SECONDS = 1.0


@dataclasses.dataclass
class Run:
  wall_seconds: float
  # The largest sum over the process and all its descendants (Beam worker
  # processes included) of their proportional set sizes: resident memory,
  # with each page shared by several processes split between them.
  peak_memory_mb: float
  returncode: int
  # (seconds since the epoch, the tree's proportional set size in KB), one
  # a sample: what each step held while it ran (step_peak_memory_mb).
  memory_samples: list = dataclasses.field(default_factory=list)


def descendants(root: int) -> list:
  """The pids of a process and all its descendants."""
  children = collections.defaultdict(list)
  for stat in Path('/proc').glob('[0-9]*/stat'):
    try:  # "pid (name) state ppid ...": the name may hold spaces
      parent = int(stat.read_text().rsplit(')', 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
      continue  # the process has gone
    children[parent].append(int(stat.parent.name))
  tree, pending = [], [root]
  while pending:
    pid = pending.pop()
    tree.append(pid)
    pending.extend(children[pid])
  return tree


def _tree_pss_kb(root: int) -> int:
  total = 0
  for pid in descendants(root):
    try:
      rollup = Path(f'/proc/{pid}/smaps_rollup').read_text()
    except OSError:
      continue
    found = re.search(r'^Pss:\s+(\d+) kB', rollup, re.MULTILINE)
    total += int(found.group(1)) if found else 0
  return total


def run_measured(command, cwd: Path, env: dict, log: Path) -> Run:
  """Runs command to completion, sampling its process tree's memory.

  The memory of the process tree is sampled every _SAMPLE_SECONDS.
  """
  start = time.monotonic()
  samples = []
  finished = threading.Event()
  with open(log, 'w') as out:
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=out,
                               stderr=subprocess.STDOUT)

    def sample():
      while not finished.wait(_SAMPLE_SECONDS):
        samples.append((time.time(), _tree_pss_kb(process.pid)))

    sampler = threading.Thread(target=sample)
    sampler.start()
    returncode = process.wait()
    finished.set()
    sampler.join()
  peak_kb = max((kb for _, kb in samples), default=0)
  return Run(time.monotonic() - start, peak_kb / 1024, returncode, samples)


def newest_run_executions(metadata_db: Path) -> dict:
  """Short component type name -> (start, end) seconds since the epoch.

  Of the newest run in the store.
  """
  store = metadata.read_only_store(metadata_db)
  runs = store.get_contexts_by_type('pipeline_run')
  newest = max(runs, key=lambda c: c.create_time_since_epoch)
  return {execution.type.rsplit('.', 1)[-1]:
          (execution.create_time_since_epoch / 1000,
           execution.last_update_time_since_epoch / 1000)
          for execution in store.get_executions_by_context(newest.id)}


def component_seconds(executions: dict) -> Dict[str, float]:
  """Executor time per component (newest_run_executions)."""
  return {name: end - start for name, (start, end) in executions.items()}


def step_peak_memory_mb(executions: dict, run: Run) -> Dict[str, float]:
  """The run's peak memory while each step ran (newest_run_executions).

  Steps that run side by side share their figures; a step shorter than a
  sample may have none.
  """
  peaks = {}
  for name, (start, end) in executions.items():
    during = [kb for at, kb in run.memory_samples if start <= at <= end]
    if during:
      peaks[name] = max(during) / 1024
  return peaks


def _output_uri(store, execution_type_suffix: str, output_key: str) -> str:
  executions = [e for e in store.get_executions()
                if e.type.endswith(execution_type_suffix)]
  newest = max(executions, key=lambda e: e.create_time_since_epoch)
  events = store.get_events_by_execution_ids([newest.id])
  ids = [e.artifact_id for e in events
         if e.type == metadata_store_pb2.Event.OUTPUT and any(
             step.key == output_key for step in e.path.steps)]
  return store.get_artifacts_by_id(ids)[0].uri


def _big_tips(serialized):
  """1 where the tip is above 20 % of the fare in whole cents, else 0.

  A missing fare or tip is no big tip. Cents are rounded half to even from
  the examples' float32 values widened to float64, as Python's round().
  """
  import tensorflow as tf  # pylint: disable=g-import-not-at-top

  cents = {}
  for key in ('fare', 'tips'):
    values = tf.io.parse_example(
        serialized, {key: tf.io.RaggedFeature(tf.float32)})[key]
    dollars = values.to_tensor(default_value=float('nan'), shape=[None, 1])
    cents[key] = tf.round(tf.cast(dollars[:, 0], tf.float64) * 100)
  big = cents['tips'] * 5 > cents['fare']  # False where either is NaN
  return tf.cast(big, tf.int32)


def eval_quality(metadata_db: Path, run_dir: Path) -> Dict[str, float]:
  """Accuracy and AUC of the newest trained model on the newest eval split.

  Accuracy at threshold 0.5 and AUC, on the eval split of the newest
  ExampleGen output, through the model's serving signature (raw tf.Examples
  in, probability out), the same code for both pipelines. Relative artifact
  URIs are relative to run_dir, where the run started.
  """
  import tensorflow as tf  # pylint: disable=g-import-not-at-top

  store = metadata.read_only_store(metadata_db)
  model_dir = run_dir / _output_uri(store, 'Trainer', 'model') / 'Format-Serving'
  examples = run_dir / _output_uri(store, 'ExampleGen', 'examples') / 'Split-eval'
  serve = tf.saved_model.load(str(model_dir)).signatures['serving_default']
  dataset = tf.data.TFRecordDataset(
      [str(p) for p in sorted(examples.glob('*.gz'))], compression_type='GZIP')
  accuracy = tf.keras.metrics.BinaryAccuracy()
  auc = tf.keras.metrics.AUC(num_thresholds=2000)
  for batch in dataset.batch(_BATCH):
    labels = _big_tips(batch)
    [scores] = serve(examples=batch).values()
    scores = tf.reshape(scores, [-1])
    accuracy.update_state(labels, scores)
    auc.update_state(labels, scores)
  return {'accuracy': float(accuracy.result()), 'auc': float(auc.result())}


def serving_latency(metadata_db: Path, run_dir: Path, work: Path) -> dict:
  """Request latency of the newest trained model, per signature and size.

  The model is loaded as a model server loads it (serving_check/probe.py),
  in a process pinned to one core, and sent rows of the eval split. The
  result: signature -> request size -> p50/p99/rows per s.
  """
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from models import signatures  # pylint: disable=g-import-not-at-top
  from models.model import PREDICTION_KEY  # pylint: disable=g-import-not-at-top
  from pipeline import configs  # pylint: disable=g-import-not-at-top

  store = metadata.read_only_store(metadata_db)
  model_dir = run_dir / _output_uri(store, 'Trainer', 'model') / 'Format-Serving'
  examples = run_dir / _output_uri(store, 'ExampleGen', 'examples') / 'Split-eval'
  out = work / 'latency.json'
  dataset = tf.data.TFRecordDataset(
      [str(p) for p in sorted(examples.glob('*.gz'))], compression_type='GZIP')
  rows = [record.numpy() for record in dataset.take(configs.SERVING_CHECK_ROWS)]
  subprocess.run(
      ['taskset', '-c', '0', sys.executable, '-m', probe_process.MODULE],
      input=probe_process.arguments(
          str(model_dir), rows, str(out), signatures.SERVING_DEFAULT,
          signatures.SERVING_RAW, PREDICTION_KEY),
      check=True, cwd=configs.PROJECT_ROOT, capture_output=True, text=True)
  return json.loads(out.read_text())['latency']
