"""Transform without Beam against TFX's Transform on the same inputs.

The inputs: the bundled rows, the curated schema, models/preprocessing.py;
TFX's runs with the Beam workers of a cluster's Transform pod.
The artifact's files, the vocabularies and what the transform graph computes
must match; an analysis it does not evaluate is refused by name.
"""

import collections
import json
import os

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_transform as tft
from tfx.components.transform import executor as tfx_executor
from tfx.dsl.components.base import base_beam_executor
from tfx.types import standard_artifacts
from tfx.utils import io_utils
from tfx_bsl.tfxio import tf_example_record

import helpers
from cluster import settings
from models import features
from pipeline import configs
from pipeline.in_process.transform import analysis
from pipeline.in_process.transform import executor as our_executor


@pytest.fixture(scope='module')
def train_rows(bundled_rows, held_out_rows):
  return bundled_rows[:-len(held_out_rows)]


@pytest.fixture(scope='module')
def inputs(tmp_path_factory, train_rows, held_out_rows) -> dict:
  """Transform's inputs: examples and the curated schema.

  The examples have a train split (analysed) and an eval split.
  """
  root = tmp_path_factory.mktemp('transform_inputs')
  examples = helpers.artifact(standard_artifacts.Examples, root / 'examples')
  examples.split_names = '["train", "eval"]'
  helpers.write_split(root / 'examples' / 'Split-train', train_rows)
  helpers.write_split(root / 'examples' / 'Split-eval', held_out_rows)
  schema = helpers.artifact(standard_artifacts.Schema, root / 'schema')
  io_utils.write_pbtxt_file(str(root / 'schema' / 'schema.pbtxt'),
                            helpers.curated_schema())
  return {'examples': [examples], 'schema': [schema]}


def _transform(executor_class, out, inputs, beam_pipeline_args) -> str:
  """Runs a Transform executor as the pipeline configures it.

  Returns the transform graph's uri.
  """
  graph = helpers.artifact(standard_artifacts.TransformGraph, out)
  os.makedirs(graph.uri)
  executor = executor_class(base_beam_executor.BaseBeamExecutor.Context(
      beam_pipeline_args=beam_pipeline_args, tmp_dir=str(out / 'tmp'),
      unique_id='1'))
  executor.Do(inputs, {'transform_graph': [graph]},
              {'preprocessing_fn': configs.PREPROCESSING_FN,
               'disable_statistics': 1, 'force_tf_compat_v1': 1})
  return graph.uri


@pytest.fixture(scope='module')
def uris(tmp_path_factory, inputs) -> dict:
  root = tmp_path_factory.mktemp('transform_graphs')
  # TFX's with as many Beam workers as a cluster's Transform pod runs.
  cluster = settings.direct_runner_args(
      settings.COMPONENT_RESOURCES['Transform'])
  assert '--direct_running_mode=multi_processing' in cluster
  return {name: _transform(executor, root / name, inputs, args)
          for name, executor, args in (
              ('tfx', tfx_executor.Executor, cluster),
              ('ours', our_executor.Executor, configs.BEAM_PIPELINE_ARGS))}


@pytest.fixture(scope='module')
def graphs(uris) -> dict:
  return {name: tft.TFTransformOutput(uri) for name, uri in uris.items()}


def _token(row, key, spec=helpers.raw_feature_spec()) -> str:
  """The vocabulary token preprocessing.py makes of a raw value."""
  value = row[key]
  if value == '':
    return features.MISSING_TOKEN
  return value if spec[key].dtype == tf.string else str(int(float(value)))


def test_the_metadata_files_are_tfxs(uris):
  for path in (
      (tft.TFTransformOutput.RAW_METADATA_DIR, 'schema.pbtxt'),
      (tft.TFTransformOutput.TRANSFORMED_METADATA_DIR, 'schema.pbtxt'),
      (tft.TFTransformOutput.TRANSFORMED_METADATA_DIR,
       tft.TFTransformOutput.ASSET_MAP)):
    ours, theirs = (io_utils.read_string_file(os.path.join(uri, *path))
                    for uri in (uris['ours'], uris['tfx']))
    assert ours == theirs, path
  assert sorted(json.loads(ours)) == sorted(features.VOCAB_FEATURE_KEYS)


def test_vocabularies_differ_only_among_tokens_of_equal_count(graphs,
                                                              train_rows):
  for key in features.VOCAB_FEATURE_KEYS:
    counts = collections.Counter(_token(row, key) for row in train_rows)
    ours, theirs = (graphs[name].vocabulary_by_name(key)
                    for name in ('ours', 'tfx'))
    assert len(ours) == len(theirs) == min(len(counts), features.VOCAB_SIZE)
    # Each position holds a token as frequent in the data as TFT's: the two
    # differ at most in which tokens of equal count they keep and in what
    # order. (Neither is sorted by exact count: the top-k is a sketch.)
    assert [counts[t.decode()] for t in ours] == [
        counts[t.decode()] for t in theirs], key


def _tokens(ids, vocabulary) -> list:
  """Vocabulary ids as their tokens; OOV buckets stay ids."""
  return [vocabulary[i] if i < len(vocabulary) else i for i in ids]


def test_the_graph_transforms_rows_as_tfxs(graphs, held_out_rows):
  """Every output on the held-out rows is compared with TFX's.

  Vocabulary outputs as the tokens they stand for, but for tokens one
  vocabulary keeps and the other not.
  """
  spec = graphs['tfx'].raw_feature_spec()
  examples = tf.constant([helpers.to_example(row, spec)
                          for row in held_out_rows])
  ours, theirs = (graphs[name].transform_features_layer()(
      tf.io.parse_example(examples, spec)) for name in ('ours', 'tfx'))
  assert ours.keys() == theirs.keys()
  vocabulary_keys = {features.transformed_name(key): key
                     for key in features.VOCAB_FEATURE_KEYS}
  for name, their_values in theirs.items():
    our_values, their_values = ours[name].numpy(), their_values.numpy()
    if their_values.dtype.kind == 'f':
      # Sums over other batches: float32 rounding.
      np.testing.assert_allclose(our_values, their_values, atol=5e-4,
                                 err_msg=name)
    elif name in vocabulary_keys:
      key = vocabulary_keys[name]
      vocabularies = [graphs[side].vocabulary_by_name(key)
                      for side in ('ours', 'tfx')]
      kept_by_one = set(vocabularies[0]) ^ set(vocabularies[1])
      same = [_token(row, key).encode() not in kept_by_one
              for row in held_out_rows]
      assert np.mean(same) > 0.99, name
      assert ([t for t, s in zip(_tokens(our_values, vocabularies[0]), same)
               if s] ==
              [t for t, s in zip(_tokens(their_values, vocabularies[1]), same)
               if s]), name
    else:
      np.testing.assert_array_equal(our_values, their_values, err_msg=name)


def _with_full_vocabulary(inputs):
  """A preprocessing_fn using tft.vocabulary.

  tft.vocabulary is counted and sorted by its own Beam stages, which
  analysis.py does not evaluate.
  """
  return {'company_xf': tft.compute_and_apply_vocabulary(
      tf.sparse.to_dense(inputs['company'], default_value=''))}


def test_an_analysis_it_does_not_evaluate_is_refused_by_name(tmp_path,
                                                             inputs):
  split = os.path.join(inputs['examples'][0].uri, 'Split-train', '*')
  examples = tf_example_record.TFExampleRecord(
      split, schema=helpers.curated_schema())
  with pytest.raises(ValueError, match='VocabularyAccumulate') as error:
    analysis.analyze(_with_full_vocabulary, examples, str(tmp_path))
  assert "TFX's Transform" in str(error.value)



def test_a_preprocessing_fn_without_analyzers_reads_no_data(tmp_path):
  """No analyzer: nothing to read, the graph exported as it is.

  The files do not exist.
  """
  examples = tf_example_record.TFExampleRecord(
      str(tmp_path / 'no-such-files-*'), schema=helpers.curated_schema())
  transform_fn = analysis.analyze(
      lambda inputs: {
          'fare_xf': tf.reshape(tf.sparse.to_dense(inputs['fare']), [-1]) * 2.},
      examples, str(tmp_path / 'temp'))
  our_executor.write_transform_graph(transform_fn, helpers.curated_schema(),
                                     str(tmp_path / 'graph'))
  graph = tft.TFTransformOutput(str(tmp_path / 'graph'))
  spec = graph.raw_feature_spec()
  row = helpers.to_example({'fare': '3.5'}, spec)
  outputs = graph.transform_features_layer()(
      tf.io.parse_example(tf.constant([row]), spec))
  assert outputs['fare_xf'].numpy().tolist() == [7.0]
