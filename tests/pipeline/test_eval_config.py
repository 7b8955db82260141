"""The blessing thresholds as the Evaluator receives them.

The configured values, on the overall slice only.
"""

import tensorflow_model_analysis as tfma

from models import features
from pipeline import configs
from pipeline.metrics import histogram_metrics
from pipeline.metrics.eval_config import create_eval_config


def _thresholds(eval_config: tfma.EvalConfig) -> dict:
  """metric class name -> [(slicing spec, threshold)]."""
  [metrics_spec] = eval_config.metrics_specs
  return {
      metric.class_name: [(spec, t.threshold)
                          for t in metric.per_slice_thresholds
                          for spec in t.slicing_specs]
      for metric in metrics_spec.metrics if metric.per_slice_thresholds
  }


def test_thresholds_hold_the_configured_values_on_the_overall_slice():
  limits = configs.EVAL_THRESHOLDS
  found = _thresholds(
      create_eval_config(limits, features.SLICE_FEATURE_KEYS))
  [(auc_slice, auc)] = found[histogram_metrics.AUCFromHistogram.__name__]
  [(accuracy_slice, accuracy)] = found[
      histogram_metrics.BinaryAccuracyFromHistogram.__name__]
  assert len(found) == 2
  overall = tfma.SlicingSpec()
  assert auc_slice == overall and accuracy_slice == overall
  assert auc.value_threshold.lower_bound.value == limits.min_auc == 0.93
  assert auc.change_threshold.absolute.value == -limits.max_auc_regression
  assert (auc.change_threshold.direction ==
          tfma.MetricDirection.HIGHER_IS_BETTER)
  assert (accuracy.value_threshold.lower_bound.value == limits.min_accuracy
          == 0.88)
  assert not accuracy.HasField('change_threshold')
