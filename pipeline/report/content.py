"""What the run report shows, read from a run's artifacts.

Both ways of writing the report fill RunInputs: the local runner from ML
Metadata (local/html_report.py), the RunReport step of a cluster run from its
input artifacts (pipeline/components/run_report/). Everything here reads
files through TensorFlow's file system, so `gs://` works as a local folder
does.
"""

import dataclasses
import os
from typing import Dict, List, Optional, Tuple

import tensorflow as tf
import tensorflow_model_analysis as tfma
from tensorflow_metadata.proto.v0 import statistics_pb2
from tfx.components.statistics_gen import stats_artifact_utils
from tfx.utils import io_utils

from pipeline import configs
from models import push_destination
from pipeline.components.data_gate import checks as gate_checks
from pipeline.metrics import eval_results
from pipeline.metrics import histogram_metrics


@dataclasses.dataclass
class NodeRun:
  node: str
  state: str  # ML Metadata's: COMPLETE, CACHED, FAILED, ...
  seconds: Optional[float] = None  # None where the orchestrator has it


@dataclasses.dataclass
class RunInputs:
  """Where a run's report reads from; None for what the run did not make."""
  run: str  # the run's id
  nodes: List[NodeRun]
  data: str  # what ExampleGen read
  push_destination: str
  hparams: dict
  code_fingerprint: str
  eval_thresholds: configs.EvalThresholds
  failure: Optional[str] = None  # why the run failed
  spans: Optional[List[int]] = None  # trained on, the last evaluated on
  statistics: Optional[str] = None  # StatisticsGen's artifact
  gate_decision: Optional[str] = None  # the DataGate's artifact
  model_run: Optional[str] = None  # the Trainer's TensorBoard logs
  evaluation: Optional[str] = None  # the Evaluator's ModelEvaluation
  blessed: Optional[bool] = None
  serving_check: Optional[str] = None  # the ServingCheck's InfraBlessing
  pushed_version: Optional[str] = None  # the version this run pushed


_Stats = statistics_pb2.DatasetFeatureStatistics


def split_statistics(statistics_uri: str) -> Dict[str, _Stats]:
  """Split name -> StatisticsGen's statistics of it."""
  found = {}
  for entry in sorted(tf.io.gfile.listdir(statistics_uri)):
    name = entry.rstrip('/')
    if name.startswith('Split-'):
      found[name[len('Split-'):]] = (
          statistics_pb2.DatasetFeatureStatisticsList.FromString(
              io_utils.read_bytes_file(os.path.join(
                  statistics_uri, name, stats_artifact_utils.BINARY_PB_BASENAME))
          ).datasets[0])
  return found


@dataclasses.dataclass
class FeatureView:
  name: str
  kind: str  # 'number' or 'string'
  missing: float  # share of rows without a value
  missing_before: Optional[float]  # the same in the serving model's data
  labels: List[str]  # the distribution's buckets or top values
  shares: List[float]  # this run's share of rows in each
  shares_before: Optional[List[float]]  # the serving model's data's


def _quantile_buckets(feature) -> list:
  for histogram in feature.num_stats.histograms:
    if histogram.type == statistics_pb2.Histogram.QUANTILES:
      return list(histogram.buckets)
  return []


def _share_below(buckets, value: float) -> float:
  """Share of rows below value, from equal-count quantile buckets.

  Rows are taken as uniform within each bucket.
  """
  total = sum(b.sample_count for b in buckets) or 1.
  below = 0.
  for b in buckets:
    if value >= b.high_value:
      below += b.sample_count
    elif value > b.low_value:
      below += b.sample_count * (value - b.low_value) / (
          b.high_value - b.low_value)
  return below / total


def _numeric_view(feature, feature_before) -> Tuple[list, list, list]:
  """A numeric feature's distribution: bucket labels, shares, shares before.

  Buckets at the deciles of the serving model's data (or of this run's,
  before the first push): robust to outliers, and about a tenth of the
  serving data in each (less even where few values repeat), so a shift
  shows as bars of unequal height.
  """
  reference = _quantile_buckets(feature_before or feature)
  edges = sorted({reference[0].low_value} |
                 {b.high_value for b in reference}) if reference else []
  here = _quantile_buckets(feature)

  def shares(buckets):
    return [_share_below(buckets, hi) - _share_below(buckets, lo)
            for lo, hi in zip(edges, edges[1:])]

  labels = [f'{lo:.4g}' for lo in edges[:-1]]
  before = shares(_quantile_buckets(feature_before)) if feature_before else None
  return labels, shares(here) if here else [], before


def _string_view(feature, feature_before, top: int = 8):
  counts = {b.label: b.sample_count
            for b in feature.string_stats.rank_histogram.buckets}
  counts_before = ({b.label: b.sample_count
                    for b in feature_before.string_stats.rank_histogram.buckets}
                   if feature_before else None)
  ranked = sorted(counts_before or counts,
                  key=lambda v: -(counts_before or counts)[v])[:top]
  total = sum(counts.values()) or 1.
  before = None
  if counts_before is not None:
    total_before = sum(counts_before.values()) or 1.
    before = [counts_before.get(v, 0) / total_before for v in ranked]
  return ranked, [counts.get(v, 0) / total for v in ranked], before


def feature_views(stats: _Stats, before: Optional[_Stats]) -> List[FeatureView]:
  """Each feature's missing share and distribution.

  With the serving model's data beside them when there is one.
  """
  views = []
  for feature in stats.features:
    name = (feature.path.step[:1] or [feature.name])[0]
    feature_before = (gate_checks.feature_stats(before, name)
                      if before else None)
    if feature.WhichOneof('stats') == 'num_stats':
      labels, shares, shares_before = _numeric_view(feature, feature_before)
      kind = 'number'
    else:
      labels, shares, shares_before = _string_view(feature, feature_before)
      kind = 'string'
    views.append(FeatureView(
        name, kind, gate_checks.missing_share(stats, name),
        gate_checks.missing_share(before, name) if before else None,
        labels, shares, shares_before))
  return views


def baseline_statistics(decision: Optional[dict]) -> Optional[_Stats]:
  """The statistics the gate compared with, if their version still exists."""
  if not decision or not decision.get('baseline'):
    return None
  return push_destination.training_statistics(decision['baseline'])


def training_curves(model_run_uri: str) -> Dict[str, Dict[str, list]]:
  """The Trainer's TensorBoard scalars.

  Returns:
    'loss' and 'auc' -> {'train': [(step, value)], 'eval': [(step, value)]}:
    training's running value every few steps (models/trainer.py), the
    validation's at the end.
  """
  curves = {'loss': {'train': [], 'eval': []}, 'auc': {'train': [], 'eval': []}}
  tags = {f'batch_{m}': (m, 'train') for m in curves}
  tags.update({f'evaluation_{m}_vs_iterations': (m, 'eval') for m in curves})
  for folder in ('train', 'validation'):
    pattern = os.path.join(model_run_uri, folder, 'events.out.tfevents.*')
    for path in sorted(tf.io.gfile.glob(pattern)):
      for record in tf.data.TFRecordDataset(path):
        event = tf.compat.v1.Event.FromString(record.numpy())
        for value in event.summary.value:
          if value.tag in tags:
            metric, split = tags[value.tag]
            curves[metric][split].append(
                (event.step, float(tf.make_ndarray(value.tensor))))
  return curves


def slice_metrics(evaluation_uri: str) -> List[Tuple[str, Dict[str, dict]]]:
  """(slice, model -> metric -> value) for the overall slice then each slice.

  The metrics are those in eval_results.SLICE_METRICS.
  """
  rows = []
  for metrics in tfma.load_metrics(evaluation_uri):
    keys = metrics.slice_key.single_slice_keys
    name = ', '.join(
        f'{k.column} = {getattr(k, k.WhichOneof("kind"))!s}'.replace("b'", "'")
        for k in keys) or 'overall'
    models: Dict[str, dict] = {}
    for key_and_value in metrics.metric_keys_and_values:
      key = key_and_value.key
      if key.name in eval_results.SLICE_METRICS and not key.is_diff:
        models.setdefault(key.model_name or 'model', {})[key.name] = (
            key_and_value.value.double_value.value)
    rows.append((name, models))

  def order(row):
    column, _, value = row[0].partition(' = ')
    number = value.lstrip('-').replace('.', '', 1).isdigit()
    return (row[0] != 'overall', column, not number,
            float(value) if number else 0., value)

  return sorted(rows, key=order)


def calibration(evaluation_uri: str, bins: int = 10) -> Dict[str, list]:
  """Model -> [(mean prediction, mean label)] per tenth of predictions.

  From the Evaluator's calibration plot on the overall slice.
  """
  found = {}
  for plots in tfma.load_plots(evaluation_uri):
    if plots.slice_key.single_slice_keys:
      continue
    for key_and_value in plots.plot_keys_and_values:
      model = key_and_value.key.model_name or 'model'
      sums = [[0., 0., 0.] for _ in range(bins)]
      for bucket in key_and_value.value.calibration_histogram_buckets.buckets:
        weight = bucket.num_weighted_examples.value
        if not weight:
          continue
        mean_prediction = bucket.total_weighted_refined_prediction.value / weight
        slot = sums[min(bins - 1, max(0, int(mean_prediction * bins)))]
        slot[0] += bucket.total_weighted_refined_prediction.value
        slot[1] += bucket.total_weighted_label.value
        slot[2] += weight
      found[model] = [(p / w, l / w) for p, l, w in sums if w]
  return found


def history(destination: str) -> List[Tuple[int, str, Optional[float]]]:
  """(version, pushed at, the pushed model's eval AUC) for each version.

  Oldest first, from the records the Pusher wrote.
  """
  auc = histogram_metrics.AUCFromHistogram.DEFAULT_NAME
  rows = []
  for number in reversed(push_destination.versions(destination)):
    record = push_destination.version_record(
        os.path.join(destination, str(number)))
    rows.append((number, record.get('pushed_at', ''),
                 push_destination.record_metrics(record).get(auc)))
  return rows
