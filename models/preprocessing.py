"""tf.Transform preprocessing: raw CSV features -> model-ready tensors.

Every raw column may be missing in a row (the schema requires none), so each
arrives as a SparseTensor of shape [batch, 1] and is densified here with an
explicit value for "missing".
"""

import tensorflow as tf
import tensorflow_transform as tft

from models import features


def _densify(x, default):
  """[batch, 1] sparse or dense tensor -> [batch] dense, missing -> default."""
  if isinstance(x, tf.sparse.SparseTensor):
    x = tf.sparse.to_dense(
        tf.SparseTensor(x.indices, x.values, [x.dense_shape[0], 1]),
        default_value=tf.cast(default, x.dtype))
  return tf.reshape(x, [-1])


def _as_strings(x):
  """Int ids (census tracts) become vocabulary tokens like string columns."""
  if x.dtype == tf.string:
    return x
  if isinstance(x, tf.sparse.SparseTensor):
    return tf.SparseTensor(x.indices, tf.strings.as_string(x.values),
                           x.dense_shape)
  return tf.strings.as_string(x)


def _bucketize(x, num_buckets):
  """Quantile buckets 0..num_buckets-1 over present values.

  A missing value goes to num_buckets (bucketize accepts sparse input, so
  quantiles skip gaps).
  """
  return _densify(tft.bucketize(x, num_buckets), num_buckets)


def _in_range_or_zero(x, size):
  x = tf.cast(_densify(x, 0), tf.int64)
  return tf.where((x < 0) | (x >= size), tf.zeros_like(x), x)


def _cross(a, b, b_size):
  return a * b_size + b


def _cents(x):
  return tf.round(tf.cast(_densify(x, float('nan')), tf.float64) * 100)


def label(inputs):
  """The label, big tip or not (0/1), from the raw tips and fare."""
  # In whole cents, so a tip of exactly 20% (5.01 on 25.05) is not "more than"
  # through float rounding. NaN compares false: a row missing either amount
  # counts as no big tip.
  tips = _cents(inputs[features.TIPS_KEY])
  fare = _cents(inputs[features.FARE_KEY])
  return tf.cast(tips * features.BIG_TIP_FRACTION_DENOMINATOR > fare, tf.int64)


def preprocessing_fn(inputs):
  """Maps raw features to transformed features; see models/features.py.

  Args:
    inputs: raw feature name -> tensor, as parsed with the curated schema.

  Returns:
    Transformed feature name -> tensor, the label `big_tip_xf` among them.
  """
  xf = features.transformed_name
  outputs = {}

  for key in features.LOG_NUMERIC_FEATURE_KEYS:
    value = tf.cast(_densify(inputs[key], 0), tf.float32)
    outputs[xf(key)] = tft.scale_to_z_score(tf.math.log1p(tf.maximum(value,
                                                                     0.)))

  for key in features.CATEGORICAL_FEATURE_RANGES:
    outputs[xf(key)] = _in_range_or_zero(inputs[key], features.id_count(key))

  for key in features.VOCAB_FEATURE_KEYS:
    tokens = _densify(_as_strings(inputs[key]), features.MISSING_TOKEN)
    vocabulary = tft.experimental.approximate_vocabulary(
        tokens, top_k=features.VOCAB_SIZE, vocab_filename=key)
    outputs[xf(key)] = tft.apply_vocabulary(
        tokens, vocabulary, num_oov_buckets=features.OOV_BUCKETS)

  for key in features.COORDINATE_FEATURE_KEYS:
    # Missing -> 0, the mean after scaling.
    outputs[xf(key)] = _densify(tft.scale_to_z_score(inputs[key]), 0.)
    outputs[features.bucket_name(key)] = _bucketize(
        inputs[key], features.COORDINATE_BUCKETS)

  for cell, (lat, lon) in ((features.PICKUP_CELL_KEY, features.PICKUP_LATLON),
                           (features.DROPOFF_CELL_KEY,
                            features.DROPOFF_LATLON)):
    outputs[xf(cell)] = _cross(outputs[features.bucket_name(lat)],
                               outputs[features.bucket_name(lon)],
                               features.COORDINATE_BUCKETS + 1)

  outputs[xf(features.HOUR_OF_WEEK_KEY)] = _cross(
      outputs[xf(features.HOUR_KEY)], outputs[xf(features.WEEKDAY_KEY)],
      features.id_count(features.WEEKDAY_KEY))

  fare_bucket = _bucketize(inputs[features.FARE_KEY], features.FARE_BUCKETS)
  outputs[features.bucket_name(features.FARE_KEY)] = fare_bucket
  for key in features.FARE_CROSSED_KEYS:
    outputs[features.fare_cross_name(key)] = _cross(outputs[xf(key)],
                                                    fare_bucket,
                                                    features.FARE_BUCKETS + 1)

  outputs[xf(features.LABEL_KEY)] = label(inputs)
  return outputs
