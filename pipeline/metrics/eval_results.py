"""What the Evaluator measured, read back from its output."""

from typing import Dict, List

import tensorflow_model_analysis as tfma

from pipeline.metrics import histogram_metrics

# Metric name in TFMA's output -> how the report names it, in report order.
REPORTED_METRICS = {
    histogram_metrics.AUCFromHistogram.DEFAULT_NAME: 'AUC',
    histogram_metrics.BinaryAccuracyFromHistogram.DEFAULT_NAME: 'accuracy',
}
# What the report shows per slice, in its column order.
SLICE_METRICS = {
    histogram_metrics.ExampleCountFromHistogram.DEFAULT_NAME: 'examples',
    **REPORTED_METRICS,
    histogram_metrics.PrecisionFromHistogram.DEFAULT_NAME: 'precision',
    histogram_metrics.RecallFromHistogram.DEFAULT_NAME: 'recall',
    histogram_metrics.CalibrationFromHistogram.DEFAULT_NAME: 'calibration',
}


def overall_metrics(evaluation_uri: str) -> Dict[str, Dict[str, float]]:
  """The REPORTED_METRICS of each model on the whole eval split.

  Args:
    evaluation_uri: the Evaluator's ModelEvaluation artifact.

  Returns:
    Model name -> metric name -> value. With a baseline TFMA names the
    models 'candidate' and 'baseline'; alone, ''.
  """
  models = {}
  for metrics in tfma.load_metrics(evaluation_uri):
    if metrics.slice_key.single_slice_keys:  # a slice, not the overall one
      continue
    for key_and_value in metrics.metric_keys_and_values:
      key = key_and_value.key
      if key.name in REPORTED_METRICS and not key.is_diff:
        models.setdefault(key.model_name, {})[key.name] = (
            key_and_value.value.double_value.value)
  return models


def describe_failure(failure) -> str:
  """One failed blessing check: what was seen and what was required.

  Args:
    failure: a tfma ValidationFailure.

  Returns:
    E.g. 'auc of the candidate: 0.9120, required at least 0.9300', or for a
    change threshold 'auc of the candidate minus the baseline's: -0.0040,
    required at least -1e-10'.
  """
  key = failure.metric_key
  model = key.model_name or 'model'
  what = (f"{key.name} of the {model} minus the baseline's" if key.is_diff
          else f'{key.name} of the {model}')
  threshold = failure.metric_threshold
  required = []
  if key.is_diff:
    change = threshold.change_threshold
    if change.HasField('absolute'):
      higher = change.direction == tfma.MetricDirection.HIGHER_IS_BETTER
      required.append(f'{"at least" if higher else "at most"} '
                      f'{change.absolute.value:g}')
  else:
    bounds = threshold.value_threshold
    if bounds.HasField('lower_bound'):
      required.append(f'at least {bounds.lower_bound.value:g}')
    if bounds.HasField('upper_bound'):
      required.append(f'at most {bounds.upper_bound.value:g}')
  seen = failure.metric_value.double_value.value
  return (f'{what}: {seen:.4f}, required '
          f'{" and ".join(required) or failure.message or "(see TFMA)"}')


def failed_checks(evaluation_uri: str) -> List[str]:
  """Why the Evaluator withheld its blessing.

  Args:
    evaluation_uri: the Evaluator's ModelEvaluation artifact.

  Returns:
    One line per failed threshold (describe_failure).
  """
  result = tfma.load_validation_result(evaluation_uri)
  return [
      describe_failure(failure)
      for per_slice in result.metric_validations_per_slice
      for failure in per_slice.failures
  ]
