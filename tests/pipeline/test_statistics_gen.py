"""StatisticsGen without Beam against TFX's StatisticsGen, and the gate.

Both executors read one Examples artifact: the bundled rows and each damaged
copy of them that the gate must stop (tests/damaged_data.py), one split
each. Every statistic of every feature is compared, and the data gate's
decision on each damaged copy is the same on both.
"""

import re

from google.protobuf import json_format
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_data_validation as tfdv
from tfx.components.statistics_gen import executor as tfx_executor
from tfx.types import artifact_utils
from tfx.types import standard_artifacts
from tfx.types import standard_component_specs
from tensorflow_metadata.proto.v0 import statistics_pb2

import damaged_data
import helpers
from pipeline import configs
from pipeline.components.data_gate import checks
from pipeline.components.data_gate import component as data_gate
from pipeline.in_process import record_batches
from pipeline.in_process.statistics_gen import executor

# Quantiles come from sketches, approximate by design, and merged in a
# different order here: a quantile (the median, a bucket's edges) may move
# within this share of the feature's range, and a bucket's count by this
# share of the rows. Every other figure is exact (sums to float rounding).
_QUANTILE_TOLERANCE = 1e-3
_COUNT_TOLERANCE = 1e-3

_CLEAN = 'clean'
_DAMAGED = {case: case.replace(' ', '_') for case in damaged_data.GATE_CASES}
# A column past the top-k sketch's 1,024 counters, and the same drifted.
_WIDE, _WIDER = 'wide', 'wide_drifted'
# Enough rows for every damaged copy to show its damage.
_DAMAGED_ROWS = 5000


def _write_examples(folder, rows, files=2):
  """Gzipped TFRecord files of the rows' tf.Examples, label included."""
  folder.mkdir(parents=True)
  spec = helpers.raw_feature_spec()
  for index, part in enumerate(np.array_split(np.array(rows), files)):
    with tf.io.TFRecordWriter(str(folder / f'part-{index}.gz'),
                              options='GZIP') as writer:
      for row in part:
        writer.write(helpers.to_example(row, spec, with_label=True))
  return str(folder / 'part-*.gz')


def _by_feature(stats):
  """Feature path -> its statistics.

  The order of features is not part of what the proto means.
  """
  return {tuple(feature.path.step): feature for feature in stats.features}


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
  leaves = {'num_examples': stats.num_examples}
  for name, feature in _by_feature(stats).items():
    leaves.update(walk(json_format.MessageToDict(feature), '/'.join(name)))
  return leaves


def _wide(rows, shift, seed=0):
  """The rows with a long-tailed draw of 3,000 companies from `shift` on."""
  ids = np.random.default_rng(seed).zipf(1.3, len(rows)) % 3000 + shift
  return [dict(row, company=f'c{i}') for row, i in zip(rows, ids)]


@pytest.fixture(scope='module')
def both(tmp_path_factory, bundled_rows):
  """split -> (in-process, TFX's StatisticsGen) statistics of one split.

  The bundled rows are the 'clean' split, in more than one record batch;
  each damaged copy of their first rows is a split of its own, and so are
  the wide copies.
  """
  assert len(bundled_rows) > record_batches.BATCH_ROWS
  some_rows = bundled_rows[:_DAMAGED_ROWS]
  splits = {_CLEAN: bundled_rows,
            **{split: damaged_data.damaged(
                some_rows, damaged_data.GATE_CASES[case][0])
               for case, split in _DAMAGED.items()},
            _WIDE: _wide(bundled_rows, 0),
            _WIDER: _wide(bundled_rows, 700, seed=1)}
  root = tmp_path_factory.mktemp('examples')
  examples = helpers.artifact(standard_artifacts.Examples, root)
  examples.split_names = artifact_utils.encode_split_names(list(splits))
  for split, rows in splits.items():
    _write_examples(root / f'Split-{split}', rows)
  outputs = []
  for name, engine in (('in_process', executor.Executor),
                       ('tfx', tfx_executor.Executor)):
    statistics = helpers.artifact(standard_artifacts.ExampleStatistics,
                                  root.parent / name)
    engine().Do({standard_component_specs.EXAMPLES_KEY: [examples]},
                {standard_component_specs.STATISTICS_KEY: [statistics]},
                {standard_component_specs.EXCLUDE_SPLITS_KEY: '[]'})
    outputs.append(statistics)
  return {split: tuple(data_gate.split_statistics(s, split) for s in outputs)
          for split in splits}


def test_every_exact_figure_is_tfxs(both):
  for split in [_CLEAN, *_DAMAGED.values()]:
    mine, tfxs = both[split]
    ours, theirs = (_numbers(stats, skip={'histograms', 'median'})
                    for stats in (mine, tfxs))
    assert ours.keys() == theirs.keys(), split
    for path, value in theirs.items():
      if isinstance(value, (int, float)):
        assert ours[path] == pytest.approx(value, rel=1e-9), (split, path)
      else:
        assert ours[path] == value, (split, path)


def test_medians_and_histograms_agree_within_the_sketchs_error(both):
  for split, (mine, tfxs) in both.items():
    ours = _by_feature(mine)
    for name, theirs in _by_feature(tfxs).items():
      if not theirs.HasField('num_stats'):
        continue
      numbers, rows = theirs.num_stats, tfxs.num_examples
      width = _QUANTILE_TOLERANCE * (numbers.max - numbers.min)
      where = (split, name)
      assert ours[name].num_stats.median == pytest.approx(
          numbers.median, abs=width), where
      assert [h.type for h in ours[name].num_stats.histograms] == [
          h.type for h in numbers.histograms], where
      for a, b in zip(ours[name].num_stats.histograms, numbers.histograms):
        assert (a.num_nan, a.num_undefined) == (b.num_nan, b.num_undefined)
        assert len(a.buckets) == len(b.buckets), where
        for x, y in zip(a.buckets, b.buckets):
          assert x.low_value == pytest.approx(y.low_value, abs=width), where
          assert x.high_value == pytest.approx(y.high_value, abs=width), where
          assert x.sample_count == pytest.approx(
              y.sample_count, abs=_COUNT_TOLERANCE * rows), where


def _decision(stats, baseline) -> list:
  """The data gate's problems with the new data, from its statistics.

  As the pipeline finds them: ExampleValidator's anomalies, then the
  gate's own checks, both splits being the same data here.
  """
  schema = helpers.curated_schema()
  anomalies = tfdv.validate_statistics(
      statistics_pb2.DatasetFeatureStatisticsList(datasets=[stats]), schema)
  return [str(problem) for problem in (
      checks.schema_problems(anomalies, configs.TRAIN_SPLIT) +
      data_gate.statistics_problems(
          {configs.TRAIN_SPLIT: stats, configs.EVAL_SPLIT: stats}, schema,
          baseline, configs.DATA_GATE))]


def test_the_gate_decides_the_same_on_every_damaged_copy(both):
  mine, tfxs = both[_CLEAN]
  assert _decision(mine, mine) == _decision(tfxs, tfxs) == []
  for case, split in _DAMAGED.items():
    ours, theirs = (_decision(new, old)
                    for new, old in zip(both[split], both[_CLEAN]))
    # The same problems, named alike; figures read off sketches may differ.
    assert [p.split(':')[:2] for p in ours] == [
        p.split(':')[:2] for p in theirs], case
    _, reason = damaged_data.GATE_CASES[case]
    for found in (ours, theirs):
      assert any(re.search(reason, problem) for problem in found), (case,
                                                                    found)


def test_past_the_top_k_sketch_the_gate_decides_the_same(both):
  """The gate decides alike on a column wider than the top-k sketch.

  The in-process path counts values with TFDV's top-k sketch (1,024
  counters), TFX's StatisticsGen exactly: on a column of ~1,700 distinct
  values the string checks find the same problems. The L-infinity distance
  itself differs by the sketch's error (0.257 against 0.268 here), so a
  column this wide that drifts to within about 0.02 of the threshold may be
  judged differently.
  """
  schema = helpers.curated_schema()
  wide = checks.feature_stats(both[_WIDE][1], 'company')
  assert wide.string_stats.unique > 1024
  problems = [
      checks.drift_problems(new, old, schema, configs.DATA_GATE) +
      checks.vanished_problems(new, old, schema, configs.DATA_GATE)
      for new, old in zip(both[_WIDER], both[_WIDE])]
  assert [[p.key for p in found] for found in problems] == [
      ['company:drift']] * 2
