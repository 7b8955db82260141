"""`taxi-tips serve` against the bundled run's model, as a client sees it.

One server per module, started as a user starts it, on a push destination
of its own holding a copy of the bundled run's pushed version; requests
are TF Serving REST requests over HTTP on 127.0.0.1.
"""

from concurrent import futures
import json
import math
from pathlib import Path
import socket
import time

import pytest

import helpers
import serve_client
from models import push_destination
from pipeline import configs
from serving import cli
from serving import model_pool
from serving import predict
from serving import rest_request
from serving import server
from serving.errors import RequestError

pytestmark = pytest.mark.e2e

MODEL = serve_client.MODEL


def test_serve_answers_as_predict_does(port, destination, rows, tmp_path,
                                       capsys):
  rows_csv = helpers.write_csv(tmp_path / 'rows.csv', rows)
  assert cli.main(['predict', str(rows_csv), '--push-destination',
                   str(destination), '--output-format', 'jsonl']) == 0
  expected = [json.loads(line)['big_tip_probability']
              for line in capsys.readouterr().out.splitlines()]
  client = serve_client.Client(port)
  version = serve_client.served_version(port)

  status, answer = client.call('POST', f'{MODEL}:predict',
                               {'instances': rows})
  assert status == 200, answer
  assert [len(p) for p in answer['predictions']] == [1] * len(rows)
  assert [p for [p] in answer['predictions']] == pytest.approx(
      expected, abs=1e-6)
  columns = {k: [r[k] for r in rows] for k in rows[0]}
  status, answer = client.call(
      'POST', f'{MODEL}/versions/{version}:predict',
      {'signature_name': 'serving_raw', 'inputs': columns})
  assert status == 200, answer
  assert [p for [p] in answer['outputs']] == pytest.approx(expected, abs=1e-6)


def test_each_reading_of_a_request_gives_the_same_fields(destination, rows):
  # Rows all of text are read by orjson and checked column by column; any
  # other body again by Python's json, row by row. Both must give the
  # fields a client means, an integer of any size included.
  predictor = predict.Predictor(
      push_destination.latest_version_dir(str(destination)))

  def fields(request: dict) -> dict:
    parsed = rest_request.parse(json.dumps(request).encode(), predictor)
    return {k: list(v) for k, v in parsed.columns.items()}

  by_columns = fields({'instances': rows})
  assert by_columns == {k: [r[k] for r in rows] for k in predictor.features}
  # A value as TF Serving's one-value list sends it all the other way.
  listed = [dict(rows[0], company=[rows[0]['company']])] + rows[1:]
  assert fields({'instances': listed}) == by_columns
  inputs = {k: [r[k] for r in rows] for k in rows[0]}
  assert fields({'inputs': inputs}) == by_columns
  assert fields({'inputs': dict(inputs, fare=[[v] for v in inputs['fare']])}
                ) == by_columns
  assert fields({'instances': [dict(rows[0], fare=10**30)]})['fare'] == [
      str(10**30)]
  # The label is ignored, but a value of it that is not one number or text
  # is refused, whichever way the rest reads.
  with pytest.raises(RequestError, match='instances.0.: tips: true is neith'):
    fields({'instances': [dict(rows[0], tips=True)]})


def test_status_metadata_health_and_metrics(port, rows):
  client = serve_client.Client(port)
  version = serve_client.served_version(port)
  status, answer = client.call('GET', f'{MODEL}/versions/{version}')
  assert status == 200 and answer['model_version_status'] == [{
      'version': str(version), 'state': 'AVAILABLE',
      'status': {'error_code': 'OK', 'error_message': ''}}]
  status, answer = client.call('GET', f'{MODEL}/metadata')
  assert answer['model_spec']['version'] == str(version)
  raw = answer['metadata']['signature_def']['signature_def']['serving_raw']
  assert set(raw['inputs']) == set(rows[0])
  assert set(raw['outputs']) == {'big_tip_probability'}
  assert client.call('GET', '/healthz')[0] == 200
  assert client.call('GET', '/readyz') == (
      200, {'status': 'ready', 'version': str(version)})
  client.call('POST', f'{MODEL}:predict', {'instances': rows[:3]})
  client.call('POST', f'{MODEL}:predict', {'instances': []})
  metrics = client.call('GET', '/metrics')[1]
  assert float(metrics.split('\ntaxi_tips_served_version ')[1].split()[0]) == (
      version)
  for line in ('taxi_tips_requests_total{code="200",endpoint="predict"}',
               'taxi_tips_requests_total{code="400",endpoint="predict"}',
               'taxi_tips_request_seconds_bucket{endpoint="predict",le="0.01"}'
               ):
    assert line in metrics


def _bad(rows, **changes) -> dict:
  return {'instances': [rows[0], dict(rows[1], **changes)]}


BAD_REQUESTS = {
    'missing column': (
        lambda rows: {'instances': [
            {k: v for k, v in rows[0].items() if k != 'fare'}]},
        400, 'instances[0]: missing feature(s): fare'),
    'unknown column': (lambda rows: _bad(rows, tip_percent='3'), 400,
                       'instances[1]: unknown column(s): tip_percent'),
    'text for a number': (lambda rows: _bad(rows, fare='12,50'), 400,
                          "instances[1]: fare: expected a number, got '12,50'"),
    'fraction for an integer': (
        lambda rows: _bad(rows, trip_seconds=60.5), 400,
        "instances[1]: trip_seconds: expected an integer, got '60.5'"),
    'true for a number': (lambda rows: _bad(rows, fare=True), 400,
                          'instances[1]: fare: true is neither'),
    'an object for a value': (lambda rows: _bad(rows, company={'a': 1}), 400,
                              'instances[1]: company: {"a": 1} is neither'),
    'two values': (lambda rows: _bad(rows, fare=[1, 2]), 400,
                   'instances[1]: fare: [1, 2]: one value per feature'),
    'NaN': (lambda rows: json.dumps(_bad(rows, fare=math.nan)), 400,
            'instances[1]: fare: nan is not a finite number'),
    'infinity': (lambda rows: json.dumps(_bad(rows, fare=1)).replace(
        '"fare": 1', '"fare": 1e999'), 400,
                 'instances[1]: fare: inf is not a finite number'),
    'too many rows': (
        lambda rows: {'instances': rows[:1] * (rest_request.MAX_ROWS + 1)},
        400, f"'instances': {rest_request.MAX_ROWS + 1} rows, at most "
        f'{rest_request.MAX_ROWS} a request'),
    'no rows': (lambda rows: {'instances': []}, 400,
                "No values in 'instances'"),
    'malformed JSON': (lambda rows: '{"instances": [', 400,
                       'JSON Parse error: Expecting value at offset: 15'),
    'empty body': (lambda rows: '', 400, 'The document is empty'),
    'not UTF-8': (lambda rows: b'{"instances": ["\xff"]}', 400,
                  'JSON Parse error'),
    'deeply nested': (lambda rows: '[' * 100_000, 400, 'JSON Parse error'),
    'not an object': (lambda rows: rows, 400, 'must be a JSON object'),
    'both formats': (lambda rows: {'instances': rows, 'inputs': {}}, 400,
                     "only one of 'inputs' or 'instances'"),
    'neither format': (lambda rows: {'rows': rows}, 400,
                       "Missing 'inputs' or 'instances' key"),
    'instances not a list': (lambda rows: {'instances': rows[0]}, 400,
                             "Expecting 'instances' to be a list"),
    'a row not an object': (lambda rows: {'instances': [['1', '2']]}, 400,
                            'instances[0]: expected an object'),
    'columns of unequal length': (
        lambda rows: {'inputs': dict({k: [v] * 2 for k, v in rows[0].items()},
                                     fare=['1'])}, 400,
        'every feature needs one value a row'),
    'a column not a list': (
        lambda rows: {'inputs': dict({k: [v] for k, v in rows[0].items()},
                                     fare='1')}, 400,
        'inputs.fare: expected a list of values'),
    'a bad value in a column': (
        lambda rows: {'inputs': dict({k: [v, v] for k, v in rows[0].items()},
                                     fare=['1', 'x'])}, 400,
        "row 1 of inputs: fare: expected a number, got 'x'"),
    'another signature': (
        lambda rows: {'signature_name': 'serving_default',
                      'instances': rows}, 400,
        'signature_name: "serving_default" is not served'),
    'body too large': (
        lambda rows: b' ' * (server.MAX_BODY_BYTES + 1), 413,
        f'over {server.MAX_BODY_BYTES} bytes'),
}


@pytest.mark.parametrize('case', BAD_REQUESTS)
def test_a_bad_request_is_refused_naming_what_is_wrong(port, rows, case):
  body, expected_status, message = BAD_REQUESTS[case]
  status, answer = serve_client.Client(port).call('POST', f'{MODEL}:predict',
                                                  body(rows))
  assert (status, message in answer['error']) == (expected_status, True), (
      answer)


def test_no_such_version_or_model_is_not_found(port, rows):
  client = serve_client.Client(port)
  assert client.call('POST', f'{MODEL}/versions/3:predict',
                     {'instances': rows}) == (404, {
                         'error': 'Servable not found for request: '
                                  f'Specific({configs.PIPELINE_NAME}, 3)'})
  assert client.call('GET', f'{MODEL}/versions/3') == (404, {
      'error': f'Could not find version 3 of model {configs.PIPELINE_NAME}'})
  assert client.call('POST', '/v1/models/other:predict',
                     {'instances': rows}) == (404, {
                         'error': 'Servable not found for request: '
                                  'Latest(other)'})


def test_requests_answered_together_keep_their_own_answers(port, rows):
  # Concurrent requests share signature calls; a refused row refuses its
  # own request only, and each gets its own rows' answers.
  client = serve_client.Client(port)
  expected = {n: client.call('POST', f'{MODEL}:predict',
                             {'instances': rows[n:n + 3]})[1]
              for n in range(0, 30, 3)}
  bad = {'instances': [rows[0], dict(rows[1], fare='x')]}

  def send(n):
    mine = serve_client.Client(port)
    return (mine.call('POST', f'{MODEL}:predict', bad),
            mine.call('POST', f'{MODEL}:predict',
                      {'instances': rows[n:n + 3]}))

  with futures.ThreadPoolExecutor(8) as pool:
    answers = dict(zip(expected, pool.map(send, expected)))
  for n, (refused, (status, answered)) in answers.items():
    assert refused == (400, {'error': "instances[1]: fare: expected a "
                                      "number, got 'x'"})
    # (A batch's size moves the float sums' last bits.)
    assert status == 200 and sum(answered['predictions'], []) == pytest.approx(
        sum(expected[n]['predictions'], []), abs=1e-6)


def test_garbage_on_the_wire_does_not_stop_the_server(port, rows):
  for garbage in (b'\x00\xff' * 1000, b'GET / HTTP/9.9\r\n\r\n',
                  b'POST ' + b'/x' * 50_000 + b' HTTP/1.1\r\n\r\n'):
    with socket.create_connection(('127.0.0.1', port), timeout=10) as s:
      try:
        s.sendall(garbage)
        s.recv(1024)
      except ConnectionResetError:
        pass  # refused: as good as an error answer
  assert serve_client.Client(port).call('POST', f'{MODEL}:predict',
                           {'instances': rows[:1]})[0] == 200


def test_only_a_complete_loadable_version_is_served(port, destination):
  first = serve_client.served_version(port)
  # Neither a version folder without its saved_model.pb nor a staged copy
  # is a version (numbers far above the next push's).
  (destination / str(first + 10**6) / 'variables').mkdir(parents=True)
  (destination / f'.incomplete-{first + 10**6 + 1}').mkdir()
  # A version that does not load is reported, not served.
  broken = destination / str(first + 1)
  broken.mkdir()
  (broken / 'saved_model.pb').write_bytes(b'not a SavedModel')
  deadline, client = time.time() + 60, serve_client.Client(port)
  while client.call('GET', f'{MODEL}/versions/{first + 1}')[0] != 200:
    assert time.time() < deadline, 'the broken version is not reported'
    time.sleep(.2)
  _, answer = serve_client.Client(port).call('GET', MODEL)
  assert [(v['version'], v['state'], v['status']['error_code'])
          for v in answer['model_version_status']] == [
              (str(first + 1), 'END', 'UNKNOWN'),
              (str(first), 'AVAILABLE', 'OK')]
  assert "Cannot parse file" in answer['model_version_status'][0]['status'][
      'error_message']


def test_a_push_and_a_rollback_are_served_under_load_without_a_failure(
    port, destination, rows, capsys):
  first = serve_client.served_version(port)
  load = serve_client.Load(port, rows[0])
  try:
    pushed = int(Path(push_destination.publish(
        str(destination / str(first)), str(destination))).name)
    serve_client.wait_until_served(port, pushed)
    assert cli.main(['models', 'rollback', str(first), '--push-destination',
                     str(destination)]) == 0
    rolled_back = int(capsys.readouterr().out.split()[1])
    serve_client.wait_until_served(port, rolled_back)
  finally:
    statuses = load.stop()
  assert len(statuses) > 20
  assert set(statuses) == {200}
  client = serve_client.Client(port)
  assert client.call('POST', f'{MODEL}/versions/{rolled_back}:predict',
                     {'instances': rows[:1]})[0] == 200
  assert client.call('POST', f'{MODEL}/versions/{pushed}:predict',
                     {'instances': rows[:1]})[0] == 404


def test_a_pinned_version_is_served_whatever_is_pushed_after(destination):
  oldest = push_destination.versions(str(destination))[-1]
  newest = push_destination.publish(str(destination / str(oldest)),
                                    str(destination))
  pool = model_pool.ModelPool(str(destination), configs.PIPELINE_NAME,
                              pinned=oldest)
  pool.poll()
  assert pool.get(configs.PIPELINE_NAME).version == oldest
  with pytest.raises(model_pool.NotFound, match=(
      rf'Specific\({configs.PIPELINE_NAME}, {Path(newest).name}\)')):
    pool.get(configs.PIPELINE_NAME, int(Path(newest).name))
