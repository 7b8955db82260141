"""The push destination: one numbered SavedModel directory per version.

One directory per pushed version: the layout TF Serving watches.

A version appears whole or not at all: it is staged under a hidden name
that TF Serving and this module ignore, then renamed (local disks), or, where
renames are copies (GCS), copied with `saved_model.pb` last, the file a
version is only loadable with. A folder without it, left by a crash, is
never taken as a version.
"""

import json
import os
import time
from typing import Optional

from tensorflow_metadata.proto.v0 import statistics_pb2
from tfx.dsl.io.plugins import local

_SAVED_MODEL = 'saved_model.pb'
# Written by SavedModel export (TF >= 2.9): hashes of the graph, signatures
# and variables, so equal bytes mean the same model.
_FINGERPRINT = 'fingerprint.pb'
_STAGING_PREFIX = '.incomplete-'
# TFDV statistics of the data a version was trained on (its train split),
# for the data gate. assets.extra/ holds files for tools beside TF Serving.
TRAINING_STATISTICS = os.path.join('assets.extra', 'training_statistics.pb')
# Where a version came from (run, metrics, code, image, rollback), JSON.
RECORD = os.path.join('assets.extra', 'record.json')


def _files(path: str):
  """The file system of path: TFX's local one, or its fileio for a URL.

  The local one loads no TensorFlow, so reading a local registry (`taxi-tips
  models list`) takes a fraction of a second; fileio (TensorFlow's file
  systems) reads `gs://`.
  """
  if '://' not in path:
    return local.LocalFilesystem
  from tfx.dsl.io import fileio  # pylint: disable=g-import-not-at-top
  return fileio


def _read(path: str, mode: str = 'r'):
  with _files(path).open(path, mode) as f:
    return f.read()


def _versions(push_destination: str) -> list:
  """The complete versions' numbers, lowest first."""
  files = _files(push_destination)
  if not files.exists(push_destination):
    return []
  numbers = [name.rstrip('/') for name in files.listdir(push_destination)]
  return sorted(int(n) for n in numbers if n.isdigit() and files.exists(
      os.path.join(push_destination, n, _SAVED_MODEL)))


def latest_version_dir(push_destination: str) -> str:
  """The newest pushed version.

  Args:
    push_destination: a local or GCS folder of numbered version folders.

  Returns:
    The highest complete version folder's path, or '' if there is none.
  """
  versions = _versions(push_destination)
  return os.path.join(push_destination, str(versions[-1])) if versions else ''


def publish(saved_model_dir: str, push_destination: str,
            training_statistics: Optional[str] = None,
            record: Optional[dict] = None) -> str:
  """Copies a SavedModel in as the new highest version, appearing whole.

  Args:
    saved_model_dir: the SavedModel to publish.
    push_destination: a local or GCS folder of numbered version folders.
    training_statistics: a binary DatasetFeatureStatisticsList file to
      store with it as TRAINING_STATISTICS.
    record: what to say of the version in its RECORD, besides its number
      and the time (`version`, `pushed_at`).

  Returns:
    The new version folder's path; its name is the time in seconds, or one
    more than the highest version if that is not lower.

  Staged copies a crashed push left behind are removed first: one pipeline
  pushes to a destination at a time.
  """
  from tfx.utils import io_utils  # pylint: disable=g-import-not-at-top
  files = _files(push_destination)
  versions = _versions(push_destination)
  version = str(max(int(time.time()), versions[-1] + 1 if versions else 0))
  final = os.path.join(push_destination, version)
  staged = os.path.join(push_destination, _STAGING_PREFIX + version)
  for name in (files.listdir(push_destination)
               if files.exists(push_destination) else []):
    if name.startswith(_STAGING_PREFIX):  # left by a push that crashed
      files.rmtree(os.path.join(push_destination, name.rstrip('/')))
  io_utils.copy_dir(saved_model_dir, staged)
  if training_statistics:
    io_utils.copy_file(training_statistics,
                       os.path.join(staged, TRAINING_STATISTICS),
                       overwrite=True)
  io_utils.write_string_file(
      os.path.join(staged, RECORD),
      json.dumps({**(record or {}), 'version': int(version),
                  'pushed_at': time.strftime('%Y-%m-%dT%H:%M:%SZ',
                                             time.gmtime())}, indent=1))
  if '://' not in push_destination:
    files.rename(staged, final)  # atomic on one file system
    return final
  io_utils.copy_dir(staged, final, deny_regex_patterns=[_SAVED_MODEL])
  io_utils.copy_file(os.path.join(staged, _SAVED_MODEL),
                     os.path.join(final, _SAVED_MODEL))
  files.rmtree(staged)
  return final


def versions(push_destination: str) -> list:
  """The complete versions' numbers, newest first."""
  return _versions(push_destination)[::-1]


def delete(push_destination: str, version: int) -> None:
  """Deletes a version's folder."""
  path = os.path.join(push_destination, str(version))
  _files(path).rmtree(path)


def version_record(version_dir: str) -> dict:
  """A version's RECORD; {} for a version pushed without one."""
  path = os.path.join(version_dir, RECORD)
  if not _files(path).exists(path):
    return {}
  return json.loads(_read(path))


def record_metrics(record: dict) -> dict:
  """The overall eval metrics of the model a version serves.

  The candidate's (or the lone model's) in its record; a rollback's, its
  original's.
  """
  models = record.get('original_record', record).get('metrics', {})
  return models.get('candidate') or models.get('') or {}


def training_statistics(
    version_dir: str) -> Optional[statistics_pb2.DatasetFeatureStatistics]:
  """The statistics of the data a pushed version was trained on.

  Args:
    version_dir: a version folder.

  Returns:
    Their dataset, or None for a version pushed without them.
  """
  path = os.path.join(version_dir, TRAINING_STATISTICS)
  if not _files(path).exists(path):
    return None
  stats = statistics_pb2.DatasetFeatureStatisticsList.FromString(
      _read(path, 'rb'))
  return stats.datasets[0]


def _fingerprint(saved_model_dir: str) -> bytes:
  path = os.path.join(saved_model_dir, _FINGERPRINT)
  return _read(path, 'rb') if _files(path).exists(path) else b''


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
