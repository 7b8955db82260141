"""A task container's process, forked with TensorFlow and TFX already loaded.

The backend's pod runs the container's command as a new process in the
image's folder, with the pod's environment only. Starting Python and
loading TensorFlow and TFX is ~5 CPU-seconds a task, most of a small
task's. Here a fork server (multiprocessing's) loads those libraries once,
from the venv (which plays the image's Python) with the image's
environment, and each `python -m MODULE` task is a fork of it that takes
the pod's folder, and the environment and sys.path a new interpreter has
there, and runs the module as `python -m` does, its output to the log.
Nothing the image holds is preloaded: the project's modules load in the
task from the image's folder, and a task finding one loaded fails.

Any other command, and every task when KFP_TWIN_FRESH_PROCESSES=1, runs as
a new process (`subprocess`).
"""

import json
import multiprocessing
from multiprocessing import forkserver
import os
from pathlib import Path
import runpy
import shutil
import subprocess
import sys
import tempfile
import threading
from typing import Dict, List, Tuple

# What TFX's container entrypoint loads before it runs an executor (not the
# entrypoint itself: `python -m` runs it afresh as __main__).
PRELOADED = (
    'tensorflow', 'apache_beam', 'absl.app', 'tfx.components',
    'tfx.types.standard_component_specs',
    'tfx.orchestration.kubeflow.v2.container.kubeflow_v2_entrypoint_utils',
    'tfx.orchestration.portable.outputs_utils',
    'kfp.pipeline_spec.pipeline_spec_pb2')
FRESH_PROCESSES_VARIABLE = 'KFP_TWIN_FRESH_PROCESSES'
_PROJECT_ROOT = Path(__file__).resolve().parents[2]
_server_lock = threading.Lock()
_server_started = False


def _python_module(argv: List[str], env: Dict[str, str]) -> bool:
  """Whether argv is `python -m MODULE ...` with the venv's python."""
  python = shutil.which(argv[0], path=env.get('PATH', '')) if argv else None
  return (len(argv) >= 3 and argv[1] == '-m' and python is not None and
          os.path.realpath(python) == os.path.realpath(sys.executable))


_fresh = {}  # (folder, environment) -> what python -m starts with there


def _fresh_interpreter(cwd: str, env: Dict[str, str]) -> Tuple[list, dict]:
  """The sys.path and os.environ of `python -m` started in cwd with env.

  Python adds to its environment as it starts (LC_CTYPE, by PEP 538).
  """
  key = (cwd, tuple(sorted(env.items())))
  if key not in _fresh:
    found = subprocess.run(
        [sys.executable, '-c', 'import json, os, sys; '
         'print(json.dumps([sys.path, dict(os.environ)]))'],
        env=env, cwd=cwd, capture_output=True, text=True, check=True)
    path, environ = json.loads(found.stdout)
    _fresh[key] = [cwd, *path[1:]], environ
  return _fresh[key]


def _start_server(env: Dict[str, str]) -> None:
  """Starts the fork server (once per process) in the image's environment."""
  global _server_started
  with _server_lock:
    if _server_started:
      return
    multiprocessing.get_context('forkserver').set_forkserver_preload(
        list(PRELOADED))
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
      forkserver.ensure_running()
    finally:
      os.environ.clear()
      os.environ.update(saved)
    _server_started = True


def _project_modules() -> List[str]:
  """Loaded modules of the project's own code (the tests' and venv's aside)."""
  others = (_PROJECT_ROOT / 'tests', Path(sys.prefix).resolve())
  loaded = []
  for name, module in list(sys.modules.items()):
    path = getattr(module, '__file__', None)
    path = path and Path(path).resolve()
    if path and path.is_relative_to(_PROJECT_ROOT) and not any(
        path.is_relative_to(other) for other in others):
      loaded.append(name)
  return loaded


def _task(module: str, args: List[str], cwd: str,
          started: Tuple[list, dict], log: str) -> None:
  """In the fork: becomes the container's process and runs the module."""
  output = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
  os.dup2(output, 1)
  os.dup2(output, 2)
  os.close(output)
  os.chdir(cwd)
  sys_path, environ = started
  os.environ.clear()
  os.environ.update(environ)
  sys.path[:] = sys_path
  loaded = _project_modules()
  if loaded:
    raise RuntimeError(f'the fork server loaded the project\'s {loaded}')
  sys.argv = [module, *args]
  runpy.run_module(module, run_name='__main__', alter_sys=True)


def run(argv: List[str], env: Dict[str, str], cwd: Path,
        timeout: float) -> Tuple[int, bytes]:
  """Runs a container's command as its pod does.

  Args:
    argv: the command and its arguments.
    env: the pod's whole environment.
    cwd: the image's working folder.
    timeout: seconds before the process is killed.

  Returns:
    Its exit status, and its standard output and error, interleaved.

  Raises:
    subprocess.TimeoutExpired: it ran past the timeout.
  """
  if os.environ.get(FRESH_PROCESSES_VARIABLE) or not _python_module(argv,
                                                                      env):
    done = subprocess.run(argv, env=env, cwd=cwd, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=timeout)
    return done.returncode, done.stdout
  _start_server(env)
  with tempfile.NamedTemporaryFile(suffix='.log') as log:
    process = multiprocessing.get_context('forkserver').Process(
        target=_task, args=(argv[2], argv[3:], str(cwd),
                            _fresh_interpreter(str(cwd), env), log.name))
    process.start()
    process.join(timeout)
    if process.exitcode is None:
      process.kill()
      process.join()
      raise subprocess.TimeoutExpired(argv, timeout)
    return process.exitcode, Path(log.name).read_bytes()
