"""The served model, following the push destination as TF Serving does.

A thread polls the destination; when the version the policy wants (the
newest complete version, or a pinned one) is not the one served, it loads
it beside the served one, has it answer a row, and then swaps it in with
one assignment. A request holds the Servable it started with, so it
finishes on that version. A version that cannot be loaded or answer is
never served, and is not tried again; the served one stays.
"""

import dataclasses
import logging
import os
import threading
from typing import Callable, Dict, List, Optional

from google.protobuf import json_format
from tensorflow.core.protobuf import saved_model_pb2
from tfx.dsl.io import fileio

from models import push_destination
from serving import batcher
from serving import predict

# How often the push destination is listed: a push or a rollback is served
# within this, plus the new version's load time.
POLL_SECONDS = 1.0
# TF Serving's version states (ServableState.ManagerState), as reported.
LOADING, AVAILABLE, END = 'LOADING', 'AVAILABLE', 'END'


class NotFound(LookupError):
  """No such version is served; str() says so as TF Serving does."""


@dataclasses.dataclass(frozen=True)
class Servable:
  """One loaded version."""
  version: int
  predictor: predict.Predictor
  batcher: batcher.Batcher  # of predictor: what requests call
  signature_def: dict  # the SavedModel's SignatureDefMap, as JSON


@dataclasses.dataclass(frozen=True)
class VersionState:
  state: str  # LOADING, AVAILABLE or END
  error: str = ''  # why it could not be loaded


def _signature_def(version_dir: str) -> dict:
  saved_model = saved_model_pb2.SavedModel()
  with fileio.open(os.path.join(version_dir, 'saved_model.pb'), 'rb') as f:
    saved_model.ParseFromString(f.read())
  return json_format.MessageToDict(
      saved_model.meta_graphs[0], preserving_proto_field_name=True
  ).get('signature_def', {})


def load(destination: str, version: int) -> Servable:
  """Loads a version and answers one row of missing values with it.

  The first call of a signature is slow (its tables are built then); it is
  made here, before the version takes requests.

  Raises:
    Exception: whatever TensorFlow raises for a model it cannot load or
      that cannot answer.
  """
  path = os.path.join(destination, str(version))
  predictor = predict.Predictor(path)
  answers = list(predictor.predict([{}]))
  if isinstance(answers[0][1], predict.RowError):
    raise ValueError(f'refuses a row of missing values: {answers[0][1]}')
  return Servable(version, predictor, batcher.Batcher(predictor),
                  _signature_def(path))


class ModelPool:
  """The served version of the model at a push destination."""

  def __init__(self, destination: str, model_name: str,
               pinned: Optional[int] = None,
               poll_seconds: float = POLL_SECONDS):
    """Follows nothing until start().

    Args:
      destination: the push destination (local or gs://).
      model_name: the name requests give the model.
      pinned: the version to serve; None: the newest complete version.
      poll_seconds: how often to list the destination.
    """
    self.destination = destination
    self.model_name = model_name
    self._pinned = pinned
    self._poll_seconds = poll_seconds
    self._served: Optional[Servable] = None
    self._states: Dict[int, VersionState] = {}
    self._on_swap: List[Callable[[int], None]] = []
    self._stop = threading.Event()
    self._thread = threading.Thread(target=self._follow, daemon=True,
                                    name='model-pool')

  @property
  def served(self) -> Optional[Servable]:
    """The version requests go to; None until one is loaded."""
    return self._served

  def _wanted(self) -> Optional[int]:
    versions = push_destination.versions(self.destination)
    if self._pinned is not None:
      return self._pinned if self._pinned in versions else None
    return versions[0] if versions else None

  def poll(self) -> None:
    """Loads and serves the wanted version if it is new and loadable."""
    wanted = self._wanted()
    served = self._served
    if wanted is None or (served and served.version == wanted) or (
        wanted in self._states and self._states[wanted].error):
      return
    self._states[wanted] = VersionState(LOADING)
    try:
      servable = load(self.destination, wanted)
    except Exception as e:  # pylint: disable=broad-except
      # A broken push must not stop the served version; the reason is
      # reported with the version's status.
      logging.exception('version %d of %s not loaded', wanted,
                        self.destination)
      self._states[wanted] = VersionState(END, f'{type(e).__name__}: {e}')
      return
    self._served = servable  # the swap: one reference assignment
    for listener in self._on_swap:
      listener(wanted)
    self._states[wanted] = VersionState(AVAILABLE)
    if served:
      self._states[served.version] = VersionState(END)
    logging.info('serving version %d of %s', wanted, self.destination)

  def on_swap(self, listener: Callable[[int], None]) -> None:
    """Calls listener(version) each time a version starts being served."""
    self._on_swap.append(listener)

  def refresh(self) -> None:
    """poll(); a destination that cannot be listed is logged, not raised."""
    try:
      self.poll()
    except Exception:  # pylint: disable=broad-except
      # A network file system or GCS hiccup: the served version stays, the
      # next poll retries.
      logging.exception('listing %s failed', self.destination)

  def _follow(self) -> None:
    while True:
      self.refresh()
      if self._stop.wait(self._poll_seconds):
        return

  def start(self) -> None:
    """Follows the destination in a thread: the first load starts now."""
    self._thread.start()

  def stop(self) -> None:
    """Stops following; a load under way is finished first."""
    self._stop.set()
    self._thread.join()

  def get(self, model_name: str, version: Optional[int] = None) -> Servable:
    """The served version, if it is `version` (None: whichever it is).

    Raises:
      NotFound: that model or version is not served.
    """
    served = self._served
    if (model_name != self.model_name or served is None or
        version not in (None, served.version)):
      raise NotFound('Servable not found for request: ' + (
          f'Latest({model_name})' if version is None else
          f'Specific({model_name}, {version})'))
    return served

  def states(self, model_name: str,
             version: Optional[int] = None) -> List[dict]:
    """TF Serving's model_version_status list, newest version first.

    Raises:
      NotFound: no version of the model (or not `version`) has been seen.
    """
    states = dict(self._states) if model_name == self.model_name else {}
    if version is not None:
      if version not in states:
        raise NotFound(f'Could not find version {version} of model '
                       f'{model_name}')
      states = {version: states[version]}
    if not states:
      raise NotFound(f'Could not find any versions of model {model_name}')
    return [{'version': str(number), 'state': state.state,
             'status': {'error_code': 'UNKNOWN' if state.error else 'OK',
                        'error_message': state.error}}
            for number, state in sorted(states.items(), reverse=True)]
