"""The Evaluator's metrics, all derived from one histogram of predictions.

TFMA's own metrics run its generic per-example code (label and prediction
look-up for every kind of model, multi-class flattening, fractional labels)
for each example in each slice; with AUC, the calibration plot, accuracy and
the example count that was most of the Evaluator's time. Here a single
combiner bins each example's probability into 10,000 buckets, summing labels,
probabilities and examples per bucket as TFMA's calibration histogram does,
with a few float operations; every metric below is computed from the buckets.

They are for one binary classifier output: a label in [0, 1] and one
probability per example, unweighted; anything else fails naming what it got.
A prediction counts as positive from configs.DECISION_THRESHOLD on (TFMA's
classes: above it). The class names differ from TFMA's: a MetricConfig
naming one of TFMA's registered classes gets TFMA's, whatever its module.
"""

import math
from typing import Dict, List, Optional

import apache_beam as beam
import numpy as np
import tensorflow_model_analysis as tfma
from tensorflow_model_analysis.metrics import calibration_histogram
from tensorflow_model_analysis.metrics import metric_types
from tensorflow_model_analysis.metrics import metric_util
from tensorflow_model_analysis.proto import metrics_for_slice_pb2

from pipeline import configs

_NUM_BUCKETS = calibration_histogram.DEFAULT_NUM_BUCKETS
# Buckets from this one on hold positives (at or above the threshold).
_FIRST_POSITIVE_BUCKET = int(configs.DECISION_THRESHOLD * _NUM_BUCKETS) + 1
# TFMA's calibration plot's lower edges: below 0, 1,000 buckets over [0, 1),
# then 1 and above.
_PLOT_THRESHOLDS = [float('-inf')] + [i / 1000 for i in range(1001)]
_HISTOGRAM_NAME = '_prediction_histogram'  # '_': TFMA does not output it
Histogram = List[calibration_histogram.Bucket]
# Dense form of a histogram: row 0 sums labels, row 1 probabilities, row 2
# counts examples; column i is bucket i.
_LABELS, _PREDICTIONS, _EXAMPLES = range(3)


def histogram_key(model_name: str = '',
                  output_name: str = '') -> metric_types.PlotKey:
  """Where TFMA's metrics dict holds a model's prediction histogram."""
  return metric_types.PlotKey(name=_HISTOGRAM_NAME, model_name=model_name,
                              output_name=output_name)


def _error(model_name: str, problem: str) -> ValueError:
  return ValueError(f'{__name__} (model {model_name or "(default)"}) '
                    f'{problem}')


def _bucket_id(prediction: float) -> int:
  """The histogram bucket of one prediction.

  Bucket 0 holds predictions below 0, the last one those of 1 and above.
  (_bucket_ids is the same for arrays; per example, numpy costs 10x more.)
  """
  return min(max(math.trunc(min(max(prediction, -1.), 2.) * _NUM_BUCKETS) + 1,
                 0), _NUM_BUCKETS + 1)


def _bucket_ids(predictions: np.ndarray) -> np.ndarray:
  return (np.trunc(np.clip(predictions, -1., 2.) * _NUM_BUCKETS).astype(
      np.int64) + 1).clip(0, _NUM_BUCKETS + 1)


def empty_histogram() -> np.ndarray:
  """A histogram in dense form, for add_examples and to_histogram."""
  return np.zeros((3, _NUM_BUCKETS + 2))


def add_examples(dense: np.ndarray, labels: np.ndarray,
                 predictions: np.ndarray, model_name: str = '') -> None:
  """Adds a batch of examples to a dense histogram, in place.

  Args:
    dense: from empty_histogram.
    labels: one label per example, in [0, 1].
    predictions: one probability per example, in the labels' order.
    model_name: the model's name in TFMA's config, for errors.

  Raises:
    ValueError: a label outside [0, 1], or a NaN prediction.
  """
  labels = labels.astype(np.float64)
  predictions = predictions.astype(np.float64)
  outside = (labels < 0.) | (labels > 1.) | np.isnan(labels)
  if outside.any():
    raise _error(model_name,
                 f'needs labels in [0, 1], got {labels[outside][0]}')
  if np.isnan(predictions).any():
    raise _error(model_name, 'got a NaN prediction')
  ids = _bucket_ids(predictions)
  for row, weights in ((_LABELS, labels), (_PREDICTIONS, predictions),
                       (_EXAMPLES, None)):
    dense[row] += np.bincount(ids, weights, minlength=dense.shape[1])


def to_histogram(dense: np.ndarray) -> Histogram:
  """The histogram TFMA's metrics read, from its dense form."""
  return [
      calibration_histogram.Bucket(int(i), *(float(x) for x in dense[:, i]))
      for i in np.flatnonzero(dense[_EXAMPLES])
  ]


class _HistogramCombiner(beam.CombineFn):
  """Bucket id -> [sum of labels, sum of probabilities, examples]."""

  def __init__(self, key: metric_types.PlotKey):
    self._key = key
    # StandardMetricInputs look-ups skip a level when given None.
    self._model_name = key.model_name or None
    self._output_name = key.output_name or None

  def _single_value(self, value, what: str) -> float:
    try:
      return value.item()
    except (AttributeError, ValueError):
      raise _error(self._key.model_name,
                   f'needs one {what} per example, got {value!r}') from None

  def create_accumulator(self) -> Dict[int, list]:
    return {}

  def add_input(self, accumulator, element):
    label = self._single_value(
        element.get_labels(self._model_name, self._output_name), 'label')
    prediction = self._single_value(
        element.get_predictions(self._model_name, self._output_name),
        'prediction')
    if not 0. <= label <= 1.:
      raise _error(self._key.model_name, f'needs labels in [0, 1], got {label}')
    if prediction != prediction:
      raise _error(self._key.model_name, 'got a NaN prediction')
    bucket_id = _bucket_id(prediction)
    bucket = accumulator.get(bucket_id)
    if bucket is None:
      accumulator[bucket_id] = [label, prediction, 1.]
    else:
      bucket[0] += label
      bucket[1] += prediction
      bucket[2] += 1.
    return accumulator

  def merge_accumulators(self, accumulators):
    accumulators = iter(accumulators)
    result = next(accumulators)
    for accumulator in accumulators:
      for bucket_id, sums in accumulator.items():
        bucket = result.setdefault(bucket_id, [0., 0., 0.])
        for i, value in enumerate(sums):
          bucket[i] += value
    return result

  def extract_output(self, accumulator):
    return {
        self._key: [
            calibration_histogram.Bucket(bucket_id, *accumulator[bucket_id])
            for bucket_id in sorted(accumulator)
        ]
    }


def _counts(histogram: Histogram):
  """(true positives, false positives, true negatives, false negatives)."""
  tp = fp = tn = fn = 0.
  for bucket in histogram:
    positives = bucket.weighted_labels
    negatives = bucket.weighted_examples - bucket.weighted_labels
    if bucket.bucket_id >= _FIRST_POSITIVE_BUCKET:
      tp, fp = tp + positives, fp + negatives
    else:
      fn, tn = fn + positives, tn + negatives
  return tp, fp, tn, fn


def _ratio(numerator: float, denominator: float) -> float:
  return numerator / denominator if denominator else float('nan')


class _FromHistogram(tfma.metrics.Metric):
  """A metric or plot computed from the prediction histogram."""
  DEFAULT_NAME: str
  KEY_TYPE = metric_types.MetricKey

  def __init__(self, name: Optional[str] = None):
    super().__init__(
        metric_util.merge_per_key_computations(self._computations),
        name=name or self.DEFAULT_NAME)

  def _value(self, histogram: Histogram):
    raise NotImplementedError

  def _computations(self, name, eval_config=None, model_name='',
                    output_name='', sub_key=None, aggregation_type=None,
                    class_weights=None, example_weighted=False):
    del eval_config, class_weights  # one binary output: nothing to weigh
    if sub_key or aggregation_type or example_weighted:
      raise ValueError(
          f'{type(self).__name__} is for an unweighted binary classifier: '
          f'sub_key={sub_key}, aggregation_type={aggregation_type}, '
          f'example_weighted={example_weighted} are not supported')
    # Equal keys and combiner name: TFMA computes the histogram once for all.
    histogram = histogram_key(model_name, output_name)
    key = self.KEY_TYPE(
        name=name, model_name=model_name, output_name=output_name)
    return [
        metric_types.MetricComputation(
            keys=[histogram], preprocessors=None,
            combiner=_HistogramCombiner(histogram)),
        metric_types.DerivedMetricComputation(
            keys=[key],
            result=lambda metrics: {key: self._value(metrics[histogram])}),
    ]


class ExampleCountFromHistogram(_FromHistogram):
  DEFAULT_NAME = 'example_count'

  def _value(self, histogram: Histogram) -> float:
    return sum(bucket.weighted_examples for bucket in histogram)


class AUCFromHistogram(_FromHistogram):
  """Area under the ROC curve, bucket by bucket; ties count half a pair."""
  DEFAULT_NAME = 'auc'

  def _value(self, histogram: Histogram) -> float:
    tp = fp = area = 0.
    for bucket in reversed(histogram):
      positives = bucket.weighted_labels
      negatives = bucket.weighted_examples - positives
      area += negatives * (tp + positives / 2)
      tp, fp = tp + positives, fp + negatives
    return _ratio(area, tp * fp)


class BinaryAccuracyFromHistogram(_FromHistogram):
  DEFAULT_NAME = 'binary_accuracy'

  def _value(self, histogram: Histogram) -> float:
    tp, fp, tn, fn = _counts(histogram)
    return _ratio(tp + tn, tp + fp + tn + fn)


class PrecisionFromHistogram(_FromHistogram):
  DEFAULT_NAME = 'precision'

  def _value(self, histogram: Histogram) -> float:
    tp, fp, _, _ = _counts(histogram)
    return _ratio(tp, tp + fp)


class RecallFromHistogram(_FromHistogram):
  DEFAULT_NAME = 'recall'

  def _value(self, histogram: Histogram) -> float:
    tp, _, _, fn = _counts(histogram)
    return _ratio(tp, tp + fn)


class CalibrationFromHistogram(_FromHistogram):
  """Sum of predictions over sum of labels (1.0: calibrated on average)."""
  DEFAULT_NAME = 'calibration'

  def _value(self, histogram: Histogram) -> float:
    return _ratio(sum(b.weighted_predictions for b in histogram),
                  sum(b.weighted_labels for b in histogram))


class CalibrationPlotFromHistogram(_FromHistogram):
  """TFMA's calibration plot: 1,000 buckets of mean label and prediction."""
  DEFAULT_NAME = 'calibration_plot'
  KEY_TYPE = metric_types.PlotKey

  def _value(self, histogram: Histogram):
    plot = metrics_for_slice_pb2.CalibrationHistogramBuckets()
    for bucket, lower, upper in zip(
        calibration_histogram.rebin(_PLOT_THRESHOLDS, histogram),
        _PLOT_THRESHOLDS, _PLOT_THRESHOLDS[1:] + [float('inf')]):
      plot.buckets.add(
          lower_threshold_inclusive=lower,
          upper_threshold_exclusive=upper,
          num_weighted_examples={'value': bucket.weighted_examples},
          total_weighted_label={'value': bucket.weighted_labels},
          total_weighted_refined_prediction={
              'value': bucket.weighted_predictions})
    return plot


def is_histogram_metric(metric: tfma.MetricConfig) -> bool:
  """Whether a MetricConfig names one of this module's metrics."""
  metric_class = globals().get(metric.class_name)
  return (metric.module == __name__ and isinstance(metric_class, type) and
          issubclass(metric_class, _FromHistogram))
