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

from models import push_destination
from serving.errors import RequestError


@dataclasses.dataclass(frozen=True)
class Version:
  number: int
  path: str
  record: dict  # push_destination.RECORD; {} for a version without one


def _version(destination: str, number: int) -> Version:
  path = os.path.join(destination, str(number))
  return Version(number, path, push_destination.version_record(path))


def list_versions(destination: str) -> List[Version]:
  """Every complete version, newest (the served one) first."""
  return [_version(destination, n)
          for n in push_destination.versions(destination)]


def get(destination: str, number: int) -> Version:
  """One version.

  Raises:
    RequestError: there is no such complete version.
  """
  numbers = push_destination.versions(destination)
  if number not in numbers:
    raise RequestError(f'no version {number} at {destination} (versions: '
                       f'{", ".join(map(str, numbers)) or "none"})')
  return _version(destination, number)


def served(destination: str) -> Version:
  """The version TF Serving serves: the highest.

  Raises:
    RequestError: nothing has been pushed.
  """
  numbers = push_destination.versions(destination)
  if not numbers:
    raise RequestError(f'no model has been pushed to {destination}')
  return _version(destination, numbers[0])


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
  if number is None:
    numbers = push_destination.versions(destination)
    if len(numbers) < 2:
      raise RequestError(f'only version {serving.number} exists at '
                         f'{destination}: nothing to roll back to')
    number = numbers[1]
  if number == serving.number:
    raise RequestError(f'version {number} is already served')
  target = get(destination, number)
  path = push_destination.publish(
      target.path, destination,
      record={'rollback_of': target.number, 'replaced': serving.number,
              'original_record': target.record})
  return _version(destination, int(os.path.basename(path)))


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
  removed = push_destination.versions(destination)[keep:]
  for number in removed:
    push_destination.delete(destination, number)
  return removed
