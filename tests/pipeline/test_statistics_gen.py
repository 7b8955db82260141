"""StatisticsGen without Beam against TFDV's Beam pipeline.

It writes the statistics TFDV's Beam pipeline computes.
"""

from google.protobuf import json_format
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_data_validation as tfdv
from tfx_bsl.tfxio import tf_example_record

import helpers
from pipeline import configs
from pipeline.components.data_gate import checks
from pipeline.in_process import record_batches
from pipeline.in_process.statistics_gen import executor

# Quantiles come from sketches, approximate by design, and merged in a
# different order here; their boundaries may move within this share of the
# feature's range. Every other figure is exact (sums to float rounding).
_QUANTILE_TOLERANCE = 1e-3


def _write_examples(folder, rows):
  """Two gzipped TFRecord files of the rows' tf.Examples."""
  spec = helpers.raw_feature_spec()
  half = len(rows) // 2
  for index, part in enumerate((rows[:half], rows[half:])):
    with tf.io.TFRecordWriter(str(folder / f'part-{index}.gz'),
                              options='GZIP') as writer:
      for row in part:
        writer.write(helpers.to_example(row, spec))
  return str(folder / 'part-*.gz')


def _by_feature(stats):
  """Feature path -> its statistics.

  The order of features is not part of what the proto means.
  """
  dataset = stats.datasets[0]
  return {tuple(feature.path.step): feature for feature in dataset.features}


def _numbers(stats, skip):
  """(path, leaf) of every feature's statistics and the dataset's count.

  Except under keys in skip.
  """
  def walk(node, path):
    if isinstance(node, dict):
      for key, value in node.items():
        if key not in skip:
          yield from walk(value, f'{path}.{key}')
    elif isinstance(node, list):
      for index, value in enumerate(node):
        yield from walk(value, f'{path}[{index}]')
    else:
      yield path, node
  leaves = {'num_examples': stats.datasets[0].num_examples}
  for name, feature in _by_feature(stats).items():
    leaves.update(walk(json_format.MessageToDict(feature), '/'.join(name)))
  return leaves


@pytest.fixture(scope='module')
def both(tmp_path_factory, bundled_rows):
  """(in-memory, Beam) statistics of every bundled row.

  The bundled rows are more than one record batch holds.
  """
  assert len(bundled_rows) > record_batches.BATCH_ROWS
  pattern = _write_examples(tmp_path_factory.mktemp('examples'), bundled_rows)
  return (executor.split_statistics(
      tf_example_record.TFExampleRecord(pattern)),
          tfdv.generate_statistics_from_tfrecord(pattern))


def test_every_figure_but_the_quantiles_is_tfdvs(both):
  mine, tfdvs = (_numbers(stats, skip={'histograms', 'median'})
                 for stats in both)
  assert mine.keys() == tfdvs.keys()
  for path, value in tfdvs.items():
    if isinstance(value, (int, float)):
      assert mine[path] == pytest.approx(value, rel=1e-9), path
    else:
      assert mine[path] == value, path


def test_the_quantiles_agree_within_the_sketchs_error(both):
  mine, tfdvs = (_by_feature(stats) for stats in both)
  assert mine.keys() == tfdvs.keys()
  for name, theirs in tfdvs.items():
    ours = mine[name]
    if not theirs.HasField('num_stats'):
      continue
    span = theirs.num_stats.max - theirs.num_stats.min
    [our_quantiles] = [h for h in ours.num_stats.histograms
                       if h.type == h.QUANTILES]
    [their_quantiles] = [h for h in theirs.num_stats.histograms
                         if h.type == h.QUANTILES]
    for a, b in zip(our_quantiles.buckets, their_quantiles.buckets):
      assert a.low_value == pytest.approx(
          b.low_value, abs=_QUANTILE_TOLERANCE * span), name


def test_past_the_top_k_sketch_the_gate_decides_the_same(tmp_path,
                                                         bundled_rows):
  """The in-process path counts values with TFDV's top-k sketch (1,024
  counters), TFX's Beam StatisticsGen exactly: on a column of ~1,700
  distinct values the data gate's string checks decide alike (the same
  problems); the L-infinity distance itself differs by the sketch's error
  (0.261 against 0.272 here), so a column this wide that drifts to within
  about 0.02 of the threshold may be judged differently."""
  rng = np.random.default_rng(0)

  def stats_of(name, shift):
    ids = rng.zipf(1.3, len(bundled_rows)) % 3000 + shift
    rows = [dict(row, company=f'c{i}') for row, i in zip(bundled_rows, ids)]
    folder = tmp_path / name
    folder.mkdir()
    pattern = _write_examples(folder, rows)
    return (executor.split_statistics(
        tf_example_record.TFExampleRecord(pattern)).datasets[0],
            tfdv.generate_statistics_from_tfrecord(pattern).datasets[0])

  schema = helpers.curated_schema()
  baseline, shifted = stats_of('baseline', 0), stats_of('shifted', 700)
  assert checks.feature_stats(baseline[1], 'company').string_stats.unique > (
      1024)
  decisions = [
      [p.key for p in checks.drift_problems(new, old, schema,
                                            configs.DATA_GATE) +
       checks.vanished_problems(new, old, schema, configs.DATA_GATE)]
      for new, old in zip(shifted, baseline)]
  assert decisions[0] == decisions[1] == ['company:drift']
