"""preprocessing_fn through tf.Transform's Beam implementation.

Also the Keras model trained on what it produces.
"""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_transform as tft
import tensorflow_transform.beam as tft_beam
from tensorflow_transform.tf_metadata import dataset_metadata

import helpers
from models import features
from models import model as model_lib
from models import preprocessing
from models import trainer
from pipeline import configs

xf = features.transformed_name

# A row with every feature column missing, and one with out-of-range codes.
EMPTY_ROW = {'tips': '1.0', 'fare': '', 'payment_type': ''}
ODD_ROW = {'trip_start_hour': '30', 'trip_start_day': '9', 'tips': '0',
           'fare': '10.0'}


def _instance(row: dict, spec: dict) -> dict:
  """A CSV row as tf.Transform's instance dict (lists for VarLen features)."""
  instance = {}
  for name, feature_spec in spec.items():
    value = row.get(name, '')
    if value == '':
      instance[name] = []
    elif feature_spec.dtype == tf.string:
      instance[name] = [value.encode()]
    elif feature_spec.dtype == tf.int64:
      instance[name] = [int(float(value))]
    else:
      instance[name] = [float(value)]
  return instance


@pytest.fixture(scope='module')
def transformed(tmp_path_factory, bundled_rows):
  """(raw rows, transformed instance dicts, TFTransformOutput)."""
  rows = bundled_rows[:400] + [EMPTY_ROW, ODD_ROW]
  spec = helpers.raw_feature_spec()
  metadata = dataset_metadata.DatasetMetadata.from_feature_spec(spec)
  tmp = tmp_path_factory.mktemp('tft')
  with tft_beam.Context(temp_dir=str(tmp / "tmp"),
                        force_tf_compat_v1=configs.TRANSFORM_TF_COMPAT_V1):
    (outputs, _), transform_fn = (
        [_instance(r, spec) for r in rows], metadata
    ) | tft_beam.AnalyzeAndTransformDataset(
        preprocessing.preprocessing_fn, output_record_batches=False)
    _ = transform_fn | tft_beam.WriteTransformFn(str(tmp / 'transform_fn'))
  return rows, outputs, tft.TFTransformOutput(str(tmp / 'transform_fn'))


def test_label_is_tip_above_a_fifth_of_the_fare(transformed):
  rows, outputs, _ = transformed
  assert [o[xf(features.LABEL_KEY)] for o in outputs] == [
      helpers.big_tip(r) for r in rows
  ]
  # Both classes are present in the sample, so the check above is not vacuous.
  assert 0 < sum(helpers.big_tip(r) for r in rows) < len(rows)


def test_vocabularies_rank_frequent_values_first(transformed):
  rows, outputs, tf_transform_output = transformed
  vocab = [
      v.decode() for v in tf_transform_output.vocabulary_by_name('payment_type')
  ]
  assert vocab[:2] == ['Cash', 'Credit Card']
  for row, out in zip(rows[:50], outputs):
    assert vocab[out[xf('payment_type')]] == row['payment_type']
  census_vocab = tf_transform_output.vocabulary_by_name('pickup_census_tract')
  assert len(census_vocab) <= features.VOCAB_SIZE


def test_numeric_features_are_log_scaled_z_scores(transformed):
  rows, outputs, _ = transformed
  fares = np.array([o[xf('fare')] for o in outputs[:-2]])
  assert abs(fares.mean()) < 0.1
  assert 0.8 < fares.std() < 1.2
  # Monotone in the raw fare.
  raw = np.array([float(r['fare'] or 0) for r in rows[:-2]])
  assert np.all(np.diff(fares[np.argsort(raw)]) >= -1e-6)


def test_categories_pass_through_and_out_of_range_codes_map_to_zero(
    transformed):
  rows, outputs, _ = transformed
  for row, out in zip(rows[:50], outputs):
    assert out[xf('trip_start_hour')] == int(row['trip_start_hour'])
    assert out[xf(features.HOUR_OF_WEEK_KEY)] == (
        int(row['trip_start_hour']) * 8 + int(row['trip_start_day']))
  odd = outputs[-1]
  assert odd[xf('trip_start_hour')] == 0
  assert odd[xf('trip_start_day')] == 0


def test_missing_values_get_their_own_ids(transformed):
  _, outputs, tf_transform_output = transformed
  empty = outputs[-2]
  missing_bucket = features.COORDINATE_BUCKETS
  for key in features.COORDINATE_FEATURE_KEYS:
    assert empty[features.bucket_name(key)] == missing_bucket
    assert empty[xf(key)] == 0.
  assert empty[xf(features.PICKUP_CELL_KEY)] == (
      missing_bucket * (missing_bucket + 1) + missing_bucket)
  assert empty[features.bucket_name('fare')] == features.FARE_BUCKETS
  payment_vocab = tf_transform_output.vocabulary_by_name('payment_type')
  assert empty[xf('payment_type')] == list(payment_vocab).index(
      features.MISSING_TOKEN.encode())
  assert empty[xf(features.LABEL_KEY)] == 0  # no fare: no big tip


def test_ids_stay_below_the_sizes_the_model_is_built_with(transformed):
  _, outputs, tf_transform_output = transformed
  sizes = trainer.categorical_sizes(tf_transform_output)
  for name, size in sizes.items():
    values = [o[name] for o in outputs]
    assert min(values) >= 0 and max(values) < size, name


def test_model_trains_on_transformed_examples(transformed):
  _, outputs, tf_transform_output = transformed
  label_key = xf(features.LABEL_KEY)
  columns = {k: np.array([o[k] for o in outputs]) for k in outputs[0]}
  labels = columns.pop(label_key)
  dataset = tf.data.Dataset.from_tensor_slices((columns, labels)).batch(64)

  model = model_lib.build_keras_model(
      trainer.categorical_sizes(tf_transform_output), configs.HPARAMS)
  before = model.evaluate(dataset, verbose=0, return_dict=True)
  model.fit(dataset.repeat(), steps_per_epoch=30, epochs=1, verbose=0)
  after = model.evaluate(dataset, verbose=0, return_dict=True)

  assert after['loss'] < before['loss']
  predictions = model.predict(dataset, verbose=0)
  assert predictions.shape == (len(outputs), 1)
  assert np.all((predictions >= 0) & (predictions <= 1))
