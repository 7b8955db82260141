"""The pushed models as a registry: list, show, roll back, prune.

Works on the push destination itself (local or `gs://`, through
push_destination.py), so it covers what a local run and a Kubeflow run
pushed alike. TF Serving serves the highest version number: rolling back
publishes an older model again as a new highest version, atomically, and
deletes nothing.
"""

import dataclasses
import os
from typing import List, Optional

from tfx.dsl.io import fileio

from pipeline.components import push_destination
from serving.errors import RequestError


@dataclasses.dataclass(frozen=True)
class Version:
  number: int
  path: str
  record: dict  # push_destination.RECORD; {} for a version without one


def list_versions(destination: str) -> List[Version]:
  """Every complete version, newest (the served one) first."""
  return [
      Version(n, os.path.join(destination, str(n)),
              push_destination.version_record(
                  os.path.join(destination, str(n))))
      for n in push_destination.versions(destination)
  ]


def get(destination: str, number: int) -> Version:
  """One version.

  Raises:
    RequestError: there is no such complete version.
  """
  for version in list_versions(destination):
    if version.number == number:
      return version
  known = ', '.join(str(v.number) for v in list_versions(destination))
  raise RequestError(f'no version {number} at {destination} '
                      f'(versions: {known or "none"})')


def served(destination: str) -> Version:
  """The version TF Serving serves: the highest.

  Raises:
    RequestError: nothing has been pushed.
  """
  versions = list_versions(destination)
  if not versions:
    raise RequestError(f'no model has been pushed to {destination}')
  return versions[0]


def rollback(destination: str, number: Optional[int] = None) -> Version:
  """Serves an earlier version again, as a new highest version.

  Args:
    destination: the push destination.
    number: the version to serve; None: the one before the served one.

  Returns:
    The new version: a copy of `number`, its record saying so.

  Raises:
    RequestError: no such version, it already serves, or there is no
      earlier version.
  """
  serving = served(destination)
  versions = list_versions(destination)
  if number is None:
    if len(versions) < 2:
      raise RequestError(f'only version {serving.number} exists at '
                          f'{destination}: nothing to roll back to')
    target = versions[1]
  else:
    target = get(destination, number)
  if target.number == serving.number:
    raise RequestError(f'version {target.number} is already served')
  path = push_destination.publish(
      target.path, destination,
      record={'rollback_of': target.number, 'replaced': serving.number,
              'original_record': target.record})
  return get(destination, int(os.path.basename(path)))


def prune(destination: str, keep: int) -> List[int]:
  """Deletes all but the newest `keep` versions; the served one always stays.

  Returns:
    The numbers of the deleted versions.

  Raises:
    RequestError: keep is below 1.
  """
  if keep < 1:
    raise RequestError(f'--keep {keep}: at least the served version stays; '
                        'give 1 or more')
  removed = [v.number for v in list_versions(destination)[keep:]]
  for number in removed:
    fileio.rmtree(os.path.join(destination, str(number)))
  return removed
