"""The serving check's probe process (probe.py), started when a check needs
it or ahead of it. Imports nothing heavy, so a runner can start the process
before it imports TensorFlow itself."""

import subprocess
import sys

# A probe process started ahead of its check, if any.
_prestarted = []


def _start() -> subprocess.Popen:
  return subprocess.Popen(
      [sys.executable, '-m', 'pipeline.components.serving_check.probe'],
      stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
      stderr=subprocess.PIPE, text=True)


def prestart() -> subprocess.Popen:
  """Starts the next check's probe process now, so that its TensorFlow import
  overlaps the steps before the check instead of following the Trainer. It
  is still a fresh process: it has not seen the model. If no check uses it,
  it exits when this process does (its stdin closes).

  Returns:
    The process.
  """
  _prestarted.append(_start())
  return _prestarted[-1]


def take() -> subprocess.Popen:
  """A probe process waiting for its arguments: the prestarted one if it is
  still alive, else a new one."""
  probe = _prestarted.pop() if _prestarted else None
  if probe is None or probe.poll() is not None:
    probe = _start()
  return probe
