"""Retraining on spans through the real local pipeline.

A window of spans, evaluation on the newest, nothing to do without a new
span, backfills.
"""

import dataclasses
import datetime
import logging
from pathlib import Path

from absl import logging as absl_logging
import pytest
import tensorflow as tf

import helpers
from local import metadata
from local import paths
from local import run_summary
from local import span_data
from models import features
from models import push_destination

pytestmark = pytest.mark.e2e

SPAN_FILES = 'span-*/*.csv'
# Every reasonable model is blessed: these runs are about which data is
# read and what is pushed, not about model quality (half a year of trips
# trains for a minute here).
PERMISSIVE = dataclasses.replace(helpers.SMALL_DATA_THRESHOLDS, min_auc=0.8,
                                 min_accuracy=0.8, max_auc_regression=1.)


def _run(data: Path, outputs: Path, **options) -> run_summary.RunSummary:
  return helpers.run_pipeline(data, outputs, train_steps=60,
                              eval_thresholds=PERMISSIVE,
                              data_pattern=SPAN_FILES, **options)


def _years(examples_uri: str, split: str) -> set:
  """The (year, half) periods of a split's examples."""
  files = tf.io.gfile.glob(f'{examples_uri}/Split-{split}/*')
  found = set()
  for record in tf.data.TFRecordDataset(files, 'GZIP'):
    example = tf.train.Example.FromString(record.numpy())
    seconds = example.features.feature[features.TIME_KEY].int64_list.value[0]
    started = datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc)
    found.add((started.year, (started.month - 1) // 6))
  return found


def _examples_uri(outputs: Path) -> str:
  """The newest ExampleGen output of a local run."""
  root = paths.LocalPaths(outputs).pipeline_root / 'CsvExampleGen' / 'examples'
  return str(max(root.iterdir(), key=lambda p: int(p.name)))


def _versions(outputs: Path) -> list:
  return push_destination.versions(
      str(paths.LocalPaths(outputs).serving_model_dir))


def test_a_window_of_spans_no_op_without_new_data_and_backfills(
    tmp_path, bundled_rows, caplog):
  spans = span_data.cut(bundled_rows)[:3]
  data, outputs = tmp_path / 'data', tmp_path / 'outputs'

  span_data.write_span(spans[0], data, 1)
  first = _run(data, outputs)
  assert first.spans == [1] and first.pushed_model
  assert push_destination.version_record(first.pushed_model)['spans'] == [1]

  # Span 2 arrives: trained on both, evaluated on span 2 against the model
  # trained on span 1.
  span_data.write_span(spans[1], data, 2)
  second = _run(data, outputs)
  assert second.spans == [1, 2]
  examples = _examples_uri(outputs)
  assert _years(examples, 'train') == {(2013, 0), (2013, 1)}
  assert _years(examples, 'eval') == {(2013, 1)}
  assert second.baseline_model == first.trained_model
  assert second.pushed_model
  assert push_destination.version_record(second.pushed_model)['spans'] == [1, 2]
  assert 'Trained on spans 1, 2; evaluated on span 2.' in (
      run_summary.format_summary(second))

  # The schedule fires with nothing new: one line, nothing run or written.
  runs = metadata.run_ids(str(paths.LocalPaths(outputs).metadata_path))
  versions = _versions(outputs)
  result = helpers.run_local_runner(data, outputs)
  assert result.returncode == 0, result.stderr[-2000:]
  [line] = result.stdout.splitlines()
  assert line.startswith('No new span since span 2, trained at ')
  assert metadata.run_ids(
      str(paths.LocalPaths(outputs).metadata_path)) == runs
  assert _versions(outputs) == versions

  missing = helpers.run_local_runner(data, outputs, '--span', '9')
  assert missing.returncode == 2
  assert missing.stderr.strip() == (
      f'error: no span 9 under {data} (spans: 1, 2)')

  # Span 3 arrives, but a re-run of span 2's period is asked for: the same
  # window, evaluated on span 2 again; warm-started, the Trainer begins from
  # the serving model's weights.
  span_data.write_span(spans[2], data, 3)
  serving = push_destination.latest_version_dir(
      str(paths.LocalPaths(outputs).serving_model_dir))
  caplog.set_level(logging.INFO)
  absl_logging.set_verbosity(absl_logging.INFO)  # run_fn logs through absl
  rerun = _run(data, outputs, newest_span=2, warm_start=True)
  assert rerun.spans == [1, 2]
  assert _years(_examples_uri(outputs), 'eval') == {(2013, 1)}
  [started] = [r.getMessage() for r in caplog.records
               if r.getMessage().startswith('warm-started from ')]
  assert started.startswith(f'warm-started from {serving}: ')

  # A backfill of span 1 is evaluated, but never replaces a model of newer
  # data, blessed or not.
  versions = _versions(outputs)
  backfill = _run(data, outputs, newest_span=1)
  assert backfill.spans == [1] and backfill.blessed
  assert backfill.pushed_model is None
  assert _versions(outputs) == versions
