"""The data gate's checks of new data.

New data against the schema, against itself, and against the data the
serving model was trained on.

Each check returns Problems; a problem whose `key` is in the thresholds'
allowlist is tolerated. Statistics are TFDV's, one split's dataset.
"""

import dataclasses
import math
from typing import Iterable, List, Optional

import tensorflow_data_validation as tfdv
from tensorflow_metadata.proto.v0 import anomalies_pb2
from tensorflow_metadata.proto.v0 import schema_pb2
from tensorflow_metadata.proto.v0 import statistics_pb2

from models import features
from pipeline import configs

_Stats = statistics_pb2.DatasetFeatureStatistics
_DRIFT = (anomalies_pb2.AnomalyInfo.COMPARATOR_L_INFTY_HIGH,
          anomalies_pb2.AnomalyInfo.COMPARATOR_JENSEN_SHANNON_DIVERGENCE_HIGH)


@dataclasses.dataclass(frozen=True)
class Problem:
  feature: str  # '*' for the dataset as a whole
  check: str  # schema, nonfinite, rows, label, missing, drift, vanished
  detail: str  # what was expected and what was seen

  @property
  def key(self) -> str:
    """How the allowlist (DataGateThresholds.allowed) names it."""
    return f'{self.feature}:{self.check}'

  def __str__(self) -> str:
    return f'{self.feature}: {self.check}: {self.detail}'


def feature_stats(stats: _Stats, name: str
                   ) -> Optional[statistics_pb2.FeatureNameStatistics]:
  for feature in stats.features:
    if (feature.path.step[:1] or [feature.name]) == [name]:
      return feature
  return None


def _common(feature: statistics_pb2.FeatureNameStatistics):
  kind = feature.WhichOneof('stats')
  return getattr(feature, kind).common_stats


def missing_share(stats: _Stats, name: str) -> float:
  """Share of rows with no value for a feature (an empty cell or none)."""
  feature = feature_stats(stats, name)
  if feature is None or not stats.num_examples:
    return 1.
  # An empty CSV cell is an empty value list, which TFDV counts as present;
  # every cell holds at most one value, so values counted are rows with one.
  return 1. - _common(feature).tot_num_values / stats.num_examples


def schema_problems(anomalies: anomalies_pb2.Anomalies,
                    split: str) -> List[Problem]:
  """ExampleValidator's findings for one split."""
  found = [Problem(name, 'schema', f'{info.description} ({split} split)')
           for name, info in sorted(anomalies.anomaly_info.items())]
  if anomalies.HasField('dataset_anomaly_info'):
    found.append(Problem('*', 'schema',
                         anomalies.dataset_anomaly_info.description))
  return found


def row_problems(stats: _Stats, limits: configs.DataGateThresholds
                 ) -> List[Problem]:
  if stats.num_examples >= limits.min_rows:
    return []
  return [Problem('*', 'rows', f'expected at least {limits.min_rows} rows, '
                  f'seen {stats.num_examples}')]


def _count_at(numbers: statistics_pb2.NumericStatistics, edge: float) -> int:
  """Values equal to edge (an infinity), from the standard histogram."""
  buckets = numbers.histograms[0].buckets if numbers.histograms else []
  return round(sum(b.sample_count for b in buckets
                   if b.low_value == b.high_value == edge))


def nonfinite_problems(stats: _Stats, split: str) -> List[Problem]:
  """Numbers that are NaN or infinite.

  Nothing learns from them, and one such value distorts every mean and scale
  Transform computes.
  """
  found = []
  for feature in stats.features:
    if feature.WhichOneof('stats') != 'num_stats':
      continue
    numbers = feature.num_stats
    seen = []
    nan = numbers.histograms[0].num_nan if numbers.histograms else 0
    if nan:
      seen.append(f'{nan} NaN')
    for edge, word in ((math.inf, 'inf'), (-math.inf, '-inf')):
      if edge in (numbers.max, numbers.min):
        seen.append(f'{_count_at(numbers, edge) or "some"} {word}')
    if seen:
      name = (feature.path.step[:1] or [feature.name])[0]
      found.append(Problem(name, 'nonfinite', f'expected finite numbers; '
                           f'the {split} split holds {", ".join(seen)}'))
  return found


def label_problems(stats: _Stats, limits: configs.DataGateThresholds
                   ) -> List[Problem]:
  """Rows without a label; data from which only one class can be learned."""
  tips, fare = features.TIPS_KEY, features.FARE_KEY
  missing = missing_share(stats, tips)
  if missing > limits.max_label_missing:
    return [Problem(tips, 'label', f'expected a value in at least '
                    f'{1 - limits.max_label_missing:.0%} of rows, seen '
                    f'{1 - missing:.1%}')]
  tip_stats = feature_stats(stats, tips).num_stats
  fare_stats = feature_stats(stats, fare)
  most_fare = fare_stats.num_stats.max if fare_stats else 0.
  if tip_stats.max <= 0:
    seen = 'no rider tipped: every label is "no big tip"'
  elif tip_stats.min > most_fare / features.BIG_TIP_FRACTION_DENOMINATOR:
    seen = (f'every tip is above {1 / features.BIG_TIP_FRACTION_DENOMINATOR:.0%}'
            ' of the largest fare: every label is "big tip"')
  else:
    return []
  return [Problem(features.LABEL_KEY, 'label', f'expected both classes; {seen}')]


def missing_problems(stats: _Stats, baseline: _Stats,
                     schema: schema_pb2.Schema,
                     limits: configs.DataGateThresholds) -> List[Problem]:
  """Features far emptier than in the serving model's data."""
  found = []
  for feature in schema.feature:
    if feature.name == features.TIPS_KEY:  # label_problems covers it
      continue
    now, before = (missing_share(stats, feature.name),
                   missing_share(baseline, feature.name))
    if now - before > limits.max_missing_increase:
      found.append(Problem(feature.name, 'missing', (
          f'expected at most {before + limits.max_missing_increase:.1%} of '
          f'rows empty (the serving model\'s data: {before:.1%}), seen {now:.1%}')))
  return found


def _values(stats: _Stats, name: str) -> Optional[dict]:
  """value -> count of a string feature, if the statistics list every value."""
  feature = feature_stats(stats, name)
  if feature is None or feature.WhichOneof('stats') != 'string_stats':
    return None
  string_stats = feature.string_stats
  buckets = string_stats.rank_histogram.buckets
  if len(buckets) < string_stats.unique:
    return None
  return {b.label: b.sample_count for b in buckets}


def vanished_problems(stats: _Stats, baseline: _Stats,
                      schema: schema_pb2.Schema,
                      limits: configs.DataGateThresholds) -> List[Problem]:
  """Categories common in the serving model's data and absent now."""
  found = []
  for feature in schema.feature:
    before, now = _values(baseline, feature.name), _values(stats, feature.name)
    if before is None or now is None:
      continue
    total = sum(before.values())
    gone = sorted(value for value, count in before.items()
                  if count / total >= limits.min_vanished_share and
                  value not in now)
    if gone:
      found.append(Problem(feature.name, 'vanished', (
          f'expected every value that had at least '
          f'{limits.min_vanished_share:.0%} of the serving model\'s data; '
          f'seen none of: {", ".join(gone)}')))
  return found


def _quantile_histograms(stats: _Stats) -> _Stats:
  """A copy whose numeric features' standard histograms are quantile ones.

  TFDV's Jensen-Shannon divergence compares standard histograms: ten equal
  buckets from min to max. One outlier (a 1,700-mile trip) puts nearly every
  row in the first bucket, and two samples of the same data then differ by
  whatever their outliers do. Buckets at the deciles follow the bulk of the
  data, so the divergence measures a shift of the values.
  """
  copy = _Stats()
  copy.CopyFrom(stats)
  for feature in copy.features:
    histograms = {h.type: h for h in feature.num_stats.histograms}
    quantiles = histograms.get(statistics_pb2.Histogram.QUANTILES)
    standard = histograms.get(statistics_pb2.Histogram.STANDARD)
    if quantiles is not None and standard is not None:
      standard.ClearField('buckets')
      standard.buckets.extend(quantiles.buckets)
  return copy


def drift_problems(stats: _Stats, baseline: _Stats, schema: schema_pb2.Schema,
                   limits: configs.DataGateThresholds) -> List[Problem]:
  """TFDV's drift comparators against the serving model's data.

  L-infinity distance for string features, Jensen-Shannon divergence for
  numbers (over quantile buckets: _quantile_histograms).
  """
  with_comparators = schema_pb2.Schema()
  with_comparators.CopyFrom(schema)
  for feature in with_comparators.feature:
    if feature.name in features.PERIOD_KEYS:
      continue
    if feature.type == schema_pb2.BYTES:
      feature.drift_comparator.infinity_norm.threshold = (
          limits.max_categorical_linf)
    else:
      feature.drift_comparator.jensen_shannon_divergence.threshold = (
          limits.max_numeric_jsd)
  anomalies = tfdv.validate_statistics(
      _as_list(_quantile_histograms(stats)), with_comparators,
      previous_statistics=_as_list(_quantile_histograms(baseline)))
  return [Problem(name, 'drift', reason.description)
          for name, info in sorted(anomalies.anomaly_info.items())
          for reason in info.reason if reason.type in _DRIFT]


def _as_list(stats: _Stats) -> statistics_pb2.DatasetFeatureStatisticsList:
  return statistics_pb2.DatasetFeatureStatisticsList(datasets=[stats])


def split_tolerated(problems: Iterable[Problem],
                    limits: configs.DataGateThresholds):
  """(problems that stop the run, problems the allowlist tolerates)."""
  problems = list(problems)
  allowed = set(limits.allowed)
  return ([p for p in problems if p.key not in allowed],
          [p for p in problems if p.key in allowed])
