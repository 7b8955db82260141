"""TF Serving's REST predict request, read into rows of CSV field text.

The body is `{"instances": [{feature: value, ...}, ...]}` (row format) or
`{"inputs": {feature: [value, ...], ...}}` (columnar), optionally with
`signature_name`, as TF Serving's REST API documents it. Every feature of
the model must be given for every row (null or "" is a missing value, as an
empty CSV field); the label column may be given and is ignored. Anything
else is refused with a RequestError naming the field.

Most requests give every value as text: orjson reads those, and their
columns are checked whole (_quick). Any other body is read again by
Python's json, whose reading (integers of any size exactly, NaN to be
refused by name) and errors the answer then follows.
"""

import dataclasses
import json
from typing import Optional

import orjson

from models.signatures import SERVING_RAW
from serving import predict
from serving.errors import RequestError

# Rows one request may carry: a bound on the memory and time one client
# can take.
MAX_ROWS = 10_000
ROW_FORMAT = 'instances'
COLUMNAR_FORMAT = 'inputs'


@dataclasses.dataclass(frozen=True)
class PredictRequest:
  form: str  # ROW_FORMAT or COLUMNAR_FORMAT: the key the answer goes under
  columns: predict.Columns  # every feature's values, in request order

  def row_name(self, index: int) -> str:
    return row_name(self.form, index)


def read_json(body: bytes):
  """The body's JSON value (NaN and Infinity read, to be refused by name).

  Raises:
    RequestError: the body is not JSON.
  """
  if not body.strip():
    raise RequestError('JSON Parse error: The document is empty')
  try:
    value = json.loads(body)
  except json.JSONDecodeError as e:
    raise RequestError(f'JSON Parse error: {e.msg} at offset: {e.pos}'
                       ) from None
  except (ValueError, RecursionError) as e:  # not UTF-8, too deep, too long
    raise RequestError(f'JSON Parse error: {e}') from None
  return value


def _check_signature(request: dict) -> None:
  name = request.get('signature_name', SERVING_RAW)
  if name not in ('', SERVING_RAW):
    raise RequestError(
        f'signature_name: {json.dumps(name)} is not served; this server '
        f'answers "{SERVING_RAW}" (CSV fields in)')


def check_count(key: str, count: int) -> None:
  """Raises RequestError unless 1 to MAX_ROWS rows are given under key."""
  if count == 0:
    raise RequestError(f"No values in '{key}'")
  if count > MAX_ROWS:
    raise RequestError(f"'{key}': {count} rows, at most {MAX_ROWS} a request")


def row_name(form: str, index: int) -> str:
  """How an error names a row: instances[0], or row 0 of inputs."""
  return f'{form}[{index}]' if form == ROW_FORMAT else f'row {index} of {form}'


def _row(instance, predictor: predict.Predictor) -> dict:
  if not isinstance(instance, dict):
    raise RequestError(
        f'expected an object of feature: value, got {json.dumps(instance)}')
  predictor.check_columns(instance)
  missing = sorted(set(predictor.features).difference(instance))
  if missing:
    raise RequestError(f'missing feature(s): {", ".join(missing)} (null or '
                       '"" for a missing value)')
  return predict.row_fields(instance)


def _rows(form: str, instances: list,
          predictor: predict.Predictor) -> predict.Columns:
  rows = []
  try:  # a row at a time: no `with about` (errors.py)
    for instance in instances:
      rows.append(_row(instance, predictor))
  except RequestError as e:
    raise RequestError(f'{row_name(form, len(rows))}: {e}') from None
  return predictor.columns(rows)


def _instances(instances, predictor: predict.Predictor) -> predict.Columns:
  if not isinstance(instances, list):
    raise RequestError("Expecting 'instances' to be a list of objects")
  check_count(ROW_FORMAT, len(instances))
  return _rows(ROW_FORMAT, instances, predictor)


def _inputs(inputs, predictor: predict.Predictor) -> predict.Columns:
  if not isinstance(inputs, dict):
    raise RequestError("Expecting 'inputs' to be an object of feature: list "
                       'of values (the model has several inputs)')
  for name, values in inputs.items():
    if not isinstance(values, list):
      raise RequestError(f'inputs.{name}: expected a list of values, one a '
                         f'row, got {json.dumps(values)}')
  counts = {name: len(values) for name, values in inputs.items()}
  if len(set(counts.values())) > 1:
    raise RequestError('inputs: every feature needs one value a row; got '
                       + ', '.join(f'{n}: {c}' for n, c in counts.items()))
  check_count(COLUMNAR_FORMAT, max(counts.values(), default=0))
  return _rows(COLUMNAR_FORMAT,
               [dict(zip(inputs, values)) for values in zip(*inputs.values())],
               predictor)


def _text_inputs(inputs, predictor: predict.Predictor
                 ) -> Optional[predict.Columns]:
  """The columns of `inputs` giving every feature's values as text, else None."""
  if not isinstance(inputs, dict) or any(
      type(values) is not list for values in inputs.values()):  # pylint: disable=unidiomatic-typecheck
    return None
  return predictor.text_columns(
      [dict(zip(inputs, values)) for values in zip(*inputs.values())]
  ) if len(set(map(len, inputs.values()))) == 1 else None


def _quick(body: bytes, predictor: predict.Predictor
           ) -> Optional[PredictRequest]:
  """The request, if it is the common one; else None.

  The common one: one format's key and maybe the signature's name, 1 to
  MAX_ROWS rows, each giving every feature as text.
  """
  try:
    request = orjson.loads(body)
  except orjson.JSONDecodeError:
    return None
  if not isinstance(request, dict):
    return None
  form = ROW_FORMAT if ROW_FORMAT in request else COLUMNAR_FORMAT
  if (request.keys() - {form, 'signature_name'} or
      request.get('signature_name', SERVING_RAW) not in ('', SERVING_RAW)):
    return None
  given = request.get(form)
  columns = ((predictor.text_columns(given) if isinstance(given, list) else
              None) if form == ROW_FORMAT else _text_inputs(given, predictor))
  if columns is None or len(next(iter(columns.values()))) > MAX_ROWS:
    return None
  return PredictRequest(form, columns)


def parse(body: bytes, predictor: predict.Predictor) -> PredictRequest:
  """A predict request's rows, checked against the model's features.

  Args:
    body: the request body.
    predictor: the model the request is for (its features).

  Returns:
    The request's form and rows.

  Raises:
    RequestError: the body is not such a request; the message names the
      field.
  """
  quick = _quick(body, predictor)
  if quick is not None:
    return quick
  request = read_json(body)
  if not isinstance(request, dict):
    raise RequestError('the request must be a JSON object with "instances" '
                       'or "inputs"')
  _check_signature(request)
  given = [key for key in (ROW_FORMAT, COLUMNAR_FORMAT) if key in request]
  if len(given) == 2:
    raise RequestError("Not formatted correctly expecting only one of "
                       "'inputs' or 'instances' keys to exist")
  if not given:
    raise RequestError("Missing 'inputs' or 'instances' key")
  if given[0] == ROW_FORMAT:
    return PredictRequest(ROW_FORMAT,
                          _instances(request[ROW_FORMAT], predictor))
  return PredictRequest(COLUMNAR_FORMAT,
                        _inputs(request[COLUMNAR_FORMAT], predictor))
