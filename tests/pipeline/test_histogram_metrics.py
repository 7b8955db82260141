"""The histogram-derived metrics and plot agree with TFMA's own.

On the same examples, overall and per slice, in a real TFMA run over stored
predictions.
"""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_model_analysis as tfma

from pipeline.metrics import histogram_metrics

# TFMA's class -> ours.
_METRICS = {
    'ExampleCount': histogram_metrics.ExampleCountFromHistogram,
    'AUC': histogram_metrics.AUCFromHistogram,
    'BinaryAccuracy': histogram_metrics.BinaryAccuracyFromHistogram,
    'Precision': histogram_metrics.PrecisionFromHistogram,
    'Recall': histogram_metrics.RecallFromHistogram,
    'Calibration': histogram_metrics.CalibrationFromHistogram,
    'CalibrationPlot': histogram_metrics.CalibrationPlotFromHistogram,
}


def _write_examples(path, rows=3000, label_offset=0., first_prediction=None):
  rng = np.random.default_rng(7)
  labels = rng.integers(0, 2, rows)
  # Informative predictions, some at the edges of the histogram's buckets
  # around the threshold (exactly 0.5 is where the two definitions differ).
  predictions = np.clip(0.35 * labels + rng.uniform(0., 0.65, rows), 0., 1.)
  predictions[:7] = [0.49999, 0.50001, 0.4999, 0.5001, 0.0, 1.0, 0.99999]
  labels = labels + label_offset
  if first_prediction is not None:
    predictions[0] = first_prediction
  groups = rng.choice([b'a', b'b', b'c'], rows)
  with tf.io.TFRecordWriter(str(path)) as writer:
    for label, prediction, group in zip(labels, predictions, groups):
      writer.write(tf.train.Example(features=tf.train.Features(feature={
          'label': tf.train.Feature(
              float_list=tf.train.FloatList(value=[label])),
          'prediction': tf.train.Feature(
              float_list=tf.train.FloatList(value=[prediction])),
          'group': tf.train.Feature(bytes_list=tf.train.BytesList(value=[group])),
      })).SerializeToString())


def _run(data, output, metric_configs):
  eval_config = tfma.EvalConfig(
      model_specs=[tfma.ModelSpec(label_key='label', prediction_key='prediction')],
      slicing_specs=[tfma.SlicingSpec(), tfma.SlicingSpec(feature_keys=['group'])],
      metrics_specs=[tfma.MetricsSpec(metrics=metric_configs)])
  tfma.run_model_analysis(eval_config=eval_config, data_location=str(data),
                          output_path=str(output))


def _slice_name(slice_key) -> bytes:
  keys = slice_key.single_slice_keys
  return keys[0].bytes_value if keys else b''


def _evaluate(tmp_path, ours: bool):
  """({(slice, metric name): value}, {slice: calibration plot buckets})."""
  data = tmp_path / 'examples.tfrecord'
  if not data.exists():
    _write_examples(data)
  output = tmp_path / ('ours' if ours else 'tfma')
  _run(data, output, [
      tfma.MetricConfig(class_name=cls.__name__, module=cls.__module__)
      if ours else tfma.MetricConfig(class_name=name)
      for name, cls in _METRICS.items()])
  metrics = {
      (_slice_name(metrics.slice_key), kv.key.name): kv.value.double_value.value
      for metrics in tfma.load_metrics(str(output))
      for kv in metrics.metric_keys_and_values
  }
  plots = {
      _slice_name(plots.slice_key): [
          (b.lower_threshold_inclusive, b.upper_threshold_exclusive,
           b.num_weighted_examples.value, b.total_weighted_label.value,
           b.total_weighted_refined_prediction.value)
          for b in kv.value.calibration_histogram_buckets.buckets]
      for plots in tfma.load_plots(str(output))
      for kv in plots.plot_keys_and_values
  }
  return metrics, plots


def test_metrics_and_plot_match_tfma_overall_and_per_slice(tmp_path):
  ours, our_plots = _evaluate(tmp_path, ours=True)
  theirs, their_plots = _evaluate(tmp_path, ours=False)
  assert set(ours) == set(theirs)
  names = {name for _, name in ours}
  assert {'example_count', 'auc', 'binary_accuracy', 'precision', 'recall',
          'calibration'} <= names
  assert len({slice_ for slice_, _ in ours}) == 4  # overall and 3 groups
  assert ours[b'', 'example_count'] == 3000
  for key, value in theirs.items():
    # TFMA sums probabilities in float32 in places: calibration differs by
    # rounding there.
    assert ours[key] == pytest.approx(value, rel=1e-7), key
  assert set(our_plots) == set(their_plots) == {b'', b'a', b'b', b'c'}
  for slice_, buckets in their_plots.items():
    assert len(buckets) == 1002  # 1,000 and one each side of [0, 1]
    assert our_plots[slice_] == pytest.approx(buckets, rel=1e-6), slice_


def _causes(error: BaseException):
  while error is not None:
    yield error
    error = error.__cause__ or error.__context__


@pytest.mark.parametrize('bad_input, message', [
    ({'label_offset': 1.}, 'needs labels in [0, 1], got 2.0'),
    ({'first_prediction': float('nan')}, 'got a NaN prediction'),
])
def test_bad_labels_and_predictions_are_errors_naming_them(
    tmp_path, bad_input, message):
  data = tmp_path / 'examples.tfrecord'
  _write_examples(data, **bad_input)
  with pytest.raises(Exception) as raised:
    _run(data, tmp_path / 'out', [tfma.MetricConfig(
        class_name='AUCFromHistogram', module=histogram_metrics.__name__)])
  # TFMA and Beam wrap it; the cause is ours.
  assert any(isinstance(e, ValueError) and message in str(e)
             for e in _causes(raised.value))
