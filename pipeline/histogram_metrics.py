"""Accuracy, precision, recall and calibration from the calibration histogram
that TFMA's AUC already computes.

TFMA's own BinaryAccuracy, Precision and Recall share a confusion-matrix
combiner at 0.5, and Calibration has a combiner of its own: each runs its
Python code on every example of every slice, as does the histogram. These
metrics add no combiner; the histogram's buckets (width 1/10,000, with
each bucket's summed labels, predictions and examples) hold all four.
A prediction counts as positive from 0.5 on; TFMA's, above 0.5. The class
names differ from TFMA's: a MetricConfig naming one of TFMA's classes gets
TFMA's, whatever its module.
"""

from typing import Optional

import tensorflow_model_analysis as tfma
from tensorflow_model_analysis.metrics import calibration_histogram
from tensorflow_model_analysis.metrics import metric_types
from tensorflow_model_analysis.metrics import metric_util

_THRESHOLD = 0.5


def _counts(histogram):
  """(true positives, false positives, true negatives, false negatives)."""
  first_positive = int(_THRESHOLD * calibration_histogram.DEFAULT_NUM_BUCKETS) + 1
  tp = fp = tn = fn = 0.
  for bucket in histogram:
    positives = bucket.weighted_labels
    negatives = bucket.weighted_examples - bucket.weighted_labels
    if bucket.bucket_id >= first_positive:
      tp, fp = tp + positives, fp + negatives
    else:
      fn, tn = fn + positives, tn + negatives
  return tp, fp, tn, fn


def _ratio(numerator: float, denominator: float) -> float:
  return numerator / denominator if denominator else float('nan')


class _FromHistogram(tfma.metrics.Metric):
  """A metric computed from the default calibration histogram."""
  DEFAULT_NAME: str

  def __init__(self, name: Optional[str] = None):
    super().__init__(
        metric_util.merge_per_key_computations(self._computations),
        name=name or self.DEFAULT_NAME)

  def _value(self, histogram) -> float:
    raise NotImplementedError

  def _computations(self, name, eval_config=None, model_name='',
                    output_name='', sub_key=None, aggregation_type=None,
                    class_weights=None, example_weighted=False):
    # The same arguments as AUC's histogram, so TFMA computes it once.
    computations = calibration_histogram.calibration_histogram(
        eval_config=eval_config, model_name=model_name,
        output_name=output_name, sub_key=sub_key,
        aggregation_type=aggregation_type, class_weights=class_weights,
        example_weighted=example_weighted)
    histogram_key = computations[-1].keys[-1]
    key = metric_types.MetricKey(
        name=name, model_name=model_name, output_name=output_name,
        sub_key=sub_key, example_weighted=example_weighted)
    computations.append(metric_types.DerivedMetricComputation(
        keys=[key],
        result=lambda metrics: {key: self._value(metrics[histogram_key])}))
    return computations


class BinaryAccuracyFromHistogram(_FromHistogram):
  DEFAULT_NAME = 'binary_accuracy'

  def _value(self, histogram) -> float:
    tp, fp, tn, fn = _counts(histogram)
    return _ratio(tp + tn, tp + fp + tn + fn)


class PrecisionFromHistogram(_FromHistogram):
  DEFAULT_NAME = 'precision'

  def _value(self, histogram) -> float:
    tp, fp, _, _ = _counts(histogram)
    return _ratio(tp, tp + fp)


class RecallFromHistogram(_FromHistogram):
  DEFAULT_NAME = 'recall'

  def _value(self, histogram) -> float:
    tp, _, _, fn = _counts(histogram)
    return _ratio(tp, tp + fn)


class CalibrationFromHistogram(_FromHistogram):
  """Sum of predictions over sum of labels (1.0: calibrated on average)."""
  DEFAULT_NAME = 'calibration'

  def _value(self, histogram) -> float:
    return _ratio(sum(b.weighted_predictions for b in histogram),
                  sum(b.weighted_labels for b in histogram))
