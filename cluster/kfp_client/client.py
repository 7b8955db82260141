"""Talks to a Kubeflow Pipelines 2.x API server through kfp.Client.

It uploads the package, starts and follows runs, schedules retraining and
lists runs. Every failure the user can act on (unreachable endpoint, refused
credentials, a missing pipeline, a malformed cron) surfaces as KfpApiError
with a one-line message; the cluster commands print it without a traceback.
"""

import json
import time
from typing import List, Optional, Tuple

import kfp
import kfp_server_api

from cluster.kfp_client import errors
from cluster.kfp_client.connection import Connection
from cluster.kfp_client.errors import KfpApiError
from cluster.kfp_client import run_info
from cluster.kfp_client.run_info import RunInfo

FINAL_RUN_STATES = ('SUCCEEDED', 'FAILED', 'SKIPPED', 'CANCELED')


def _filter_by_name(name: str) -> str:
  return json.dumps({'predicates': [
      {'operation': 'EQUALS', 'key': 'display_name', 'stringValue': name}]})


class Client:
  """kfp.Client calls that the cluster commands need."""

  def __init__(self, connection: Connection):
    self.connection = connection
    errors.probe(connection)
    with self._translated_errors():
      self._client = kfp.Client(
          host=connection.endpoint,
          client_id=connection.iap_client_id or None,
          namespace=connection.namespace or 'kubeflow')

  def _translated_errors(self):
    return errors.translated_errors(self.connection)

  # --- pipelines -----------------------------------------------------------

  def pipeline_id(self, name: str) -> Optional[str]:
    """The id of the uploaded pipeline `name`, or None."""
    with self._translated_errors():
      return self._client.get_pipeline_id(name)

  def _existing_pipeline_id(self, name: str) -> str:
    pipeline_id = self.pipeline_id(name)
    if pipeline_id is None:
      raise KfpApiError(f'no pipeline named {name!r} on '
                        f'{self.connection.endpoint}: run `create` first')
    return pipeline_id

  def create_pipeline(self, package: str, name: str, description: str):
    """Uploads the package as a new pipeline.

    Args:
      package: the compiled PipelineSpec YAML.
      name: the pipeline's name.
      description: shown on the dashboard.

    Returns:
      (pipeline id, version id).

    Raises:
      KfpApiError: a pipeline of that name exists, or the server refused.
    """
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
    """Uploads the package as a new version of the pipeline `name`.

    Args:
      package: the compiled PipelineSpec YAML.
      name: the pipeline's name.
      version_name: the new version's name.

    Returns:
      (pipeline id, version id).

    Raises:
      KfpApiError: no such pipeline, or the server refused.
    """
    pipeline_id = self._existing_pipeline_id(name)
    with self._translated_errors():
      version = self._client.upload_pipeline_version(
          package, pipeline_version_name=version_name,
          pipeline_id=pipeline_id)
    return pipeline_id, version.pipeline_version_id

  def latest_version_id(self, pipeline_id: str) -> str:
    """The id of the pipeline's newest version."""
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
    """The version's steps, each after the steps it depends on.

    Args:
      pipeline_id: the pipeline.
      version_id: one of its versions.

    Returns:
      Task names.
    """
    with self._translated_errors():
      spec = self._client.get_pipeline_version(pipeline_id,
                                               version_id).pipeline_spec
    tasks = ((spec or {}).get('root') or {}).get('dag', {}).get('tasks', {})
    ordered = run_info.dependency_order(tasks)
    if ordered is None:
      raise KfpApiError(f'pipeline version {version_id} has a cycle')
    return ordered

  # --- experiments and runs ------------------------------------------------

  def experiment_id(self, name: str, create: bool) -> Optional[str]:
    """The id of experiment `name`; None, or a new one if `create`."""
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

  def start_run(self, experiment: str, run_name: str, pipeline_root: str,
                version: Optional[Tuple[str, str]] = None,
                package: Optional[str] = None) -> RunInfo:
    """Starts one run of an uploaded version, or of a package file.

    A package file is a backfill, not uploaded: CreateRun carries its spec.

    Args:
      experiment: the experiment's name (created if missing).
      run_name: the run's name.
      pipeline_root: where the run writes its artifacts.
      version: (pipeline id, version id) to run.
      package: else, the compiled KFP package to run.

    Returns:
      The new run.
    """
    experiment_id = self.experiment_id(experiment, create=True)
    what = (dict(pipeline_id=version[0], version_id=version[1]) if version
            else dict(pipeline_package_path=package))
    with self._translated_errors():
      run = self._client.run_pipeline(
          experiment_id=experiment_id, job_name=run_name,
          pipeline_root=pipeline_root, **what)
    return self._run(run)

  def get_run(self, run_id: str) -> RunInfo:
    """The run's state and its tasks' states."""
    with self._translated_errors():
      return self._run(self._client.get_run(run_id))

  def wait_for_run(self, run_id: str, timeout_seconds: float,
                   poll_seconds: float = 10) -> RunInfo:
    """Polls a run until it ends.

    Args:
      run_id: the run.
      timeout_seconds: how long to follow it.
      poll_seconds: the time between two polls.

    Returns:
      The ended run.

    Raises:
      KfpApiError: still running after timeout_seconds.
    """
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
    """The newest `limit` runs of the experiment, newest first."""
    experiment_id = self.experiment_id(experiment, create=False)
    if experiment_id is None:
      return []
    with self._translated_errors():
      runs = self._client.list_runs(
          experiment_id=experiment_id, page_size=limit,
          sort_by='created_at desc',
          namespace=self.connection.namespace or None).runs
    return [self._run(run) for run in runs or []]

  def _run(self, run) -> RunInfo:
    return RunInfo.from_api(run, self.connection.run_link(run.run_id))

  # --- recurring runs ------------------------------------------------------

  def recurring_run_id(self, name: str) -> Optional[str]:
    """The id of the recurring run `name`, or None."""
    with self._translated_errors():
      found = self._client.list_recurring_runs(
          filter=_filter_by_name(name),
          namespace=self.connection.namespace or None).recurring_runs
    return found[0].recurring_run_id if found else None

  def schedule(self, experiment: str, name: str, cron: str, pipeline_id: str,
               pipeline_root: str) -> Tuple[str, Optional[str]]:
    """Creates the recurring run: one run at a time, no backfill.

    It names no version: KFP 2.5+ runs the newest one each time (#11560);
    earlier releases pin the one newest now, and answer with it.

    Args:
      experiment: the experiment's name (created if missing).
      name: the recurring run's name.
      cron: when to run, in KFP's six-field cron.
      pipeline_id: the pipeline.
      pipeline_root: where the runs write their artifacts.

    Returns:
      (the recurring run's id, the version it is pinned to, or None).

    Raises:
      KfpApiError: one of that name exists, or the server refused.
    """
    existing = self.recurring_run_id(name)
    if existing:
      raise KfpApiError(f'a recurring run named {name!r} already exists '
                        f'(id {existing}): `schedule --delete` it first')
    experiment_id = self.experiment_id(experiment, create=True)
    body = kfp_server_api.V2beta1RecurringRun(
        experiment_id=experiment_id, display_name=name,
        mode=kfp_server_api.RecurringRunMode.ENABLE,
        trigger=kfp_server_api.V2beta1Trigger(
            cron_schedule=kfp_server_api.V2beta1CronSchedule(cron=cron)),
        max_concurrency=1, no_catchup=True,
        pipeline_version_reference=(
            kfp_server_api.V2beta1PipelineVersionReference(
                pipeline_id=pipeline_id)),
        runtime_config=kfp_server_api.V2beta1RuntimeConfig(
            pipeline_root=pipeline_root))
    with self._translated_errors():
      created = self._client._recurring_run_api.create_recurring_run(  # pylint: disable=protected-access
          body=body)
    reference = created.pipeline_version_reference
    return (created.recurring_run_id,
            (reference and reference.pipeline_version_id) or None)

  def change_schedule(self, name: str, action: str) -> str:
    """Pauses, resumes or deletes a recurring run.

    Deleting keeps the runs it started.

    Args:
      name: the recurring run's name.
      action: 'pause', 'resume' or 'delete'.

    Returns:
      Its id.

    Raises:
      KfpApiError: no recurring run of that name, or the server refused.
    """
    recurring_run_id = self.recurring_run_id(name)
    if recurring_run_id is None:
      raise KfpApiError(f'no recurring run named {name!r}')
    call = {'pause': self._client.disable_recurring_run,
            'resume': self._client.enable_recurring_run,
            'delete': self._client.delete_recurring_run}[action]
    with self._translated_errors():
      call(recurring_run_id)
    return recurring_run_id
