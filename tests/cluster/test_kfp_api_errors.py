"""What the cluster commands say when the KFP API cannot be reached or
refuses them, and what the local KFP API server refuses.
"""

import json
import socket
import urllib.error
import urllib.request

import pytest
import yaml

from kfp_commands import cli, ok, one_error_line
from cluster.kfp_client import connection


def test_unreachable_endpoint_is_one_clear_line():
  with socket.socket() as s:
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]  # closed again before the command runs
  endpoint = f'http://127.0.0.1:{port}'
  result = cli(endpoint, 'runs')
  line = one_error_line(result)
  assert f'cannot reach Kubeflow Pipelines at {endpoint}' in line
  assert 'Traceback' not in result.stdout + result.stderr


def test_refused_credentials_are_one_clear_line(server):
  server.state.token = 'secret'
  line = one_error_line(cli(server.url, 'runs'))
  assert 'HTTP 401' in line and '--iap-client-id' in line


def test_missing_endpoint_names_the_flag_and_variable():
  line = one_error_line(cli('', 'runs'), returncode=2)
  assert '--endpoint' in line and connection.ENDPOINT_ENV in line


def _request(server, method, path, body=None):
  request = urllib.request.Request(
      f'{server.url}/apis/v2beta1{path}', method=method,
      data=json.dumps(body).encode() if body is not None else None,
      headers={'Content-Type': 'application/json'})
  return urllib.request.urlopen(request)


@pytest.mark.parametrize('method, path, body, reason', [
    ('POST', '/experiments', {'display_name': 'x', 'owner': 'me'},
     "unknown field 'owner'"),
    ('POST', '/experiments', {'display_name': 5}, 'expected str, got 5'),
    ('POST', '/experiments?owner=me', {'display_name': 'x'},
     "unknown query parameter 'owner'"),
    ('GET', '/experiments?page_size=ten', None,
     "page_size 'ten' is not an int32"),
    ('POST', '/pipelines/upload?pipeline_name=x', None,
     "unknown query parameter 'pipeline_name'"),
])
def test_the_server_rejects_requests_the_api_does_not_allow(
    server, method, path, body, reason):
  """The checks every test above relies on do reject a wrong request."""
  with pytest.raises(urllib.error.HTTPError) as error:
    _request(server, method, path, body)
  assert error.value.code == 400
  assert reason in server.state.rejected.pop()


def test_the_server_takes_numbers_for_int64_fields_only(server):
  experiment = json.load(_request(server, 'POST', '/experiments',
                                  {'display_name': 'x'}))
  with pytest.raises(urllib.error.HTTPError):  # no pipeline: 404, not 400
    _request(server, 'POST', '/recurringruns', {
        'display_name': 'x', 'experiment_id': experiment['experiment_id'],
        'max_concurrency': 1, 'trigger': {'periodic_schedule': {
            'interval_second': 3600}}})
  assert server.state.rejected == []


def test_iap_without_google_credentials_is_one_clear_line(server, tmp_path):
  result = cli(server.url, 'runs', '--iap-client-id', 'id.apps.example',
             GOOGLE_APPLICATION_CREDENTIALS=str(tmp_path / 'missing.json'))
  line = one_error_line(result)
  assert 'could not get credentials for IAP client id id.apps.example' in line
  assert 'missing.json' in line


def test_a_package_argo_would_reject_uploads_but_cannot_run(server, kfp_spec,
                                                            tmp_path):
  # Task names with '_' compile and upload; CreateRun refuses the workflow.
  spec = json.loads(json.dumps(kfp_spec))
  tasks = spec['root']['dag']['tasks']
  tasks['latest_pushed_model'] = tasks.pop('latest-pushed-model')
  package = tmp_path / 'underscored.yaml'
  package.write_text(yaml.safe_dump(spec))
  ok(cli(server.url, 'create', '--package', str(package)))
  line = one_error_line(cli(server.url, 'run'))
  assert "Argo rejects the DAG task name 'latest_pushed_model" in line
  assert server.state.runs == {}
  server.state.rejected.clear()  # the refusal this test expects
