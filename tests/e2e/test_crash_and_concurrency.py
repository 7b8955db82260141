"""local_runner.py killed mid-run and started twice.

A second run on the same outputs refuses at once, a run killed with SIGKILL
leaves nothing that a re-run cannot finish, and no partial model version
ever appears.
"""

import os
from pathlib import Path
import signal
import subprocess
import sys
import threading

import pytest
import tensorflow as tf

import helpers
from local import paths as local_paths
from pipeline import configs

pytestmark = pytest.mark.e2e


def _start(data: Path, output_dir: Path) -> subprocess.Popen:
  return subprocess.Popen(
      [sys.executable, str(configs.PROJECT_ROOT / 'local_runner.py')],
      env=dict(os.environ, DATA_PATH=str(data), OUTPUT_DIR=str(output_dir)),
      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


# How long a run may take to reach the line a test waits for.
_WAIT_SECONDS = 600


def _wait_for(run: subprocess.Popen, line: str) -> None:
  """Reads the run's log up to line, killing a run that takes too long."""
  watchdog = threading.Timer(_WAIT_SECONDS, run.kill)
  watchdog.start()
  try:
    for seen in run.stderr:
      if line in seen:
        return
  finally:
    watchdog.cancel()
  raise AssertionError(f'the run ended (or passed {_WAIT_SECONDS} s) before '
                       f'"{line}"')


def _kill(run: subprocess.Popen) -> None:
  os.kill(run.pid, signal.SIGKILL)
  run.wait()


def test_killed_runs_resume_and_a_second_run_refuses(tmp_path, bundled_rows):
  data = helpers.write_csv(tmp_path / 'data' / 'data.csv', bundled_rows).parent
  output_dir = tmp_path / 'outputs'
  paths = local_paths.LocalPaths(output_dir)

  first = _start(data, output_dir)
  _wait_for(first, 'Component Trainer is running.')
  second = helpers.run_local_runner(data, output_dir)
  assert second.returncode == 3
  assert second.stderr.startswith(
      f'error: another run is using {output_dir} (pid {first.pid}, started ')
  _kill(first)

  # The lock died with its process; what finished before the kill is reused.
  third = _start(data, output_dir)
  _wait_for(third, 'Component Pusher is running.')
  _kill(third)

  fourth = helpers.run_local_runner(data, output_dir, timeout=900)
  assert fourth.returncode == 0, fourth.stderr[-3000:]
  for node in ('CsvExampleGen', 'StatisticsGen', 'DataGate', 'Transform',
               'Trainer', 'Evaluator'):
    assert f'  {node:32} CACHED' in fourth.stdout, node
  # One whole version, whether the kill came before, during or after the
  # copy: a staged copy is never taken for a version and is cleared.
  [version] = paths.serving_model_dir.iterdir()
  assert version.name.isdigit()
  model = tf.saved_model.load(str(version))
  assert 'serving_default' in model.signatures
