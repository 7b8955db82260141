"""bench/step_rerun.py: a step of a finished run, re-run alone, as it ran."""

import json
from pathlib import Path
import subprocess
import sys

from local import metadata
from local import paths as local_paths
from pipeline import configs

import tensorflow as tf


def _rerun(metadata_db: Path, step: str, output_dir: Path, *flags):
  return subprocess.run(
      [sys.executable, '-m', 'bench.step_rerun', str(metadata_db), step,
       str(output_dir), *flags], cwd=configs.PROJECT_ROOT, capture_output=True,
      text=True, timeout=600, check=False)


def _outputs(metadata_db: Path, step: str) -> dict:
  """Output key -> URI of the step's newest completed execution."""
  from bench import step_rerun  # pylint: disable=g-import-not-at-top
  from ml_metadata.proto import metadata_store_pb2  # pylint: disable=g-import-not-at-top
  store = metadata.read_only_store(metadata_db)
  execution = step_rerun.newest_execution(store, step)
  return {event.path.steps[0].key:
          store.get_artifacts_by_id([event.artifact_id])[0].uri
          for event in store.get_events_by_execution_ids([execution.id])
          if event.type == metadata_store_pb2.Event.OUTPUT}


def _records(path: Path) -> list:
  return [record.numpy() for record in tf.data.TFRecordDataset(str(path))]


def test_a_re_run_evaluator_measures_and_judges_as_in_the_run(bundled_run,
                                                              tmp_path):
  metadata_db = local_paths.LocalPaths(bundled_run.output_dir).metadata_path
  done = _rerun(metadata_db, 'Evaluator', tmp_path / 'again', '--times', '2')
  assert done.returncode == 0, done.stderr[-3000:]
  runs = json.loads(done.stdout.splitlines()[-1])
  assert len(runs) == 2
  for figures in runs:
    assert figures['wall_seconds'] > 0 and figures['user_seconds'] > 0
    assert figures['system_seconds'] >= 0
  ran = {key: configs.PROJECT_ROOT / uri
         for key, uri in _outputs(metadata_db, 'Evaluator').items()}
  again = {key: tmp_path / 'again' / key / '0' for key in ran}
  assert ({p.name for p in again['blessing'].iterdir()} ==
          {p.name for p in ran['blessing'].iterdir()})
  metrics = 'metrics-00000-of-00001.tfrecord'
  assert _records(again['evaluation'] / metrics) == _records(
      ran['evaluation'] / metrics)


def test_a_step_that_did_not_run_is_named_with_those_that_did(bundled_run,
                                                              tmp_path):
  metadata_db = local_paths.LocalPaths(bundled_run.output_dir).metadata_path
  done = _rerun(metadata_db, 'Evaluatr', tmp_path / 'again')
  assert done.returncode == 1
  last = done.stderr.strip().splitlines()[-1]
  assert last.startswith('error: no step ending with "Evaluatr" ran to '
                         'completion in this store; its steps: ')
  assert 'InMemoryEvaluator' in last and 'Trainer' in last


def test_a_missing_store_is_named(tmp_path):
  done = _rerun(tmp_path / 'metadata.db', 'Evaluator', tmp_path / 'again')
  assert done.returncode == 2
  assert done.stderr.strip().splitlines()[-1].endswith(
      f'error: no ML Metadata store at {tmp_path / "metadata.db"}')


def test_a_folder_with_files_is_not_taken_for_the_outputs(tmp_path):
  metadata_db = tmp_path / 'metadata.db'
  metadata_db.touch()
  kept = tmp_path / 'outputs' / 'model.txt'
  kept.parent.mkdir()
  kept.write_text('a model')
  done = _rerun(metadata_db, 'Evaluator', kept.parent)
  assert done.returncode == 2
  assert done.stderr.strip().splitlines()[-1].endswith(
      f'error: {kept.parent} is not an empty folder: the outputs go to an '
      'empty or new one')
  assert kept.read_text() == 'a model'
