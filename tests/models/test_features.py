"""The feature contract agrees with the bundled data and the model's id ranges."""

import helpers
from models import features


def test_every_required_column_is_in_the_bundled_csv_and_the_schema():
  header = set(helpers.read_rows()[0])
  in_schema = {f.name for f in helpers.curated_schema().feature}
  assert set(features.REQUIRED_COLUMNS) <= header
  assert set(features.REQUIRED_COLUMNS) <= in_schema


def test_categorical_sizes_cover_every_integer_output_of_preprocessing():
  vocab_sizes = {key: 10 for key in features.VOCAB_FEATURE_KEYS}
  sizes = features.categorical_sizes(vocab_sizes)
  assert sizes[features.transformed_name('payment_type')] == (
      10 + features.OOV_BUCKETS)
  assert sizes[features.transformed_name(features.PICKUP_CELL_KEY)] == (
      features.COORDINATE_BUCKETS + 1)**2
  assert sizes[features.fare_cross_name('company')] == (
      (10 + features.OOV_BUCKETS) * (features.FARE_BUCKETS + 1))
  assert not set(sizes) & set(features.dense_feature_names())


def test_slice_and_open_ended_features_are_raw_columns():
  for key in features.SLICE_FEATURE_KEYS + features.OPEN_ENDED_FEATURE_KEYS:
    assert key in features.REQUIRED_COLUMNS, key
