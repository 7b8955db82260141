"""The curated schema is what curation makes of the feature contract."""

import pytest
import tensorflow as tf

import helpers
from models import features
from pipeline.schema import curation


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
  for key in features.CATEGORICAL_FEATURE_RANGES:
    assert 0 <= domains[key].min and domains[key].max < features.id_count(key), key


def test_committed_schema_is_what_curation_produces():
  committed = helpers.curated_schema()
  assert curation.curate(committed) == committed


def test_curation_rejects_a_schema_without_a_required_column():
  schema = helpers.curated_schema()
  kept = [f for f in schema.feature if f.name != features.FARE_KEY]
  del schema.feature[:]
  schema.feature.extend(kept)
  with pytest.raises(ValueError, match='lacks columns: fare'):
    curation.curate(schema)
