"""What the fake Kubeflow Pipelines API server accepts.

Request bodies checked against the kfp_server_api models (no unknown
fields, right types, enum values the server knows), uploads parsed as the
server parses them, and the task details a run reports.
"""

from email.parser import BytesParser
from email.policy import HTTP
import json
import re

import kfp_server_api
import yaml


class ApiError(Exception):

  def __init__(self, status: int, message: str):
    super().__init__(message)
    self.status = status


def check_model(value, type_name: str, where: str = 'body',
                int64: bool = False):
  """Raises ApiError(400) unless value is valid for the type `type_name`.

  Valid: JSON for that kfp_server_api type, as the generated client would
  send it.
  """
  inner = re.fullmatch(r'list\[(.+)\]', type_name)
  if inner:
    if not isinstance(value, list):
      raise ApiError(400, f'{where}: expected a list')
    for i, item in enumerate(value):
      check_model(item, inner.group(1), f'{where}[{i}]')
    return
  inner = re.fullmatch(r'dict\(str, (.+)\)', type_name)
  if inner:
    if not isinstance(value, dict):
      raise ApiError(400, f'{where}: expected an object')
    for key, item in value.items():
      check_model(item, inner.group(1), f'{where}.{key}')
    return
  # int64 fields are strings in the models; proto JSON takes numbers there,
  # and only there.
  simple = {'str': (str, int) if int64 else (str,), 'int': (int,),
            'bool': (bool,), 'float': (float, int), 'object': (object,),
            'datetime': (str,)}
  if type_name in simple:
    if not isinstance(value, simple[type_name]) or (
        type_name in ('str', 'int') and isinstance(value, bool)):
      raise ApiError(400, f'{where}: expected {type_name}, got {value!r}')
    return
  model = getattr(kfp_server_api, type_name)
  allowed = getattr(model, 'allowable_values', None)
  if allowed is not None:
    if value not in allowed:
      raise ApiError(400, f'{where}: {value!r} is not a {type_name}')
    return
  if not isinstance(value, dict):
    raise ApiError(400, f'{where}: expected a {type_name} object')
  fields = {json_name: model.openapi_types[attr]
            for attr, json_name in model.attribute_map.items()}
  for key, item in value.items():
    if key not in fields:
      raise ApiError(400, f'{where}: unknown field {key!r} for {type_name}')
    if item is not None:
      check_model(item, fields[key], f'{where}.{key}',
                  int64=(type_name, key) in INT64_FIELDS)


def uploaded_package(body: bytes, headers):
  """The `uploadfile` part of a multipart upload, and its PipelineSpec."""
  message = BytesParser(policy=HTTP).parsebytes(
      b'Content-Type: ' + headers['Content-Type'].encode() + b'\r\n\r\n' + body)
  parts = {part.get_param('name', header='content-disposition'): part
           for part in message.iter_parts()} if message.is_multipart() else {}
  if 'uploadfile' not in parts:
    raise ApiError(400, 'no uploadfile in the multipart body')
  package = parts['uploadfile'].get_payload(decode=True)
  try:
    spec = yaml.safe_load(package)
  except yaml.YAMLError as e:
    raise ApiError(400, f'the package is not YAML: {e}') from None
  if not isinstance(spec, dict) or not spec.get('pipelineInfo') or (
      'root' not in spec):
    raise ApiError(400, 'the package is not a PipelineSpec')
  return package, spec


def task_details(entry) -> list:
  """A run's task details, like the real server's.

  The root DAG as a task with children, then one detail per task that ran.
  Tasks downstream of a failed one never start.
  """
  tasks, failed = entry['tasks'], entry['fail_task']
  not_started = set()
  grew = True
  while grew:
    grew = False
    for name, task in tasks.items():
      upstream = set(task.get('dependentTasks', []))
      if name not in not_started and upstream & (not_started | {failed}):
        not_started.add(name)
        grew = True
  details = [{'display_name': 'root', 'state': entry['run']['state'],
              'child_tasks': [{'task_id': name} for name in tasks]}]
  for name in tasks:
    if name not in not_started:
      details.append({'display_name': name,
                      'state': 'FAILED' if name == failed else 'SUCCEEDED'})
  return details


# The v2beta1 REST calls the commands make: (path under /apis/v2beta1,
# method, KfpApiServer method, the query parameters it takes), from
# backend/api/v2beta1/swagger/.
_LIST = {'page_token', 'page_size', 'sort_by', 'filter'}
_UPLOAD = {'name', 'display_name', 'description', 'tags', 'code_source_url'}
ROUTES = [
    (r'/healthz', 'GET', 'healthz', set()),
    (r'/pipelines/upload', 'POST', 'upload_pipeline', _UPLOAD | {'namespace'}),
    (r'/pipelines/upload_version', 'POST', 'upload_version',
     _UPLOAD | {'pipelineid'}),
    (r'/pipelines', 'GET', 'list_pipelines', _LIST | {'namespace'}),
    (r'/pipelines/([^/]+)/versions', 'GET', 'list_versions', _LIST),
    (r'/pipelines/([^/]+)/versions/([^/]+)', 'GET', 'get_version', set()),
    (r'/experiments', 'GET', 'list_experiments', _LIST | {'namespace'}),
    (r'/experiments', 'POST', 'create_experiment', set()),
    (r'/runs', 'POST', 'create_run', {'experiment_id'}),
    (r'/runs', 'GET', 'list_runs', _LIST | {'namespace', 'experiment_id'}),
    (r'/runs/([^/:]+)', 'GET', 'get_run', {'experiment_id'}),
    (r'/recurringruns', 'POST', 'create_recurring_run', set()),
    (r'/recurringruns', 'GET', 'list_recurring_runs',
     _LIST | {'namespace', 'experiment_id'}),
    (r'/recurringruns/([^/:]+):enable', 'POST', 'enable_recurring_run', set()),
    (r'/recurringruns/([^/:]+):disable', 'POST', 'disable_recurring_run',
     set()),
    (r'/recurringruns/([^/:]+)', 'DELETE', 'delete_recurring_run',
     {'propagation_policy'}),
]
# The int64 fields of the v2beta1 models (`"format": "int64"` in
# backend/api/v2beta1/swagger/*.swagger.json): strings in the Python models.
INT64_FIELDS = {
    ('V2beta1PeriodicSchedule', 'interval_second'),
    ('V2beta1RecurringRun', 'max_concurrency'),
    ('V2beta1PipelineTaskDetail', 'execution_id'),
    ('V2beta1RunDetails', 'pipeline_context_id'),
    ('V2beta1RunDetails', 'pipeline_run_context_id'),
}


def check_query(query: dict, allowed: set) -> None:
  """Raises ApiError(400) for a query the call does not accept.

  That is a query parameter the call does not take, or a page_size (int32)
  that is not a whole number.
  """
  unknown = sorted(set(query) - allowed)
  if unknown:
    raise ApiError(400, f'unknown query parameter {unknown[0]!r}')
  if not re.fullmatch(r'-?\d+', query.get('page_size', '0')):
    raise ApiError(400, f'page_size {query["page_size"]!r} is not an int32')



def cron_ok(cron: str) -> bool:
  return len(cron.split()) == 6 or cron.startswith('@')


def parse_body(body: bytes, model: str) -> dict:
  """A JSON request body, checked against the kfp_server_api model."""
  try:
    value = json.loads(body or b'{}')
  except ValueError as e:
    raise ApiError(400, f'body is not JSON: {e}') from None
  check_model(value, model)
  return value

def filter_by_name(items, query):
  """The items a list call's display_name filter selects."""
  predicates = json.loads(query.get('filter') or '{"predicates": []}')
  for predicate in predicates['predicates']:
    if predicate['key'] != 'display_name' or predicate['operation'] not in (
        'EQUALS', 1):
      raise ApiError(400, f'unsupported filter {predicate}')
    wanted = predicate.get('stringValue', predicate.get('string_value'))
    items = [item for item in items if item['display_name'] == wanted]
  return items

def page(items, query):
  """One page of a list call's answer, sorted as asked."""
  if query.get('sort_by', '') not in ('', 'created_at desc'):
    raise ApiError(400, f'unsupported sort_by {query["sort_by"]}')
  if query.get('sort_by') == 'created_at desc':
    items = sorted(items, key=lambda i: i['created_at'], reverse=True)
  return items[:int(query.get('page_size') or 20)]
