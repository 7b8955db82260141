"""The Keras wide & deep network over transformed features."""

import tensorflow as tf

from models import features

PREDICTION_KEY = 'big_tip_probability'


def build_keras_model(categorical_sizes: dict, hparams: dict) -> tf.keras.Model:
  """Wide (linear over ids) + deep (embeddings and numerics through an MLP).

  Args:
    categorical_sizes: transformed feature name -> number of distinct ids
      (features.categorical_sizes).
    hparams: the 'hparams' block of pipeline/configs.py.
  """
  numeric_inputs = {
      name: tf.keras.Input(shape=(), name=name)
      for name in features.dense_feature_names()
  }
  id_inputs = {
      name: tf.keras.Input(shape=(), name=name, dtype=tf.int64)
      for name in sorted(categorical_sizes)
  }
  l2 = tf.keras.regularizers.L2(hparams['l2'])

  deep_parts = [
      tf.keras.layers.Reshape((1,))(x) for x in numeric_inputs.values()
  ]
  wide_parts = []
  for name, ids in id_inputs.items():
    size = categorical_sizes[name]
    deep_parts.append(
        tf.keras.layers.Embedding(
            size,
            min(hparams['embedding_dim'], size),
            embeddings_regularizer=l2,
            name=f'{name}_embedding')(ids))
    wide_parts.append(
        tf.keras.layers.Embedding(
            size, 1, embeddings_regularizer=l2, name=f'{name}_weight')(ids))

  deep = tf.keras.layers.Concatenate()(deep_parts)
  for units in hparams['hidden_units']:
    deep = tf.keras.layers.Dense(units, activation='relu')(deep)
    deep = tf.keras.layers.Dropout(hparams['dropout'])(deep)
  logit = tf.keras.layers.Add()(
      [tf.keras.layers.Dense(1)(deep), *wide_parts])
  probability = tf.keras.layers.Activation(
      'sigmoid', name=PREDICTION_KEY)(logit)

  model = tf.keras.Model(
      inputs={**numeric_inputs, **id_inputs}, outputs=probability)
  model.compile(
      optimizer=tf.keras.optimizers.Adam(hparams['learning_rate']),
      loss=tf.keras.losses.BinaryCrossentropy(),
      metrics=[
          tf.keras.metrics.BinaryAccuracy(name='accuracy'),
          tf.keras.metrics.AUC(name='auc')
      ])
  return model
