"""Talks to a Kubeflow Pipelines 2.x API server through kfp.Client: upload
the package, start and follow runs, schedule retraining, list runs.

Every failure the user can act on (unreachable endpoint, refused
credentials, a missing pipeline, a malformed cron) surfaces as KfpApiError
with a one-line message; kubeflow_runner.py prints it without a traceback.
"""

import contextlib
import dataclasses
import datetime
import io
import json
import logging
import time
from typing import List, Optional
import urllib.error
import urllib.request
import warnings

import google.auth.exceptions
import kfp
import kfp_server_api
import urllib3

from pipeline import configs

FINAL_RUN_STATES = ('SUCCEEDED', 'FAILED', 'SKIPPED', 'CANCELED')
_PROBE_TIMEOUT_SECONDS = 10


class KfpApiError(Exception):
  """A failure talking to Kubeflow Pipelines, in one line."""


@dataclasses.dataclass(frozen=True)
class Connection:
  endpoint: str
  namespace: str = ''  # empty: single-user (standalone) Kubeflow Pipelines
  iap_client_id: str = ''  # set when the endpoint sits behind Cloud IAP
  ui_endpoint: str = ''  # the dashboard, if not at the API endpoint

  def run_link(self, run_id: str) -> str:
    ui = self.ui_endpoint or self.endpoint
    return f'{ui.rstrip("/")}/#/runs/details/{run_id}'


@dataclasses.dataclass(frozen=True)
class TaskState:
  name: str
  state: str


@dataclasses.dataclass(frozen=True)
class RunInfo:
  run_id: str
  name: str
  state: str
  created_at: Optional[datetime.datetime]
  link: str
  tasks: List[TaskState] = dataclasses.field(default_factory=list)


def _filter_by_name(name: str) -> str:
  return json.dumps({'predicates': [
      {'operation': 'EQUALS', 'key': 'display_name', 'stringValue': name}]})


def _one_line(error: Exception) -> str:
  return ' '.join(str(error).split())


def _credentials_refused(status: int, detail: str = '') -> str:
  return (f'the server refused the credentials (HTTP {status}'
          f'{": " + detail if detail else ""}); behind Cloud IAP pass '
          f'--iap-client-id or set {configs.KFP_IAP_CLIENT_ID_ENV}')


def _api_error_message(error: kfp_server_api.ApiException) -> str:
  detail = ''
  try:
    body = json.loads(error.body or '{}')
    detail = body.get('message') or body.get('error') or ''
  except (TypeError, ValueError):
    detail = error.body or ''
  detail = ' '.join(str(detail).split())[:300]
  if error.status in (401, 403):
    return _credentials_refused(error.status, detail)
  return f'the server answered HTTP {error.status}: {detail or error.reason}'


class KfpApi:
  """kfp.Client calls that kubeflow_runner.py's commands need."""

  def __init__(self, connection: Connection):
    self.connection = connection
    self._probe()
    with self._translated_errors():
      self._client = kfp.Client(
          host=connection.endpoint,
          client_id=connection.iap_client_id or None,
          namespace=connection.namespace or 'kubeflow')

  # --- errors --------------------------------------------------------------

  def _probe(self):
    """Fails fast on an endpoint that cannot be reached: kfp.Client would
    retry its health check for half a minute, logging tracebacks."""
    url = self.connection.endpoint.rstrip('/') + '/apis/v2beta1/healthz'
    try:
      with urllib.request.urlopen(url, timeout=_PROBE_TIMEOUT_SECONDS):
        pass
    except urllib.error.HTTPError as e:
      if e.code in (401, 403) and not self.connection.iap_client_id:
        raise KfpApiError(_credentials_refused(e.code)) from None
      # Any other answer proves the server is reachable (IAP redirects an
      # anonymous probe to its login page); the client authenticates next.
    except (urllib.error.URLError, OSError, ValueError) as e:
      reason = getattr(e, 'reason', e)
      raise KfpApiError(f'cannot reach Kubeflow Pipelines at '
                        f'{self.connection.endpoint}: {reason}') from None

  @contextlib.contextmanager
  def _translated_errors(self):
    # kfp prints dashboard links, warns and logs retries on its own; this
    # module reports what happened itself.
    logging.disable(logging.ERROR)
    try:
      with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter('ignore')
        yield
    except kfp_server_api.ApiException as e:
      raise KfpApiError(_api_error_message(e)) from None
    except urllib3.exceptions.HTTPError as e:
      raise KfpApiError(f'lost the connection to '
                        f'{self.connection.endpoint}: {_one_line(e)}') from None
    except google.auth.exceptions.GoogleAuthError as e:
      raise KfpApiError('could not get credentials for IAP client id '
                        f'{self.connection.iap_client_id}: {_one_line(e)}'
                        ) from None
    except TimeoutError as e:
      raise KfpApiError(f'{self.connection.endpoint}: {e}') from None
    finally:
      logging.disable(logging.NOTSET)

  # --- pipelines -----------------------------------------------------------

  def pipeline_id(self, name: str) -> Optional[str]:
    with self._translated_errors():
      return self._client.get_pipeline_id(name)

  def _existing_pipeline_id(self, name: str) -> str:
    pipeline_id = self.pipeline_id(name)
    if pipeline_id is None:
      raise KfpApiError(f'no pipeline named {name!r} on '
                        f'{self.connection.endpoint}: run `create` first')
    return pipeline_id

  def create_pipeline(self, package: str, name: str, description: str):
    """Uploads the package as a new pipeline; returns (id, version id)."""
    existing = self.pipeline_id(name)
    if existing:
      raise KfpApiError(f'pipeline {name!r} already exists (id {existing}): '
                        'use `update` to upload a new version')
    with self._translated_errors():
      pipeline = self._client.upload_pipeline(
          package, pipeline_name=name, description=description,
          namespace=self.connection.namespace or None)
    return pipeline.pipeline_id, self.latest_version_id(pipeline.pipeline_id)

  def upload_version(self, package: str, name: str, version_name: str):
    """Uploads the package as a new version; returns (id, version id)."""
    pipeline_id = self._existing_pipeline_id(name)
    with self._translated_errors():
      version = self._client.upload_pipeline_version(
          package, pipeline_version_name=version_name,
          pipeline_id=pipeline_id)
    return pipeline_id, version.pipeline_version_id

  def latest_version_id(self, pipeline_id: str) -> str:
    with self._translated_errors():
      versions = self._client.list_pipeline_versions(
          pipeline_id, page_size=1, sort_by='created_at desc').pipeline_versions
    if not versions:
      raise KfpApiError(f'pipeline {pipeline_id} has no versions')
    return versions[0].pipeline_version_id

  def latest_version(self, name: str):
    """(pipeline id, newest version id) of the uploaded pipeline `name`."""
    pipeline_id = self._existing_pipeline_id(name)
    return pipeline_id, self.latest_version_id(pipeline_id)

  def task_names(self, pipeline_id: str, version_id: str) -> List[str]:
    """The version's steps, each after the steps it depends on."""
    with self._translated_errors():
      spec = self._client.get_pipeline_version(pipeline_id,
                                               version_id).pipeline_spec
    tasks = ((spec or {}).get('root') or {}).get('dag', {}).get('tasks', {})
    ordered = []
    while len(ordered) < len(tasks):
      ready = [name for name, task in tasks.items() if name not in ordered
               and set(task.get('dependentTasks', [])) <= set(ordered)]
      if not ready:
        raise KfpApiError(f'pipeline version {version_id} has a cycle')
      ordered.extend(sorted(ready))
    return ordered

  # --- experiments and runs ------------------------------------------------

  def experiment_id(self, name: str, create: bool) -> Optional[str]:
    with self._translated_errors():
      found = self._client.list_experiments(
          filter=_filter_by_name(name),
          namespace=self.connection.namespace or None).experiments
      if found:
        return found[0].experiment_id
      if not create:
        return None
      return self._client.create_experiment(
          name, namespace=self.connection.namespace or None).experiment_id

  def start_run(self, experiment: str, run_name: str, pipeline_id: str,
                version_id: str, pipeline_root: str) -> RunInfo:
    experiment_id = self.experiment_id(experiment, create=True)
    with self._translated_errors():
      run = self._client.run_pipeline(
          experiment_id=experiment_id, job_name=run_name,
          pipeline_id=pipeline_id, version_id=version_id,
          pipeline_root=pipeline_root)
    return self._run_info(run)

  def get_run(self, run_id: str) -> RunInfo:
    with self._translated_errors():
      return self._run_info(self._client.get_run(run_id))

  def wait_for_run(self, run_id: str, timeout_seconds: float,
                   poll_seconds: float = 10) -> RunInfo:
    deadline = time.monotonic() + timeout_seconds
    while True:
      run = self.get_run(run_id)
      if run.state in FINAL_RUN_STATES:
        return run
      if time.monotonic() > deadline:
        raise KfpApiError(f'run {run_id} is still {run.state} after '
                          f'{timeout_seconds:.0f} s: {run.link}')
      time.sleep(poll_seconds)

  def list_runs(self, experiment: str, limit: int) -> List[RunInfo]:
    experiment_id = self.experiment_id(experiment, create=False)
    if experiment_id is None:
      return []
    with self._translated_errors():
      runs = self._client.list_runs(
          experiment_id=experiment_id, page_size=limit,
          sort_by='created_at desc',
          namespace=self.connection.namespace or None).runs
    return [self._run_info(run) for run in runs or []]

  def _run_info(self, run) -> RunInfo:
    details = run.run_details.task_details if run.run_details else None
    tasks = [TaskState(task.display_name, task.state or 'UNKNOWN')
             for task in details or []]
    return RunInfo(run_id=run.run_id, name=run.display_name,
                   state=run.state or 'UNKNOWN', created_at=run.created_at,
                   link=self.connection.run_link(run.run_id), tasks=tasks)

  # --- recurring runs ------------------------------------------------------

  def recurring_run_id(self, name: str) -> Optional[str]:
    with self._translated_errors():
      found = self._client.list_recurring_runs(
          filter=_filter_by_name(name),
          namespace=self.connection.namespace or None).recurring_runs
    return found[0].recurring_run_id if found else None

  def schedule(self, experiment: str, name: str, cron: str, pipeline_id: str,
               version_id: str, pipeline_root: str) -> str:
    """Creates the recurring run: one run at a time, no backfill of missed
    slots (each run reads all the data there is anyway)."""
    existing = self.recurring_run_id(name)
    if existing:
      raise KfpApiError(f'a recurring run named {name!r} already exists '
                        f'(id {existing}): `schedule --delete` it first')
    experiment_id = self.experiment_id(experiment, create=True)
    with self._translated_errors():
      return self._client.create_recurring_run(
          experiment_id=experiment_id, job_name=name, cron_expression=cron,
          max_concurrency=1, no_catchup=True, pipeline_id=pipeline_id,
          version_id=version_id, pipeline_root=pipeline_root).recurring_run_id

  def change_schedule(self, name: str, action: str) -> str:
    """Pauses, resumes or deletes the recurring run `name`; returns its id.
    Deleting keeps the runs it started."""
    recurring_run_id = self.recurring_run_id(name)
    if recurring_run_id is None:
      raise KfpApiError(f'no recurring run named {name!r}')
    call = {'pause': self._client.disable_recurring_run,
            'resume': self._client.enable_recurring_run,
            'delete': self._client.delete_recurring_run}[action]
    with self._translated_errors():
      call(recurring_run_id)
    return recurring_run_id
