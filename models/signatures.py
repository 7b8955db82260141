"""Serving signatures: raw features in, tf.Transform applied inside the model.

Training and serving share one transform graph, so they cannot skew.
"""

import tensorflow as tf

from models import features
from models.model import PREDICTION_KEY

SERVING_DEFAULT = 'serving_default'
SERVING_RAW = 'serving_raw'
TRANSFORM_FEATURES = 'transform_features'


def _as_batch_of_one_value(tensor, spec):
  """A [batch] tensor in the form tf.io.parse_example gives for `spec`."""
  if isinstance(spec, tf.io.VarLenFeature):
    batch = tf.shape(tensor, out_type=tf.int64)[0]
    indices = tf.stack([tf.range(batch), tf.zeros([batch], tf.int64)], axis=1)
    return tf.SparseTensor(indices, tensor, tf.stack([batch, 1]))
  return tf.reshape(tensor, [-1, 1])


def make_signatures(model: tf.keras.Model, tf_transform_output) -> dict:
  """Signature name -> concrete function, for `model.save(signatures=...)`."""
  # Assigning the layer to the model makes SavedModel track its assets.
  model.tft_layer = tf_transform_output.transform_features_layer()
  raw_spec = tf_transform_output.raw_feature_spec()
  serving_spec = {k: v for k, v in raw_spec.items() if k != features.TIPS_KEY}

  def predict(raw_features):
    transformed = model.tft_layer(raw_features)
    model_inputs = {k: transformed[k] for k in model.input_names}
    return {PREDICTION_KEY: model(model_inputs)}

  @tf.function(
      input_signature=[tf.TensorSpec([None], tf.string, name='examples')])
  def serve_examples(serialized):
    return predict(tf.io.parse_example(serialized, serving_spec))

  @tf.function(input_signature=[{
      k: tf.TensorSpec([None], spec.dtype, name=k)
      for k, spec in serving_spec.items()
  }])
  def serve_raw(raw_features):
    return predict({
        k: _as_batch_of_one_value(raw_features[k], serving_spec[k])
        for k in serving_spec
    })

  @tf.function(
      input_signature=[tf.TensorSpec([None], tf.string, name='examples')])
  def transform_features(serialized):
    # TFMA reads the label from here (EvalConfig preprocessing_function_names).
    return model.tft_layer(tf.io.parse_example(serialized, raw_spec))

  return {
      SERVING_DEFAULT: serve_examples.get_concrete_function(),
      SERVING_RAW: serve_raw.get_concrete_function(),
      TRANSFORM_FEATURES: transform_features.get_concrete_function(),
  }
