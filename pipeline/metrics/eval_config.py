"""The Evaluator's TFMA configuration: metrics, slices and blessing thresholds."""

from typing import List

from google.protobuf import wrappers_pb2
import tensorflow_model_analysis as tfma

from models import features
from models import signatures
from pipeline.metrics import histogram_metrics
from pipeline.configs import EvalThresholds


def _overall_threshold(lower_bound: float, max_regression: float = None):
  """A threshold on the overall slice only.

  MetricConfig.threshold would apply it to every slice, and a small slice is
  legitimately worse.
  """
  change = None
  if max_regression is not None:
    change = tfma.GenericChangeThreshold(
        direction=tfma.MetricDirection.HIGHER_IS_BETTER,
        absolute={'value': -max_regression})
  return [
      tfma.PerSliceMetricThreshold(
          slicing_specs=[tfma.SlicingSpec()],
          threshold=tfma.MetricThreshold(
              value_threshold=tfma.GenericValueThreshold(
                  lower_bound={'value': lower_bound}),
              change_threshold=change))
  ]


def _from_histogram(metric_class, **kwargs) -> tfma.MetricConfig:
  return tfma.MetricConfig(class_name=metric_class.__name__,
                           module=metric_class.__module__, **kwargs)


def create_eval_config(thresholds: EvalThresholds,
                       slice_features: List[str]) -> tfma.EvalConfig:
  """Overall and per-slice metrics; thresholds gate the overall slice.

  Args:
    thresholds: what a model must reach on the overall slice to be blessed.
    slice_features: raw features to slice by, one slicing each.

  Returns:
    The TFMA EvalConfig for the Evaluator.
  """
  return tfma.EvalConfig(
      model_specs=[
          tfma.ModelSpec(
              signature_name=signatures.SERVING_DEFAULT,
              # Named, so TFMA does not load the model once more to guess it;
              # generic: it needs the signatures, not the Keras objects.
              model_type=tfma.TF_GENERIC,
              label_key=features.transformed_name(features.LABEL_KEY),
              preprocessing_function_names=[signatures.TRANSFORM_FEATURES])
      ],
      slicing_specs=[tfma.SlicingSpec()] +
      [tfma.SlicingSpec(feature_keys=[key]) for key in slice_features],
      metrics_specs=[
          tfma.MetricsSpec(metrics=[
              # All from one histogram: one per-example pass for all.
              _from_histogram(histogram_metrics.ExampleCountFromHistogram),
              _from_histogram(
                  histogram_metrics.AUCFromHistogram,
                  per_slice_thresholds=_overall_threshold(
                      thresholds.min_auc, thresholds.max_auc_regression)),
              _from_histogram(
                  histogram_metrics.BinaryAccuracyFromHistogram,
                  per_slice_thresholds=_overall_threshold(
                      thresholds.min_accuracy)),
              _from_histogram(histogram_metrics.PrecisionFromHistogram),
              _from_histogram(histogram_metrics.RecallFromHistogram),
              _from_histogram(histogram_metrics.CalibrationFromHistogram),
              _from_histogram(histogram_metrics.CalibrationPlotFromHistogram),
          ])
      ],
      # Otherwise TFMA adds the Keras model's compiled metrics, computed by
      # running the model a second time: about two thirds of its run time
      # for metrics already listed here.
      options=tfma.Options(
          include_default_metrics=wrappers_pb2.BoolValue(value=False)))
