"""Starts the serving check's probe process (probe.py).

The process starts when a check needs it or ahead of it. This module imports
nothing heavy, so a runner can start the process before it imports
TensorFlow itself.
"""

import base64
import json
import subprocess
import sys

MODULE = 'pipeline.components.serving_check.probe'

# A probe process started ahead of its check, if any.
_prestarted = []


def arguments(model_dir: str, rows: list, out: str, examples_signature: str,
              fields_signature: str, output_key: str) -> str:
  """probe.py's line of arguments (its docstring), rows base64-encoded.

  Args:
    model_dir: the SavedModel.
    rows: serialized tf.Examples.
    out: the file for probe.py's JSON.
    examples_signature: the signature taking serialized tf.Examples.
    fields_signature: the signature taking each feature's CSV field text.
    output_key: the output both signatures answer in.

  Returns:
    The line, newline included.
  """
  return json.dumps([
      model_dir, [base64.b64encode(row).decode() for row in rows], out,
      examples_signature, fields_signature, output_key]) + '\n'


def _start() -> subprocess.Popen:
  return subprocess.Popen(
      [sys.executable, '-m', MODULE],
      stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
      stderr=subprocess.PIPE, text=True)


def prestart() -> subprocess.Popen:
  """Starts the next check's probe process now.

  Its TensorFlow import then overlaps the steps before the check instead of
  following the Trainer. It is still a fresh process: it has not seen the
  model. If no check uses it, it exits when this process does (its stdin
  closes).

  Returns:
    The process.
  """
  _prestarted.append(_start())
  return _prestarted[-1]


def take() -> subprocess.Popen:
  """A probe process waiting for its arguments.

  The prestarted one if it is still alive, else a new one.
  """
  probe = _prestarted.pop() if _prestarted else None
  if probe is None or probe.poll() is not None:
    probe = _start()
  return probe
