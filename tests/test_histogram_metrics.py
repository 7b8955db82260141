"""The histogram-derived metrics agree with TFMA's own on the same examples,
overall and per slice, in a real TFMA run over stored predictions."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_model_analysis as tfma

from pipeline import histogram_metrics

# TFMA's class -> ours.
_METRICS = {
    'BinaryAccuracy': histogram_metrics.BinaryAccuracyFromHistogram,
    'Precision': histogram_metrics.PrecisionFromHistogram,
    'Recall': histogram_metrics.RecallFromHistogram,
    'Calibration': histogram_metrics.CalibrationFromHistogram,
}


def _write_examples(path, rows=3000):
  rng = np.random.default_rng(7)
  labels = rng.integers(0, 2, rows)
  # Informative predictions, some at the edges of the histogram's buckets
  # around the threshold (exactly 0.5 is where the two definitions differ).
  predictions = np.clip(0.35 * labels + rng.uniform(0., 0.65, rows), 0., 1.)
  predictions[:7] = [0.49999, 0.50001, 0.4999, 0.5001, 0.0, 1.0, 0.99999]
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


def _evaluate(tmp_path, ours: bool):
  data = tmp_path / 'examples.tfrecord'
  if not data.exists():
    _write_examples(data)
  output = tmp_path / ('ours' if ours else 'tfma')
  metrics = [tfma.MetricConfig(class_name='AUC')] + [
      tfma.MetricConfig(class_name=cls.__name__, module=cls.__module__)
      if ours else tfma.MetricConfig(class_name=name)
      for name, cls in _METRICS.items()]
  eval_config = tfma.EvalConfig(
      model_specs=[tfma.ModelSpec(label_key='label', prediction_key='prediction')],
      slicing_specs=[tfma.SlicingSpec(), tfma.SlicingSpec(feature_keys=['group'])],
      metrics_specs=[tfma.MetricsSpec(metrics=metrics)])
  tfma.run_model_analysis(eval_config=eval_config, data_location=str(data),
                          output_path=str(output))
  return {
      (metrics.slice_key.single_slice_keys and
       metrics.slice_key.single_slice_keys[0].bytes_value or b'',
       kv.key.name): kv.value.double_value.value
      for metrics in tfma.load_metrics(str(output))
      for kv in metrics.metric_keys_and_values
  }


def test_metrics_match_tfma_overall_and_per_slice(tmp_path):
  ours = _evaluate(tmp_path, ours=True)
  theirs = _evaluate(tmp_path, ours=False)
  assert set(ours) == set(theirs)
  names = {name for _, name in ours}
  assert {'binary_accuracy', 'precision', 'recall', 'calibration'} <= names
  assert len({slice_ for slice_, _ in ours}) == 4  # overall and 3 groups
  for key, value in theirs.items():
    assert ours[key] == pytest.approx(value, rel=1e-9), key
