"""`taxi-tips serve` through the Open Inference Protocol (KServe V2) REST API.

Requests as KServe's V2 clients send them, over HTTP on 127.0.0.1, to the
server of tests/e2e/conftest.py.
"""

import json
import math

import pytest

import serve_client
from pipeline import configs
from serving import rest_request

pytestmark = pytest.mark.e2e

V2_MODEL = f'/v2/models/{configs.PIPELINE_NAME}'
# Columns sent as numbers, with the protocol's type for each.
NUMBERS = {'trip_seconds': 'INT64', 'fare': 'FP64', 'trip_miles': 'FP32'}


def _tensors(rows, datatypes=None, nested=False) -> list:
  """One input tensor a column; BYTES (the CSV text) unless datatypes say."""
  tensors = []
  for name in rows[0]:
    datatype = (datatypes or {}).get(name, 'BYTES')
    values = [r[name] for r in rows]
    if datatype != 'BYTES':
      values = [(int if datatype == 'INT64' else float)(v) for v in values]
    tensors.append({
        'name': name, 'datatype': datatype,
        'shape': [len(rows), 1] if nested else [len(rows)],
        'data': [[v] for v in values] if nested else values})
  return tensors


@pytest.fixture(scope='module')
def numeric_rows(rows) -> list:
  """Rows whose NUMBERS columns all have a value."""
  return [r for r in rows if all(r[name] for name in NUMBERS)][:20]


def _predicted(port, rows) -> list:
  status, answer = serve_client.Client(port).call(
      'POST', f'{serve_client.MODEL}:predict', {'instances': rows})
  assert status == 200, answer
  return [p for [p] in answer['predictions']]


def test_infer_answers_as_tf_serving_rest_does(port, numeric_rows):
  rows = numeric_rows
  expected = _predicted(port, rows)
  client = serve_client.Client(port)
  version = serve_client.served_version(port)
  for path, body in [
      (f'{V2_MODEL}/infer', {'id': 'r-1', 'inputs': _tensors(rows)}),
      (f'{V2_MODEL}/versions/{version}/infer',
       {'id': 'r-1', 'inputs': _tensors(rows, NUMBERS, nested=True),
        'outputs': [{'name': 'big_tip_probability'}]}),
  ]:
    status, answer = client.call('POST', path, body)
    assert status == 200, answer
    [output] = answer.pop('outputs')
    assert answer == {'model_name': configs.PIPELINE_NAME,
                      'model_version': str(version), 'id': 'r-1'}
    assert (output['name'], output['shape'], output['datatype']) == (
        'big_tip_probability', [len(rows), 1], 'FP32')
    assert output['data'] == pytest.approx(expected, abs=1e-6)


def test_server_and_model_metadata_and_readiness(port, rows):
  client = serve_client.Client(port)
  version = str(serve_client.served_version(port))
  assert client.call('GET', '/v2/health/live') == (200, {'live': True})
  assert client.call('GET', '/v2/health/ready') == (200, {'ready': True})
  status, server = client.call('GET', '/v2')
  assert status == 200 and server['extensions'] == []
  status, metadata = client.call('GET', V2_MODEL)
  assert status == 200, metadata
  assert (metadata['name'], metadata['versions']) == (configs.PIPELINE_NAME,
                                                       [version])
  assert {i['name']: (i['datatype'], i['shape'])
          for i in metadata['inputs']} == {k: ('BYTES', [-1]) for k in rows[0]}
  assert metadata['outputs'] == [{'name': 'big_tip_probability',
                                  'datatype': 'FP32', 'shape': [-1, 1]}]
  assert client.call('GET', f'{V2_MODEL}/versions/{version}/ready') == (
      200, {'name': configs.PIPELINE_NAME, 'ready': True})
  assert client.call('GET', f'{V2_MODEL}/versions/3/ready')[0] == 404
  assert client.call('POST', '/v2/models/other/infer',
                     {'inputs': _tensors(rows[:1])})[0] == 404


def _with(rows, name, **changes) -> dict:
  """The rows' tensors, the one of `name` changed."""
  return {'inputs': [dict(t, **changes) if t['name'] == name else t
                     for t in _tensors(rows)]}


BAD_REQUESTS = {
    'no inputs': (lambda rows: {'id': '1'},
                  'inputs: expected a list of tensors'),
    'a missing feature': (
        lambda rows: {'inputs': [t for t in _tensors(rows)
                                 if t['name'] != 'fare']},
        'inputs: missing feature(s): fare'),
    'an unknown feature': (
        lambda rows: {'inputs': _tensors(rows) + [dict(
            _tensors(rows)[0], name='tip_percent')]},
        'inputs: unknown column(s): tip_percent'),
    'a feature twice': (lambda rows: {'inputs': _tensors(rows) * 2},
                        'inputs: a feature is given twice'),
    'a tensor without data': (
        lambda rows: {'inputs': [{k: v for k, v in t.items() if k != 'data'}
                                 for t in _tensors(rows)]},
        'missing data'),
    'shape and data disagree': (
        lambda rows: _with(rows, 'fare', shape=[len(rows) + 1]),
        '(fare): shape [3] holds 3 value(s), data has 2'),
    'a shape of several values a row': (
        lambda rows: _with(rows, 'fare', shape=[1, 2]),
        '(fare): shape [1, 2]: expected [rows] or [rows, 1]'),
    'columns of unequal length': (
        lambda rows: _with(rows, 'fare', shape=[1], data=['1']),
        'inputs: every feature needs one value a row'),
    'a number in a BYTES tensor': (
        lambda rows: _with(rows, 'fare', data=[1.5, '2']),
        "(fare): row 0: expected text (BYTES), got 1.5"),
    'a fraction in an INT64 tensor': (
        lambda rows: _with(rows, 'trip_seconds', datatype='INT64',
                           data=[60, 60.5]),
        '(trip_seconds): row 1: expected an integer (INT64), got 60.5'),
    'text in an FP32 tensor': (
        lambda rows: _with(rows, 'fare', datatype='FP32', data=[1, 'x']),
        "(fare): row 1: expected a number (FP32), got 'x'"),
    'NaN': (lambda rows: json.dumps(_with(rows, 'fare', datatype='FP64',
                                          data=[1, math.nan])),
            '(fare): row 1: nan is not a finite number'),
    'BOOL': (lambda rows: _with(rows, 'fare', datatype='BOOL',
                                data=[True, False]),
             '(fare): datatype BOOL: no feature of this model is boolean'),
    'an unknown datatype': (lambda rows: _with(rows, 'fare', datatype='STR'),
                            "(fare): datatype 'STR' is not one of the"),
    'a value the model refuses': (
        lambda rows: _with(rows, 'fare', data=['1', '12,50']),
        "row 1 of inputs: fare: expected a number, got '12,50'"),
    'another output': (
        lambda rows: dict(_with(rows, 'fare'), outputs=[{'name': 'logits'}]),
        'outputs[0]: this model has one output, "big_tip_probability"'),
    'binary output': (
        lambda rows: dict(_with(rows, 'fare'), outputs=[{
            'name': 'big_tip_probability',
            'parameters': {'binary_data': True}}]),
        'the binary tensor extension is not supported'),
    'too many rows': (
        lambda rows: {'inputs': _tensors(rows[:1] * (rest_request.MAX_ROWS
                                                      + 1))},
        f"'inputs': {rest_request.MAX_ROWS + 1} rows, at most"),
    'malformed JSON': (lambda rows: '{"inputs": [', 'JSON Parse error'),
    'not an object': (lambda rows: [], 'must be a JSON object'),
}


@pytest.mark.parametrize('case', BAD_REQUESTS)
def test_a_bad_inference_request_is_refused_naming_what_is_wrong(port, rows,
                                                                  case):
  body, message = BAD_REQUESTS[case]
  status, answer = serve_client.Client(port).call(
      'POST', f'{V2_MODEL}/infer', body(rows[:2]))
  assert (status, message in answer['error']) == (400, True), answer
