"""The feature contract, the config and the curated schema agree."""

import pytest
import tensorflow as tf

import helpers
from models import features
from pipeline import configs
from pipeline import schema_curation


def test_every_required_column_is_in_the_bundled_csv_and_the_schema():
  header = set(helpers.read_rows()[0])
  in_schema = {f.name for f in helpers.curated_schema().feature}
  assert set(features.REQUIRED_COLUMNS) <= header
  assert set(features.REQUIRED_COLUMNS) <= in_schema


def test_serving_environment_needs_no_label():
  schema = helpers.curated_schema()
  assert set(schema.default_environment) == {'TRAINING', 'SERVING'}
  tips = next(f for f in schema.feature if f.name == features.TIPS_KEY)
  assert list(tips.not_in_environment) == ['SERVING']


def test_schema_types_match_how_preprocessing_reads_columns():
  spec = helpers.raw_feature_spec()
  for key in features.LOG_NUMERIC_FEATURE_KEYS + features.COORDINATE_FEATURE_KEYS:
    assert spec[key].dtype in (tf.float32, tf.int64), key
  for key in features.CATEGORICAL_FEATURE_RANGES:
    assert spec[key].dtype == tf.int64, key
  # Every column may be missing in a row, so none is a fixed-length feature.
  assert all(isinstance(s, tf.io.VarLenFeature) for s in spec.values())


def test_categorical_domains_fit_the_id_ranges():
  domains = {f.name: f.int_domain for f in helpers.curated_schema().feature}
  for key, size in features.CATEGORICAL_FEATURE_RANGES.items():
    assert 0 <= domains[key].min and domains[key].max < size, key


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


def test_pipeline_name_is_valid_for_kubeflow():
  assert configs.check_kubeflow_pipeline_name(
      configs.PIPELINE_NAME) == configs.PIPELINE_NAME
  with pytest.raises(ValueError, match="'Taxi_Tips': Kubeflow accepts only"):
    configs.check_kubeflow_pipeline_name('Taxi_Tips')


def test_eval_floor_is_stricter_than_always_predicting_no_big_tip(
    bundled_rows):
  majority = 1 - sum(map(helpers.big_tip, bundled_rows)) / len(bundled_rows)
  assert configs.EVAL_THRESHOLDS.min_accuracy > majority


def test_paths_live_under_one_output_root(tmp_path):
  paths = configs.LocalPaths(tmp_path)
  for path in (paths.pipeline_root, paths.metadata_path,
               paths.serving_model_dir, paths.log_dir):
    assert tmp_path in path.parents


def test_committed_schema_is_what_curation_produces():
  committed = helpers.curated_schema()
  assert schema_curation.curate(committed) == committed


def test_curation_rejects_a_schema_without_a_required_column():
  schema = helpers.curated_schema()
  kept = [f for f in schema.feature if f.name != features.FARE_KEY]
  del schema.feature[:]
  schema.feature.extend(kept)
  with pytest.raises(ValueError, match='lacks columns: fare'):
    schema_curation.curate(schema)
