"""The whole DAG on a slice of the data, as local_runner.py wires it.

Through the local runner's DAG runner, SQLite ML Metadata and the steps
without Beam; then a regressed model must not be pushed.
"""

from pathlib import Path
import re

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_model_analysis as tfma

import helpers
from pipeline import configs
from local import paths as local_paths
from local import run_summary
from models import features
from pipeline.metrics import eval_results
from pipeline.pipeline import RESOLVER_ID

pytestmark = pytest.mark.e2e

# Every run of this module, as local_runner.py runs, with the same options so
# the unchanged and the regressed run can reuse the first run's steps.
@pytest.fixture(scope='module')
def output_dir(tmp_path_factory) -> Path:
  return tmp_path_factory.mktemp('outputs')


@pytest.fixture(scope='module')
def first_run(small_data_dir, output_dir) -> run_summary.RunSummary:
  return helpers.run_pipeline(small_data_dir, output_dir, train_steps=150)


@pytest.fixture(scope='module')
def pushed_after_first_run(first_run, output_dir) -> dict:
  return helpers.pushed_versions(output_dir)


@pytest.fixture(scope='module')
def unchanged_run(pushed_after_first_run, small_data_dir,
                  output_dir) -> run_summary.RunSummary:
  """The first run again, nothing changed."""
  return helpers.run_pipeline(small_data_dir, output_dir, train_steps=150)


@pytest.fixture(scope='module')
def regressed_run(unchanged_run, small_data_dir,
                  output_dir) -> run_summary.RunSummary:
  """Same data, a model trained for 3 steps: clearly worse than the first."""
  return helpers.run_pipeline(small_data_dir, output_dir, train_steps=3)


def test_first_run_completes_every_node_and_pushes_one_version(
    first_run, pushed_after_first_run, output_dir):
  assert first_run.node_states == {node: 'COMPLETE' for node in helpers.ALL_NODES}
  assert first_run.blessed is True
  assert first_run.baseline_model is None  # nothing was blessed before
  [version] = pushed_after_first_run
  serving_dir = local_paths.LocalPaths(output_dir).serving_model_dir
  assert first_run.pushed_model == str(serving_dir / version)
  assert version.isdigit()  # TF Serving loads the highest numeric version
  assert Path(serving_dir / version / 'saved_model.pb').is_file()


def test_report_shows_the_evaluation_of_the_pushed_model(first_run):
  metrics = eval_results.overall_metrics(first_run.evaluation)
  assert set(metrics) == {''}  # one model: there was no baseline
  assert metrics['']['auc'] >= helpers.SMALL_DATA_THRESHOLDS.min_auc
  assert (metrics['']['binary_accuracy'] >=
          helpers.SMALL_DATA_THRESHOLDS.min_accuracy)
  report = run_summary.format_summary(first_run)
  assert (f"model      AUC {metrics['']['auc']:.3f}  "
          f"accuracy {metrics['']['binary_accuracy']:.3f}") in report


def test_evaluation_has_every_metric_per_payment_type_and_hour(first_run):
  by_slice = {}  # sliced-by column ('' overall) -> metric names
  for metrics in tfma.load_metrics(first_run.evaluation):
    keys = metrics.slice_key.single_slice_keys
    by_slice.setdefault(keys[0].column if keys else '', set()).update(
        kv.key.name for kv in metrics.metric_keys_and_values)
  assert set(by_slice) == {'', *features.SLICE_FEATURE_KEYS}
  expected = {'example_count', 'auc', 'binary_accuracy', 'precision', 'recall',
              'calibration'}
  for column, names in by_slice.items():
    assert expected <= names, column


def test_pushed_model_scores_raw_examples_it_never_saw(
    first_run, held_out_rows):
  model = tf.saved_model.load(first_run.pushed_model)
  spec = helpers.raw_feature_spec()
  examples = tf.constant([helpers.to_example(r, spec) for r in held_out_rows])
  output = model.signatures['serving_default'](examples=examples)
  probabilities = output['big_tip_probability'].numpy().ravel()

  labels = np.array([helpers.big_tip(r) for r in held_out_rows])
  accuracy = np.mean((probabilities > 0.5) == labels)
  always_no = 1 - labels.mean()
  assert accuracy > always_no + 0.05
  assert np.all((probabilities >= 0) & (probabilities <= 1))


def test_csv_field_signature_agrees_with_the_example_signature(
    first_run, held_out_rows):
  model = tf.saved_model.load(first_run.pushed_model)
  spec = helpers.raw_feature_spec()
  rows = held_out_rows[:50]
  assert any('' in r.values() for r in rows)  # missing values are covered
  raw = {
      k: tf.constant([r[k] for r in rows]) for k in spec if k != 'tips'
  }
  from_raw = model.signatures['serving_raw'](**raw)['big_tip_probability']
  from_examples = model.signatures['serving_default'](
      examples=tf.constant([helpers.to_example(r, spec) for r in rows])
  )['big_tip_probability']
  np.testing.assert_allclose(from_raw.numpy(), from_examples.numpy(),
                             rtol=1e-5)


def test_csv_field_signature_reads_numbers_as_example_gen_does(
    first_run, held_out_rows):
  serve_raw = tf.saved_model.load(first_run.pushed_model).signatures[
      'serving_raw']
  spec = helpers.raw_feature_spec()
  row = {k: v for k, v in held_out_rows[0].items() if k in spec}
  row.update(trip_seconds='480', fare='12')

  def predict(**changes):
    fields = {k: tf.constant([v]) for k, v in {**row, **changes}.items()
              if k != 'tips'}
    return serve_raw(**fields)['big_tip_probability'].numpy()

  np.testing.assert_array_equal(
      predict(trip_seconds='480.0', fare='12.0'), predict())
  for feature, value, reason in [('trip_seconds', '480.5', 'an integer'),
                                 ('fare', 'abc', 'a number')]:
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=f'{feature}: expected {reason}'):
      predict(**{feature: value})


def test_unchanged_rerun_is_cached_through_the_pusher(
    unchanged_run, pushed_after_first_run, output_dir):
  # The resolver never offers the candidate as its own baseline, so the
  # Evaluator sees the same inputs as in the first run.
  assert unchanged_run.node_states == {
      node: 'COMPLETE' if node == RESOLVER_ID else 'CACHED'
      for node in helpers.ALL_NODES}
  assert unchanged_run.baseline_model is None
  assert unchanged_run.blessed is True
  assert unchanged_run.pushed_model is None
  assert helpers.pushed_versions(output_dir) == pushed_after_first_run


def test_second_run_compares_against_the_first_blessed_model(
    first_run, regressed_run):
  assert regressed_run.baseline_model == first_run.trained_model
  assert regressed_run.trained_model != first_run.trained_model


def test_second_run_reuses_everything_upstream_of_training(regressed_run):
  for node in ('CsvExampleGen', 'StatisticsGen', 'Transform'):
    assert regressed_run.node_states[node] == 'CACHED', node
  for node in ('Trainer', 'Evaluator', 'Pusher'):
    assert regressed_run.node_states[node] == 'COMPLETE', node


def test_regressed_model_is_not_blessed_and_nothing_is_pushed(
    regressed_run, pushed_after_first_run, output_dir):
  assert regressed_run.blessed is False
  assert regressed_run.pushed_model is None
  assert helpers.pushed_versions(output_dir) == pushed_after_first_run
  report = run_summary.format_summary(regressed_run)
  assert 'did not bless' in report
  # Both models' figures, and the failed check that withheld the blessing.
  metrics = eval_results.overall_metrics(regressed_run.evaluation)
  assert metrics['candidate']['auc'] < metrics['baseline']['auc']
  assert re.search(r'^  candidate +AUC 0\.\d{3}', report, re.MULTILINE)
  assert re.search(r'^  baseline +AUC 0\.\d{3}', report, re.MULTILINE)
  assert re.search(r"^  auc of the candidate minus the baseline's: "
                   r'-\d\.\d{4}, required at least -1e-10$', report,
                   re.MULTILINE)


def test_regression_is_caught_by_the_change_threshold(regressed_run, output_dir):
  evaluations = local_paths.LocalPaths(output_dir).pipeline_root / 'Evaluator'
  [result_dir] = [
      d for d in (evaluations / 'evaluation').iterdir()
      if tfma.load_validation_result(str(d)).validation_ok is False
  ]
  failures = [
      failure
      for per_slice in tfma.load_validation_result(
          str(result_dir)).metric_validations_per_slice
      for failure in per_slice.failures
  ]
  assert any(f.metric_key.name == 'auc' and
             f.metric_threshold.HasField('change_threshold')
             for f in failures)


def test_a_first_model_below_the_thresholds_is_not_blessed(
    small_data_dir, tmp_path):
  # The configured floors, on a model trained for a few steps.
  run = helpers.run_pipeline(small_data_dir, tmp_path, train_steps=3,
                             eval_thresholds=configs.EVAL_THRESHOLDS)
  assert run.baseline_model is None
  assert run.blessed is False
  assert run.pushed_model is None
  assert not local_paths.LocalPaths(tmp_path).serving_model_dir.exists()
  assert re.search(r'^  auc of the model: 0\.\d{4}, required at least 0\.93$',
                   run_summary.format_summary(run), re.MULTILINE)
