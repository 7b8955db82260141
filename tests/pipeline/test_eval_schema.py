"""The Evaluator's schema: the curated schema's slice columns only.

The slice columns as defined there, and nothing else for TFMA to decode.
"""

import pytest
from tensorflow_metadata.proto.v0 import schema_pb2
from tfx_bsl.tfxio import tf_example_record

import helpers
from models import features
from pipeline.components.eval_schema import component


def _without_features(schema):
  rest = schema_pb2.Schema()
  rest.CopyFrom(schema)
  del rest.feature[:]
  return rest


def test_the_slice_columns_keep_their_definitions():
  schema = helpers.curated_schema()
  narrowed = component.narrow(schema, features.SLICE_FEATURE_KEYS)
  assert sorted(f.name for f in narrowed.feature) == sorted(
      features.SLICE_FEATURE_KEYS)
  defined = {f.name: f for f in schema.feature}
  assert all(f == defined[f.name] for f in narrowed.feature)
  assert _without_features(narrowed) == _without_features(schema)


def test_tfma_decodes_the_slice_columns_only(tmp_path):
  narrowed = component.narrow(helpers.curated_schema(),
                              features.SLICE_FEATURE_KEYS)
  decoded = tf_example_record.TFExampleRecord(
      str(tmp_path / '*'), schema=narrowed).ArrowSchema().names
  assert sorted(decoded) == sorted(features.SLICE_FEATURE_KEYS)


def test_a_column_the_schema_lacks_is_named():
  with pytest.raises(ValueError, match='no feature trip_start_minute; it has'):
    component.narrow(helpers.curated_schema(),
                     ['payment_type', 'trip_start_minute'])
