"""Serving signatures: raw features in, tf.Transform applied inside the model.

Training and serving share one transform graph, so they cannot skew.
"""

import tensorflow as tf

from models import features
from models import preprocessing
from models.model import PREDICTION_KEY

SERVING_DEFAULT = 'serving_default'
SERVING_RAW = 'serving_raw'
# TFMA reads the label through this signature. The name stays even though it
# now returns the label alone: the Evaluator calls it on the baseline too,
# which may be a model exported by earlier code.
TRANSFORM_FEATURES = 'transform_features'


# What a CSV field of a number column may hold, as ExampleGen reads it.
_NUMBER = r'[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?'


def _parse_numbers(key, values, dtype):
  """Field strings -> numbers of `dtype`, as ExampleGen reads them.

  `480.0` is an integer; `480.5` or `abc` fail the request naming the
  feature.
  """
  is_number = tf.debugging.assert_equal(
      tf.strings.regex_full_match(values, _NUMBER), True,
      message=f'{key}: expected a number')
  with tf.control_dependencies([is_number]):
    numbers = tf.strings.to_number(values, out_type=tf.float64)
  if dtype.is_floating:
    return tf.cast(numbers, dtype)
  is_integer = tf.debugging.assert_equal(
      tf.math.floor(numbers), numbers, message=f'{key}: expected an integer')
  with tf.control_dependencies([is_integer]):
    return tf.cast(numbers, dtype)


def _csv_fields_to_feature(key, fields, spec):
  """[batch] CSV field strings -> the [batch, 1] SparseTensor of `spec`.

  The SparseTensor is the one tf.io.parse_example gives for `spec`; an empty
  field is a missing value.
  """
  present = tf.not_equal(fields, '')
  rows = tf.where(present)  # [n, 1] int64 row indices
  values = tf.boolean_mask(fields, present)
  if spec.dtype != tf.string:
    values = _parse_numbers(key, values, spec.dtype)
  batch = tf.shape(fields, out_type=tf.int64)[0]
  return tf.SparseTensor(
      tf.concat([rows, tf.zeros_like(rows)], axis=1), values,
      tf.stack([batch, 1]))


def make_signatures(model: tf.keras.Model, tf_transform_output,
                    tft_layer) -> dict:
  """The serving signatures, for `model.save(signatures=...)`.

  Args:
    model: the trained Keras model, taking transformed features.
    tf_transform_output: Transform's output (the raw feature spec).
    tft_layer: tf_transform_output.transform_features_layer().

  Returns:
    Signature name -> concrete function.
  """
  # Assigning the layer to the model makes SavedModel track its assets.
  model.tft_layer = tft_layer
  raw_spec = tf_transform_output.raw_feature_spec()
  serving_spec = {k: v for k, v in raw_spec.items() if k != features.TIPS_KEY}
  # Both serving signatures call this one function: each application of the
  # TF1 transform graph in TF2 prunes and lifts the graph anew. Its input is
  # what parsing gives for the schema's features, all variable-length.
  transform = tf.function(tft_layer, input_signature=[{
      k: tf.SparseTensorSpec([None, None], spec.dtype)
      for k, spec in serving_spec.items()}])

  def predict(raw_features):
    transformed = transform(raw_features)
    model_inputs = {k: transformed[k] for k in model.input_names}
    return {PREDICTION_KEY: model(model_inputs)}

  @tf.function(
      input_signature=[tf.TensorSpec([None], tf.string, name='examples')])
  def serve_examples(serialized):
    return predict(tf.io.parse_example(serialized, serving_spec))

  # For JSON requests: every feature as its CSV field text, '' if missing,
  # so any CSV row (minus the label) is a valid instance.
  @tf.function(input_signature=[{
      k: tf.TensorSpec([None], tf.string, name=k) for k in serving_spec
  }])
  def serve_raw(fields):
    return predict({
        k: _csv_fields_to_feature(k, fields[k], spec)
        for k, spec in serving_spec.items()
    })

  label_key = features.transformed_name(features.LABEL_KEY)
  label_spec = {k: raw_spec[k] for k in (features.TIPS_KEY, features.FARE_KEY)}

  @tf.function(
      input_signature=[tf.TensorSpec([None], tf.string, name='examples')])
  def transform_features(serialized):
    # The label alone: TFMA copies every output into each example's record,
    # a third of the Evaluator's time when it was every transformed feature.
    # It needs no analyzer, so preprocessing's own function computes it from
    # the two columns, without the rest of the transform graph.
    return {label_key: preprocessing.label(
        tf.io.parse_example(serialized, label_spec))}

  return {
      SERVING_DEFAULT: serve_examples.get_concrete_function(),
      SERVING_RAW: serve_raw.get_concrete_function(),
      TRANSFORM_FEATURES: transform_features.get_concrete_function(),
  }
