"""A local stand-in for the Kubeflow Pipelines 2.x API server.

It serves the v2beta1 REST calls kubeflow_runner.py makes, in memory.

Every JSON request body is checked against the kfp_server_api model for that
call (kfp_api_models.py); a body that fails gets HTTP 400, as grpc-gateway
answers, and is recorded in `rejected`. Uploads keep the bytes received.
Runs move PENDING -> RUNNING -> final state as they are polled, with a task
detail per pipeline task.
"""

import dataclasses
import datetime
import http.server
import itertools
import json
import re
import threading
from typing import Dict, List, Optional
import urllib.parse

from fakes import kfp_api_models as models
from fakes import kfp_backend_rules as backend_rules

_API = '/apis/v2beta1'
_EPOCH = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)


@dataclasses.dataclass
class State:
  """What the server holds; tests read and set it directly."""
  pipelines: Dict[str, dict] = dataclasses.field(default_factory=dict)
  versions: Dict[str, dict] = dataclasses.field(default_factory=dict)
  uploads: Dict[str, bytes] = dataclasses.field(default_factory=dict)
  experiments: Dict[str, dict] = dataclasses.field(default_factory=dict)
  runs: Dict[str, dict] = dataclasses.field(default_factory=dict)
  recurring_runs: Dict[str, dict] = dataclasses.field(default_factory=dict)
  requests: List[str] = dataclasses.field(default_factory=list)
  rejected: List[str] = dataclasses.field(default_factory=list)
  # Runs started from now on fail at this task, the rest never start.
  fail_task: Optional[str] = None
  # KFP before 2.5 pins a recurring run that names no version to the
  # newest one; later releases run the newest version each time.
  pins_recurring_runs: bool = False
  # When set, requests without `Authorization: Bearer <token>` get 401.
  token: Optional[str] = None


class KfpApiServer:
  """Serves on 127.0.0.1 from a thread; `url` is the endpoint."""

  def __init__(self):
    self.state = State()
    self._ids = itertools.count(1)
    self._lock = threading.Lock()
    handler = type('Handler', (_Handler,), {'api': self})
    self._httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    self.url = f'http://127.0.0.1:{self._httpd.server_port}'
    self._thread = threading.Thread(target=self._httpd.serve_forever,
                                    daemon=True)
    self._thread.start()

  def close(self):
    self._httpd.shutdown()
    self._httpd.server_close()

  def _new(self, kind: str):
    """A fresh id and a creation time that orders strictly by creation."""
    n = next(self._ids)
    created = _EPOCH + datetime.timedelta(minutes=n)
    return f'{kind}-{n}', created.strftime('%Y-%m-%dT%H:%M:%SZ')

  # --- dispatch -------------------------------------------------------------

  def handle(self, method: str, path: str, query: dict, body: bytes,
             headers) -> dict:
    self.state.requests.append(f'{method} {path}')
    if self.state.token and headers.get('Authorization') != (
        f'Bearer {self.state.token}'):
      raise models.ApiError(401, 'Unauthenticated: no valid bearer token')
    if not path.startswith(_API):
      raise models.ApiError(404, f'no such path {path}')
    route = path[len(_API):]
    with self._lock:
      for pattern, wanted_method, name, parameters in models.ROUTES:
        match = re.fullmatch(pattern, route)
        if match and method == wanted_method:
          models.check_query(query, parameters)
          return getattr(self, name)(*match.groups(), query=query, body=body,
                                     headers=headers)
    raise models.ApiError(404, f'{method} {path} is not implemented here')

  # --- handlers -------------------------------------------------------------

  def healthz(self, **_):
    return {'multi_user': False}

  def upload_pipeline(self, query, body, headers):
    name = query.get('name')
    package, spec = models.uploaded_package(body, headers)
    name = name or spec['pipelineInfo']['name']
    if any(p['display_name'] == name for p in self.state.pipelines.values()):
      raise models.ApiError(
          409, f'Failed to create a new pipeline. The name {name} '
          'already exists. Please specify a new name')
    pipeline_id, created = self._new('pipeline')
    pipeline = {'pipeline_id': pipeline_id, 'display_name': name,
                'description': query.get('description', ''),
                'created_at': created}
    self.state.pipelines[pipeline_id] = pipeline
    self._add_version(pipeline_id, name, package, spec)
    return pipeline

  def upload_version(self, query, body, headers):
    pipeline_id = query.get('pipelineid')
    if pipeline_id not in self.state.pipelines:
      raise models.ApiError(404, f'pipeline {pipeline_id} not found')
    name = query.get('name')
    if not name:
      raise models.ApiError(400, 'a pipeline version needs a name')
    if any(v['display_name'] == name and v['pipeline_id'] == pipeline_id
           for v in self.state.versions.values()):
      raise models.ApiError(409, f'pipeline version {name} already exists')
    package, spec = models.uploaded_package(body, headers)
    return self._add_version(pipeline_id, name, package, spec)

  def _add_version(self, pipeline_id, name, package, spec):
    version_id, created = self._new('version')
    version = {'pipeline_id': pipeline_id, 'pipeline_version_id': version_id,
               'display_name': name, 'created_at': created,
               'pipeline_spec': spec}
    self.state.versions[version_id] = version
    self.state.uploads[version_id] = package
    return version

  def list_pipelines(self, query, **_):
    found = models.filter_by_name(list(self.state.pipelines.values()), query)
    return {'pipelines': models.page(found, query), 'total_size': len(found)}

  def list_versions(self, pipeline_id, query, **_):
    found = [v for v in self.state.versions.values()
             if v['pipeline_id'] == pipeline_id]
    return {'pipeline_versions': models.page(found, query),
            'total_size': len(found)}

  def get_version(self, pipeline_id, version_id, **_):
    version = self.state.versions.get(version_id)
    if not version or version['pipeline_id'] != pipeline_id:
      raise models.ApiError(404, f'pipeline version {version_id} not found')
    return version

  def list_experiments(self, query, **_):
    found = models.filter_by_name(list(self.state.experiments.values()), query)
    return {'experiments': models.page(found, query), 'total_size': len(found)}

  def create_experiment(self, body, **_):
    experiment = models.parse_body(body, 'V2beta1Experiment')
    if not experiment.get('display_name'):
      raise models.ApiError(400, 'an experiment needs a display_name')
    experiment_id, created = self._new('experiment')
    experiment.update(experiment_id=experiment_id, created_at=created,
                      storage_state='AVAILABLE')
    self.state.experiments[experiment_id] = experiment
    return experiment

  def _check_job(self, job: dict, pin: bool = True) -> dict:
    """Checks what runs and recurring runs share.

    An experiment, a version (or a pipeline spec of its own) and a pipeline
    root (the YAML package has none of its own). A job naming a pipeline but
    no version gets its newest version (resource_manager.go); `pin` writes
    that version into the job.
    """
    if job.get('experiment_id') not in self.state.experiments:
      raise models.ApiError(404, f'experiment {job.get("experiment_id")} not found')
    reference = job.get('pipeline_version_reference')
    if job.get('pipeline_spec') and not reference:
      version = {'pipeline_spec': job['pipeline_spec']}  # a one-off package
    else:
      reference = reference or {}
      newest = max((v for v in self.state.versions.values()
                    if v['pipeline_id'] == reference.get('pipeline_id')),
                   key=lambda v: v['created_at'], default={})
      version = self.state.versions.get(
          reference.get('pipeline_version_id') or
          newest.get('pipeline_version_id'))
      if not version or version['pipeline_id'] != reference.get('pipeline_id'):
        raise models.ApiError(404, f'pipeline version {reference} not found')
    if not (job.get('runtime_config') or {}).get('pipeline_root'):
      raise models.ApiError(400, 'no pipeline root: the package does not carry one')
    if pin and reference:
      reference['pipeline_version_id'] = version['pipeline_version_id']
    return version

  def create_run(self, body, **_):
    run = models.parse_body(body, 'V2beta1Run')
    version = self._check_job(run)
    # CreateRun compiles the spec into an Argo workflow and validates it;
    # an upload is never checked that far.
    problems = backend_rules.package_problems(version['pipeline_spec'])
    if problems:
      raise models.ApiError(400, f'Failed to create a run: {problems[0]}')
    run_id, created = self._new('run')
    run.update(run_id=run_id, created_at=created, state='PENDING',
               storage_state='AVAILABLE')
    self.state.runs[run_id] = {
        'run': run, 'polls': 0, 'fail_task': self.state.fail_task,
        'tasks': version['pipeline_spec']['root']['dag']['tasks']}
    return run

  def get_run(self, run_id, **_):
    entry = self.state.runs.get(run_id)
    if entry is None:
      raise models.ApiError(404, f'run {run_id} not found')
    entry['polls'] += 1
    run = entry['run']
    if entry['polls'] == 2:
      run['state'] = 'RUNNING'
    elif entry['polls'] >= 3:
      run['state'] = 'FAILED' if entry['fail_task'] else 'SUCCEEDED'
      run['run_details'] = {'task_details': models.task_details(entry)}
    return run

  def list_runs(self, query, **_):
    found = [e['run'] for e in self.state.runs.values()
             if e['run']['experiment_id'] == query.get('experiment_id')]
    return {'runs': models.page(found, query), 'total_size': len(found)}

  def create_recurring_run(self, body, **_):
    job = models.parse_body(body, 'V2beta1RecurringRun')
    self._check_job(job, pin=self.state.pins_recurring_runs)
    cron = ((job.get('trigger') or {}).get('cron_schedule') or {}).get('cron')
    if not cron or not models.cron_ok(cron):
      raise models.ApiError(400, f'invalid cron {cron!r}')
    if not 1 <= int(job.get('max_concurrency') or 0) <= 10:
      raise models.ApiError(400, 'max_concurrency must be between 1 and 10')
    recurring_run_id, created = self._new('recurringrun')
    job.update(recurring_run_id=recurring_run_id, created_at=created,
               status='ENABLED' if job.get('mode') == 'ENABLE' else 'DISABLED')
    self.state.recurring_runs[recurring_run_id] = job
    return job

  def list_recurring_runs(self, query, **_):
    found = models.filter_by_name(list(self.state.recurring_runs.values()), query)
    return {'recurringRuns': models.page(found, query),
            'total_size': len(found)}

  def _recurring_run(self, recurring_run_id):
    if recurring_run_id not in self.state.recurring_runs:
      raise models.ApiError(404, f'recurring run {recurring_run_id} not found')
    return self.state.recurring_runs[recurring_run_id]

  def enable_recurring_run(self, recurring_run_id, **_):
    self._recurring_run(recurring_run_id).update(mode='ENABLE',
                                                 status='ENABLED')
    return {}

  def disable_recurring_run(self, recurring_run_id, **_):
    self._recurring_run(recurring_run_id).update(mode='DISABLE',
                                                 status='DISABLED')
    return {}

  def delete_recurring_run(self, recurring_run_id, **_):
    self._recurring_run(recurring_run_id)
    del self.state.recurring_runs[recurring_run_id]
    return {}



class _Handler(http.server.BaseHTTPRequestHandler):
  api: KfpApiServer

  def _serve(self, method):
    url = urllib.parse.urlsplit(self.path)
    query = dict(urllib.parse.parse_qsl(url.query))
    body = self.rfile.read(int(self.headers.get('Content-Length') or 0))
    try:
      status, answer = 200, self.api.handle(method, url.path, query, body,
                                            self.headers)
    except models.ApiError as e:
      status, answer = e.status, {'error': str(e), 'message': str(e),
                                  'code': 3 if e.status == 400 else 5}
      if e.status == 400:
        self.api.state.rejected.append(f'{method} {url.path}: {e}')
    data = json.dumps(answer).encode()
    self.send_response(status)
    self.send_header('Content-Type', 'application/json')
    self.send_header('Content-Length', str(len(data)))
    self.end_headers()
    self.wfile.write(data)

  # pylint: disable=invalid-name
  do_GET = lambda self: self._serve('GET')
  do_POST = lambda self: self._serve('POST')
  do_DELETE = lambda self: self._serve('DELETE')

  def log_message(self, *args):
    pass  # the tests read `state.requests` instead
