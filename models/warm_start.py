"""Warm start: the Trainer begins from the serving model's weights.

The id tables of model.py (one embedding table and one weight table, each id
feature in a range of its own) are laid out by the vocabularies Transform
computes, which change from window to window: a row is carried over by the
token it stands for, and a new token starts from scratch. Every other weight
has the same shape whatever the data and is copied. When the serving
model's network is not this code's (other layers or shapes), or it cannot be
read, training starts from scratch.
"""

import os
from typing import Callable, Dict, List, Optional

import numpy as np
import tensorflow as tf

from models import features

# model.py's layers whose rows are ids.
_ID_TABLES = ('id_embeddings', 'id_weights')


def _lines(path: str) -> List[str]:
  with tf.io.gfile.GFile(path) as f:
    return f.read().splitlines()


def _old_id(name: str, new_id: int, old: Dict[str, List[str]],
            new: Dict[str, List[str]]) -> Optional[int]:
  """The id a token had in the old vocabularies; None if it had none.

  Also for a token crossed with a fare bucket. Other ids mean the same in
  both.
  """
  for key in features.VOCAB_FEATURE_KEYS:
    if name == features.transformed_name(key):
      if new_id >= len(new[key]):  # an OOV bucket: the same hash bucket
        return len(old[key]) + new_id - len(new[key])
      token = new[key][new_id]
      return old[key].index(token) if token in old[key] else None
  for key in features.FARE_CROSSED_KEYS:
    if name == features.fare_cross_name(key):
      token_id, fare_bucket = divmod(new_id, features.FARE_BUCKETS + 1)
      old_token = _old_id(features.transformed_name(key), token_id, old, new)
      return (None if old_token is None else
              old_token * (features.FARE_BUCKETS + 1) + fare_bucket)
  return new_id


def row_map(old_sizes: Dict[str, int], new_sizes: Dict[str, int],
            old: Dict[str, List[str]], new: Dict[str, List[str]]) -> np.ndarray:
  """For each row of a new id table, its row in the old one (-1: none).

  Args:
    old_sizes: features.categorical_sizes of the old vocabularies.
    new_sizes: the same of the new ones.
    old: the old vocabularies by feature key.
    new: the new ones.

  Returns:
    An int array as long as the new table.
  """
  old_offsets = dict(zip(sorted(old_sizes), np.cumsum(
      [0] + [old_sizes[n] for n in sorted(old_sizes)][:-1])))
  rows = []
  for name in sorted(new_sizes):
    for new_id in range(new_sizes[name]):
      old_id = _old_id(name, new_id, old, new)
      rows.append(-1 if old_id is None else int(old_offsets[name] + old_id))
  return np.array(rows)


def _same_network(model: tf.keras.Model, twin: tf.keras.Model) -> bool:
  """The same layers with the same weight shapes, but the id tables' rows."""
  def shapes(layer, table):
    return [tuple(w.shape[1:] if table else w.shape) for w in layer.weights]
  return len(model.layers) == len(twin.layers) and all(
      type(a) is type(b) and
      shapes(a, a.name in _ID_TABLES) == shapes(b, a.name in _ID_TABLES)
      for a, b in zip(model.layers, twin.layers))


def warm_start(model: tf.keras.Model, serving_model_dir: str,
               build: Callable[[dict], tf.keras.Model],
               vocabulary_files: Dict[str, str]) -> str:
  """Sets model's weights from the serving model's where they carry over.

  Args:
    model: the new model, as built.
    serving_model_dir: the serving model (a pushed version).
    build: builds this code's model for categorical sizes.
    vocabulary_files: the new vocabularies' files by feature key.

  Returns:
    What was done, for the log.
  """
  try:
    # A SavedModel keeps its transform layer's vocabularies as assets.
    old = {key: _lines(os.path.join(serving_model_dir, 'assets', key))
           for key in features.VOCAB_FEATURE_KEYS}
    new = {key: _lines(path) for key, path in vocabulary_files.items()}
    old_sizes = features.categorical_sizes({k: len(v) for k, v in old.items()})
    twin = build(old_sizes)
    twin.load_weights(os.path.join(serving_model_dir, 'variables',
                                   'variables')).expect_partial(
                                   ).assert_existing_objects_matched()
  except (OSError, ValueError, AssertionError, tf.errors.OpError) as e:
    return (f'not warm-started: the serving model {serving_model_dir} is not '
            f'this code\'s ({(str(e).splitlines() or ["?"])[0][:200]})')
  if not _same_network(model, twin):
    return (f'not warm-started: the serving model {serving_model_dir} has '
            'other layers or shapes')
  new_sizes = features.categorical_sizes({k: len(v) for k, v in new.items()})
  rows = row_map(old_sizes, new_sizes, old, new)
  for layer, old_layer in zip(model.layers, twin.layers):
    weights = old_layer.get_weights()
    if layer.name in _ID_TABLES:
      [table] = layer.get_weights()
      carried = rows >= 0
      table[carried] = weights[0][rows[carried]]
      weights = [table]
    layer.set_weights(weights)
  return (f'warm-started from {serving_model_dir}: '
          f'{int((rows >= 0).sum())} of {len(rows)} id rows carried over')
