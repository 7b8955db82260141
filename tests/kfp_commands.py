"""kubeflow_runner.py's cluster commands run as a user runs them.

For the tests of tests/cluster/ that run them against a local KFP API
server (tests/fakes/kfp_api_server.py; its fixture: tests/cluster/conftest.py).
"""

import subprocess
import sys

import helpers

STORAGE_ROOT = 'gs://bucket-under-test'


def cli(endpoint, *args, **env):
  env = dict(helpers.venv_env(STORAGE_ROOT=STORAGE_ROOT,
                              KF_PIPELINES_ENDPOINT=endpoint), **env)
  return subprocess.run(
      [sys.executable, str(helpers.KUBEFLOW_RUNNER), *args],
      env=env, capture_output=True, text=True, timeout=120)


def ok(result):
  assert result.returncode == 0, result.stdout + result.stderr
  return result.stdout


def one_error_line(result, returncode=1) -> str:
  assert result.returncode == returncode, result.stdout + result.stderr
  [line] = result.stderr.splitlines()
  assert line.startswith('error: ')
  return line
