"""`tfx pipeline create` and `tfx run create` with the local engine.

As a user runs them from the project folder.
"""

import subprocess

import pytest

import helpers

from pipeline import configs
from local import paths
from local import run_summary

pytestmark = pytest.mark.e2e

TFX = str(helpers.VENV_BIN / 'tfx')


def _tfx(args, env):
  return subprocess.run([TFX, *args, '--engine=local'],
                        cwd=configs.PROJECT_ROOT,
                        env=env,
                        capture_output=True,
                        text=True,
                        timeout=1200)


def test_tfx_cli_creates_and_runs_the_pipeline(tmp_path, small_data_dir):
  outputs = tmp_path / 'outputs'
  env = helpers.venv_env(
      HOME=str(tmp_path / 'home'),  # the CLI keeps its registry under $HOME
      DATA_PATH=str(small_data_dir),
      OUTPUT_DIR=str(outputs))

  created = _tfx(
      ['pipeline', 'create', '--pipeline_path=local_runner.py'], env)
  assert created.returncode == 0, created.stderr
  assert f'Pipeline "{configs.PIPELINE_NAME}" created successfully' in (
      created.stdout)
  # Creating registers the pipeline; it neither runs nor logs a run.
  assert not paths.LocalPaths(outputs).metadata_path.exists()
  assert not list(outputs.rglob('*.log'))

  listed = _tfx(['pipeline', 'list'], env)
  assert configs.PIPELINE_NAME in listed.stdout

  ran = _tfx(['run', 'create', f'--pipeline_name={configs.PIPELINE_NAME}'],
             env)
  assert ran.returncode == 0, ran.stderr[-3000:]
  summary = run_summary.latest_run(
      str(paths.LocalPaths(outputs).metadata_path))
  assert summary.node_states == {node: 'COMPLETE' for node in helpers.ALL_NODES}
  assert 'Pipeline run:' in ran.stdout
