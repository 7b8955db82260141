"""What the Evaluator measured, read back from its output."""

from typing import Dict

import tensorflow_model_analysis as tfma

from pipeline.metrics import histogram_metrics

# Metric name in TFMA's output -> how the report names it, in report order.
REPORTED_METRICS = {
    histogram_metrics.AUCFromHistogram.DEFAULT_NAME: 'AUC',
    histogram_metrics.BinaryAccuracyFromHistogram.DEFAULT_NAME: 'accuracy',
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
