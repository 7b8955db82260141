"""Why the Evaluator withheld its blessing, in a few lines."""

from typing import List

import tensorflow_model_analysis as tfma


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
