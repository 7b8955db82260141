"""A failed blessing check reads as what was seen and what was required."""

import tensorflow_model_analysis as tfma
from tensorflow_model_analysis.proto import validation_result_pb2

from pipeline.metrics import eval_results


def _failure(name, value, threshold, model='candidate', is_diff=False):
  failure = validation_result_pb2.ValidationFailure(
      metric_threshold=threshold)
  failure.metric_key.name = name
  failure.metric_key.model_name = model
  failure.metric_key.is_diff = is_diff
  failure.metric_value.double_value.value = value
  return failure


def test_a_value_threshold_names_the_model_the_value_and_the_bound():
  threshold = tfma.MetricThreshold(value_threshold=tfma.GenericValueThreshold(
      lower_bound={'value': 0.93}))
  assert eval_results.describe_failure(_failure('auc', 0.912, threshold)) == (
      'auc of the candidate: 0.9120, required at least 0.93')


def test_a_change_threshold_names_the_difference_to_the_baseline():
  threshold = tfma.MetricThreshold(change_threshold=tfma.GenericChangeThreshold(
      direction=tfma.MetricDirection.HIGHER_IS_BETTER,
      absolute={'value': -1e-10}))
  assert eval_results.describe_failure(
      _failure('auc', -0.004, threshold, is_diff=True)) == (
          "auc of the candidate minus the baseline's: -0.0040, "
          'required at least -1e-10')
