"""The push destination: one numbered SavedModel directory per pushed version
(the layout TF Serving watches)."""

import os

from tfx.dsl.io import fileio

# Written by SavedModel export (TF >= 2.9): hashes of the graph, signatures
# and variables, so equal bytes mean the same model.
_FINGERPRINT = 'fingerprint.pb'


def latest_version_dir(push_destination: str) -> str:
  """The newest pushed version.

  Args:
    push_destination: a local or GCS folder of numbered version folders.

  Returns:
    The highest numeric version folder's path, or '' if there is none.
  """
  if not fileio.exists(push_destination):
    return ''
  versions = [
      name.rstrip('/') for name in fileio.listdir(push_destination)
      if name.rstrip('/').isdigit()
  ]
  if not versions:
    return ''
  return os.path.join(push_destination, max(versions, key=int))


def _fingerprint(saved_model_dir: str) -> bytes:
  path = os.path.join(saved_model_dir, _FINGERPRINT)
  if not fileio.exists(path):
    return b''
  with fileio.open(path, 'rb') as f:
    return f.read()


def same_model(saved_model_dir: str, other_dir: str) -> bool:
  """Whether two SavedModel directories hold the same model.

  Args:
    saved_model_dir: a SavedModel directory.
    other_dir: another.

  Returns:
    True if both carry the same SavedModel fingerprint (never for a model
    without one).
  """
  fingerprint = _fingerprint(saved_model_dir)
  return bool(fingerprint) and fingerprint == _fingerprint(other_dir)
