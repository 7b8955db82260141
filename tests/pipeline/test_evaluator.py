"""The Evaluator without Beam against TFX's Evaluator on the same inputs.

The inputs: small real SavedModels with the pipeline's signatures, 3,000
bundled rows, the pipeline's EvalConfig; near each threshold, the bundled
run's trained model. Every metric, plot, validation and blessing must
match; what it does not compute is refused by name.
"""

import json
import math
import os

from google.protobuf import json_format
import pytest
import tensorflow as tf
import tensorflow_model_analysis as tfma
from tensorflow_model_analysis.writers import metrics_plots_and_validations_writer
from tfx.components.evaluator import executor as tfx_executor
from tfx.dsl.components.base import base_beam_executor
from tfx.types import channel_utils
from tfx.types import standard_artifacts
from tfx.utils import io_utils

import helpers
from local import paths as local_paths
from models import features
from models import signatures
from models.model import PREDICTION_KEY
from pipeline import configs
from pipeline.components.eval_schema.component import narrow
from pipeline.in_process.evaluator import executor as our_executor
from pipeline.in_process.evaluator.component import InMemoryEvaluator
from pipeline.metrics.eval_config import create_eval_config

LABEL = features.transformed_name(features.LABEL_KEY)
THRESHOLDS = configs.EvalThresholds(min_auc=0.7, min_accuracy=0.6,
                                    max_auc_regression=1e-10)


def _save_model(path, weight: float) -> str:
  """A SavedModel answering as the trained one does.

  Its signatures: serving_default and transform_features over serialized
  examples. The label: fare over 10; the prediction: a noisy guess at it,
  better the larger `weight`.
  """
  raw = helpers.raw_feature_spec()
  spec = {k: tf.io.FixedLenFeature([1], raw[k].dtype, 0)
          for k in ('fare', 'trip_miles', 'trip_seconds')}
  module = tf.Module()

  def parse(examples):
    return {k: tf.cast(v, tf.float32)
            for k, v in tf.io.parse_example(examples, spec).items()}

  @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
  def serve(examples):
    x = parse(examples)
    return {PREDICTION_KEY: tf.sigmoid(
        weight * (x['fare'] - 10.) + 0.3 * x['trip_miles'] -
        0.002 * x['trip_seconds'])}

  @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
  def transform(examples):
    x = parse(examples)
    return {LABEL: tf.cast(x['fare'] > 10., tf.int64)}

  module.serve, module.transform = serve, transform
  tf.saved_model.save(module, str(path), signatures={
      signatures.SERVING_DEFAULT: serve.get_concrete_function(),
      signatures.TRANSFORM_FEATURES: transform.get_concrete_function()})
  return str(path)


@pytest.fixture(scope='module')
def inputs(tmp_path_factory, held_out_rows) -> dict:
  """The Evaluator's inputs: examples, the eval schema and two models.

  The examples are an eval split; of the two models the better one is
  'good'.
  """
  root = tmp_path_factory.mktemp('evaluator_inputs')
  examples = helpers.artifact(standard_artifacts.Examples, root / 'examples')
  examples.split_names = '["eval"]'
  helpers.write_split(root / 'examples' / 'Split-eval', held_out_rows)
  schema = helpers.artifact(standard_artifacts.Schema, root / 'schema')
  io_utils.write_pbtxt_file(
      str(root / 'schema' / 'schema.pbtxt'),
      narrow(helpers.curated_schema(), features.SLICE_FEATURE_KEYS))
  models = {}
  for artifact_id, (name, weight) in enumerate(
      [('good', 2.), ('poor', 0.2)], start=10):
    models[name] = helpers.artifact(standard_artifacts.Model, root / name,
                                    artifact_id)
    _save_model(root / name / 'Format-Serving', weight)
  return {'examples': examples, 'schema': schema, **models}


def _evaluate(executor_class, out, inputs, model, baseline=None,
              eval_config=None):
  """Runs an Evaluator executor; returns (evaluation uri, blessing)."""
  evaluation = helpers.artifact(standard_artifacts.ModelEvaluation,
                                out / 'eval')
  blessing = helpers.artifact(standard_artifacts.ModelBlessing,
                              out / 'blessing')
  for artifact in (evaluation, blessing):
    os.makedirs(artifact.uri)
  input_dict = {'examples': [inputs['examples']], 'model': [inputs[model]],
                'schema': [inputs['schema']]}
  if baseline:
    input_dict['baseline_model'] = [inputs[baseline]]
  executor = executor_class(base_beam_executor.BaseBeamExecutor.Context(
      beam_pipeline_args=configs.BEAM_PIPELINE_ARGS, tmp_dir=str(out / 'tmp'),
      unique_id='1'))
  executor.Do(input_dict, {'evaluation': [evaluation], 'blessing': [blessing]},
              {'eval_config': json_format.MessageToJson(
                  eval_config or create_eval_config(
                      THRESHOLDS, features.SLICE_FEATURE_KEYS)),
               'example_splits': 'null'})
  return evaluation.uri, blessing


def _metrics(uri) -> dict:
  return {(str(m.slice_key), str(kv.key)): kv.value.double_value.value
          for m in tfma.load_metrics(uri) for kv in m.metric_keys_and_values}


def _plots(uri) -> dict:
  result = {}
  for plots in metrics_plots_and_validations_writer.load_and_deserialize_plots(
      uri):
    for key_and_value in plots.plot_keys_and_values:
      buckets = key_and_value.value.calibration_histogram_buckets.buckets
      result[(str(plots.slice_key), str(key_and_value.key))] = [
          (b.lower_threshold_inclusive, b.num_weighted_examples.value,
           b.total_weighted_label.value,
           b.total_weighted_refined_prediction.value) for b in buckets]
  return result


def _blessing_record(blessing) -> dict:
  return {'files': sorted(os.listdir(blessing.uri)),
          **{k: blessing.get_custom_property(k)
             for k in ('blessed', 'current_model', 'current_model_id',
                       'baseline_model', 'baseline_model_id')
             if blessing.has_custom_property(k)}}


def _assert_close(ours: float, theirs: float, what):
  # Equal to float rounding: sums in another order, and the models answer
  # batches of another size (float32 results may differ in the last bit).
  assert (math.isnan(ours) and math.isnan(theirs)) or math.isclose(
      ours, theirs, rel_tol=1e-6, abs_tol=1e-6), (what, ours, theirs)


@pytest.mark.parametrize('model, baseline, blessed', [
    ('good', None, True),     # first run: value thresholds only
    ('poor', 'good', False),  # worse than the baseline, and too poor
    ('good', 'poor', True),   # better than the baseline
    ('good', 'good', True),   # its own baseline: a cluster's first run
])
def test_outputs_match_tfx_evaluators(tmp_path, inputs, model, baseline,
                                      blessed):
  theirs, their_blessing = _evaluate(tfx_executor.Executor, tmp_path / 'tfx',
                                     inputs, model, baseline)
  ours, our_blessing = _evaluate(our_executor.Executor, tmp_path / 'ours',
                                 inputs, model, baseline)

  their_metrics, our_metrics = _metrics(theirs), _metrics(ours)
  assert set(our_metrics) == set(their_metrics)
  # Overall and one slice per payment type and hour, each model's metrics.
  assert len(our_metrics) > 20 * 6
  for key, value in their_metrics.items():
    _assert_close(our_metrics[key], value, key)
  their_plots, our_plots = _plots(theirs), _plots(ours)
  assert set(our_plots) == set(their_plots)
  for key, buckets in their_plots.items():
    assert len(our_plots[key]) == len(buckets) == 1002
    for our_bucket, their_bucket in zip(our_plots[key], buckets):
      for ours_value, theirs_value in zip(our_bucket, their_bucket):
        _assert_close(ours_value, theirs_value, key)

  assert (tfma.load_validation_result(ours) ==
          tfma.load_validation_result(theirs))
  assert tfma.load_validation_result(ours).validation_ok is blessed
  assert _blessing_record(our_blessing) == _blessing_record(their_blessing)
  assert our_blessing.get_int_custom_property('blessed') == int(blessed)
  # What a notebook reads: TFMA's loader takes the files as they are.
  result = tfma.load_eval_result(ours)
  assert len(result.slicing_metrics) == len(
      tfma.load_eval_result(theirs).slicing_metrics)
  run = json.loads(io_utils.read_string_file(
      os.path.join(ours, 'eval_config.json')))
  assert run['evalConfig'] == json.loads(io_utils.read_string_file(
      os.path.join(theirs, 'eval_config.json')))['evalConfig']


def _overall(uri, metric: str) -> float:
  [value] = [v for (slice_key, key), v in _metrics(uri).items()
             if not slice_key and f'name: "{metric}"' in key]
  return value


@pytest.fixture(scope='module')
def trained(bundled_run, inputs) -> dict:
  """The bundled run's trained Keras model and its examples, as inputs."""
  root = local_paths.LocalPaths(bundled_run.output_dir).pipeline_root

  def first(folder):  # later tests may add runs to the bundled run's folder
    return min(folder.iterdir(), key=lambda p: int(p.name))
  examples = helpers.artifact(standard_artifacts.Examples,
                              first(root / 'CsvExampleGen' / 'examples'))
  examples.split_names = f'["{configs.TRAIN_SPLIT}", "{configs.EVAL_SPLIT}"]'
  model = helpers.artifact(standard_artifacts.Model,
                           first(root / 'Trainer' / 'model'), 20)
  return dict(inputs, examples=examples, trained=model)


@pytest.mark.parametrize('margin', [-1e-4, 1e-4])
def test_the_trained_model_at_each_threshold_is_judged_alike(tmp_path,
                                                              trained, margin):
  """The configured thresholds, the floors 1e-4 below and above its metrics.

  The bundled run's Keras model, its own baseline (a cluster's first run):
  1e-4 is far beyond the 1e-6 the two executors' metrics may differ by.
  """
  configured = configs.EVAL_THRESHOLDS
  first, _ = _evaluate(our_executor.Executor, tmp_path / 'measure', trained,
                       'trained', eval_config=create_eval_config(
                           configured, features.SLICE_FEATURE_KEYS))
  at_threshold = configs.EvalThresholds(
      min_auc=_overall(first, 'auc') + margin,
      min_accuracy=_overall(first, 'binary_accuracy') + margin,
      max_auc_regression=configured.max_auc_regression)
  config = create_eval_config(at_threshold, features.SLICE_FEATURE_KEYS)
  blessings = [
      _evaluate(executor.Executor, tmp_path / name, trained, 'trained',
                'trained', eval_config=config)[1].get_int_custom_property(
                    'blessed')
      for name, executor in (('tfx', tfx_executor), ('ours', our_executor))]
  assert blessings == [int(margin < 0)] * 2


def _config(change) -> tfma.EvalConfig:
  config = create_eval_config(THRESHOLDS, features.SLICE_FEATURE_KEYS)
  change(config)
  return config


@pytest.mark.parametrize('change, named', [
    (lambda c: c.metrics_specs.add().metrics.add(class_name='MeanLabel'),
     "metrics other than pipeline.metrics.histogram_metrics's: "
     'tfma.MeanLabel'),
    (lambda c: c.cross_slicing_specs.add(baseline_spec=tfma.SlicingSpec()),
     'cross slicing'),
    (lambda c: c.slicing_specs.add(
        slice_keys_sql='SELECT STRUCT(payment_type)'), 'SQL slicing'),
    (lambda c: setattr(c.model_specs[0], 'example_weight_key', 'trip_miles'),
     'example weights'),
])
def test_what_it_does_not_compute_is_refused_by_name(inputs, change, named):
  with pytest.raises(ValueError, match=f'does not support {named}'):
    InMemoryEvaluator(
        examples=channel_utils.as_channel([inputs['examples']]),
        model=channel_utils.as_channel([inputs['good']]),
        eval_config=_config(change))


def test_a_slicing_feature_the_examples_lack_is_named(tmp_path, inputs):
  config = _config(lambda c: c.slicing_specs.add(feature_keys=['tolls']))
  with pytest.raises(ValueError, match='Slicing feature "tolls" is not a '
                     'column of the examples'):
    _evaluate(our_executor.Executor, tmp_path, inputs, 'good',
              eval_config=config)


def test_a_model_without_the_label_signature_is_named(tmp_path, inputs):
  module = tf.Module()
  module.serve = tf.function(
      lambda examples: {PREDICTION_KEY: tf.zeros_like(examples, tf.float32)},
      input_signature=[tf.TensorSpec([None], tf.string)])
  tf.saved_model.save(module, str(tmp_path / 'model' / 'Format-Serving'),
                      signatures={signatures.SERVING_DEFAULT:
                                  module.serve.get_concrete_function()})
  inputs = dict(inputs, bare=helpers.artifact(standard_artifacts.Model,
                                              tmp_path / 'model'))
  with pytest.raises(ValueError, match='The model has no signature '
                     f'"{signatures.TRANSFORM_FEATURES}"'):
    _evaluate(our_executor.Executor, tmp_path / 'out', inputs, 'bare')
