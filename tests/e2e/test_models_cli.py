"""`taxi-tips models` and `taxi-tips predict` against models two runs pushed.

Two pipeline runs push the models; the commands run as a user runs them
from the virtual environment.
"""

import csv
import dataclasses
import io
import json
import subprocess

import numpy as np
import pytest
import tensorflow as tf

import helpers
from local import paths as local_paths
from pipeline import configs
from models import push_destination

pytestmark = pytest.mark.e2e

TAXI_TIPS = str(helpers.VENV_BIN / 'taxi-tips')
# Low floors: two quick runs must both be pushed, the second being better.
THRESHOLDS = dataclasses.replace(configs.EVAL_THRESHOLDS, min_auc=0.5,
                                 min_accuracy=0.5)


def taxi_tips(*args, stdin=None) -> subprocess.CompletedProcess:
  return subprocess.run([TAXI_TIPS, *args], input=stdin, capture_output=True,
                        text=True, timeout=300, env=helpers.venv_env())


@pytest.fixture(scope='module')
def pushed(tmp_path_factory, small_data_dir):
  """An output folder with two versions pushed by two runs.

  Returned with their numbers, oldest first.
  """
  output_dir = tmp_path_factory.mktemp('outputs')
  for steps in (10, 150):
    run = helpers.run_pipeline(small_data_dir, output_dir, steps, THRESHOLDS)
    assert run.pushed_model, run.node_states
  serving = local_paths.LocalPaths(output_dir).serving_model_dir
  return output_dir, sorted(int(p.name) for p in serving.iterdir())


def _by_hand(version_dir, rows) -> np.ndarray:
  """The served SavedModel's answers, loaded and called directly."""
  serve_raw = tf.saved_model.load(str(version_dir)).signatures['serving_raw']
  fields = {k: tf.constant([r[k] for r in rows])
            for k in serve_raw.structured_input_signature[1]}
  return serve_raw(**fields)['big_tip_probability'].numpy().ravel()


def _csv_answers(stdout: str) -> list:
  return [float(r['big_tip_probability'])
          for r in csv.DictReader(io.StringIO(stdout))]


def test_list_and_show_after_two_pushes(pushed):
  output_dir, (first, second) = pushed
  listed = taxi_tips('models', 'list', '--output-dir', str(output_dir))
  assert listed.returncode == 0, listed.stderr
  header, newest, oldest = listed.stdout.splitlines()
  assert header.split()[:3] == ['VERSION', 'PUSHED', 'SERVED']
  assert newest.split()[:2] == [str(second), newest.split()[1]]
  assert newest.split()[2] == '*' and '*' not in oldest.split()
  assert oldest.startswith(str(first))

  shown = taxi_tips('models', 'show', str(second), '--output-dir',
                    str(output_dir))
  assert shown.returncode == 0, shown.stderr
  record = json.loads(shown.stdout[shown.stdout.index('{'):
                                   shown.stdout.index('\n}') + 2])
  assert record['version'] == second
  # The second run's candidate against the first's model, as evaluated.
  assert record['metrics']['candidate']['auc'] >= (
      record['metrics']['baseline']['auc'])
  assert f'{record["metrics"]["candidate"]["auc"]:.3f}' in newest
  lineage = shown.stdout.split('lineage (ML Metadata):\n')[1].splitlines()
  assert [line.split()[0] for line in lineage] == [
      'data', 'examples', 'transform', 'model', 'evaluation', 'push']
  assert lineage[3].split()[1] == record['model']


def test_reading_the_registry_and_runs_loads_no_tensorflow(pushed):
  """So that `models list`, `show` and `report --list` answer at once."""
  output_dir, (_, second) = pushed
  where = ['--output-dir', str(output_dir)]
  commands = [['models', 'list', *where], ['models', 'show', str(second),
                                           *where], ['report', '--list', *where]]
  code = ('import sys; from serving import cli; '
          f'print([cli.main(c) for c in {commands!r}], '
          "'tensorflow' in sys.modules, file=sys.stderr)")
  result = subprocess.run([helpers.VENV_BIN / 'python', '-c', code],
                          capture_output=True, text=True, timeout=60,
                          cwd=configs.PROJECT_ROOT)
  assert result.stderr.splitlines()[-1] == '[0, 0, 0] False', result.stderr


def test_predict_csv_and_json_lines_equal_the_model_by_hand(
    pushed, held_out_rows, tmp_path):
  output_dir, (_, served) = pushed
  rows = held_out_rows[:30]
  rows_csv = helpers.write_csv(tmp_path / 'rows.csv', rows)  # label included
  from_csv = taxi_tips('predict', str(rows_csv), '--output-dir',
                       str(output_dir))
  assert from_csv.returncode == 0, from_csv.stderr
  serving = local_paths.LocalPaths(output_dir).serving_model_dir
  expected = _by_hand(serving / str(served), rows)
  np.testing.assert_allclose(_csv_answers(from_csv.stdout), expected,
                             rtol=1e-5)

  lines = ''.join(json.dumps({k: v for k, v in r.items() if k != 'tips'})
                  + '\n' for r in rows)
  from_json = taxi_tips('predict', '--output-dir', str(output_dir),
                        '--output-format', 'jsonl', stdin=lines)
  assert from_json.returncode == 0, from_json.stderr
  answers = [json.loads(line)['big_tip_probability']
             for line in from_json.stdout.splitlines()]
  np.testing.assert_allclose(answers, expected, rtol=1e-5)

  first = pushed[1][0]
  from_first = taxi_tips('predict', str(rows_csv), '--version', str(first),
                         '--output-dir', str(output_dir))
  np.testing.assert_allclose(_csv_answers(from_first.stdout),
                             _by_hand(serving / str(first), rows), rtol=1e-5)


def test_a_bad_row_is_named_and_the_others_answered(pushed, held_out_rows,
                                                    tmp_path):
  output_dir, _ = pushed
  rows = [dict(r) for r in held_out_rows[:5]]
  rows[2]['trip_seconds'] = '480.5'
  rows_csv = helpers.write_csv(tmp_path / 'rows.csv', rows)
  result = taxi_tips('predict', str(rows_csv), '--output-dir', str(output_dir))
  assert result.returncode == 1
  assert result.stderr.strip() == (
      "error: row 3: trip_seconds: expected an integer, got '480.5'")
  answers = list(csv.DictReader(io.StringIO(result.stdout)))
  assert len(answers) == 5
  assert answers[2] == {'big_tip_probability': '', 'error': (
      "row 3: trip_seconds: expected an integer, got '480.5'")}
  assert all(a['big_tip_probability'] and not a['error']
             for i, a in enumerate(answers) if i != 2)

  strict = taxi_tips('predict', str(rows_csv), '--strict', '--output-dir',
                     str(output_dir))
  assert strict.returncode == 1 and strict.stdout == ''


def test_rollback_serves_the_old_model_under_a_new_number_then_prune(
    pushed, held_out_rows, small_data_dir, tmp_path):
  output_dir, (first, second) = pushed
  serving = local_paths.LocalPaths(output_dir).serving_model_dir
  rows = held_out_rows[:10]
  old_answers = _by_hand(serving / str(first), rows)

  rolled = taxi_tips('models', 'rollback', '--output-dir', str(output_dir))
  assert rolled.returncode == 0, rolled.stderr
  listed = taxi_tips('models', 'list', '--output-dir', str(output_dir))
  newest = listed.stdout.splitlines()[1].split()
  third = int(newest[0])
  assert third > second and newest[2] == '*'
  assert f'rollback to version {first}' in listed.stdout.splitlines()[1]
  predicted = taxi_tips('predict', str(helpers.write_csv(
      tmp_path / 'rows.csv', rows)), '--output-dir', str(output_dir))
  np.testing.assert_allclose(_csv_answers(predicted.stdout), old_answers,
                             rtol=1e-5)
  assert sorted(int(p.name) for p in serving.iterdir()) == [first, second,
                                                            third]

  # The next run compares its model with the served one (the first), not
  # with the latest blessed one (the second).
  run = helpers.run_pipeline(small_data_dir, output_dir, 60, THRESHOLDS)
  first_model = push_destination.version_record(
      str(serving / str(first)))['model']
  assert run.baseline_model == first_model

  served = max(int(p.name) for p in serving.iterdir())
  pruned = taxi_tips('models', 'prune', '--keep', '1', '--output-dir',
                     str(output_dir))
  assert pruned.returncode == 0, pruned.stderr
  assert [int(p.name) for p in serving.iterdir()] == [served]


def test_bad_requests_get_one_line_and_status_2(pushed, tmp_path):
  output_dir, _ = pushed
  for args, message in [
      (('models', 'show', '7'), 'error: no version 7 at '),
      (('models', 'prune', '--keep', '0'), 'error: --keep 0: at least the '
       'served version stays'),
      (('predict', str(tmp_path / 'missing.csv')), 'error: '),
  ]:
    result = taxi_tips(*args, '--output-dir', str(output_dir))
    assert result.returncode == 2, (args, result.stderr)
    assert result.stderr.startswith(message)
    assert len(result.stderr.strip().splitlines()) == 1
