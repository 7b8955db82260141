"""The Open Inference Protocol's (KServe V2) REST inference, as rows.

    POST /v2/models/<name>[/versions/N]/infer
    {"id": "...", "inputs": [{"name": FEATURE, "shape": [ROWS],
                              "datatype": "BYTES", "data": [...]}, ...]}

    {"model_name": ..., "model_version": "N", "id": "...",
     "outputs": [{"name": "big_tip_probability", "shape": [ROWS, 1],
                  "datatype": "FP32", "data": [...]}]}

One input tensor a feature, one value a row (shape [ROWS] or [ROWS, 1];
data flat or nested, in row-major order, as the protocol allows). The
model's signature takes CSV field text, so its metadata declares BYTES
inputs; integer and floating-point tensors are taken too and read as the
CSV fields a client would have written, like TF Serving's REST requests
(rest_request.py). JSON only: the binary tensor extension is refused.
"""

import dataclasses
import math
from typing import List, Optional

from models.model import PREDICTION_KEY
from serving import predict
from serving import rest_request
from serving.errors import RequestError
from serving.errors import about

# The protocol's tensor data types, as this model reads them.
_TEXT = 'BYTES'
_INTEGERS = frozenset(f'{sign}INT{bits}' for sign in ('', 'U')
                      for bits in (8, 16, 32, 64))
_FLOATS = frozenset({'FP16', 'FP32', 'FP64'})
_DATATYPES = _INTEGERS | _FLOATS | {_TEXT, 'BOOL'}
OUTPUT_DATATYPE = 'FP32'


@dataclasses.dataclass(frozen=True)
class InferRequest:
  id: Optional[str]  # the client's, echoed in the answer
  columns: predict.Columns  # every feature's values, in request order

  def row_name(self, index: int) -> str:
    return f'row {index} of inputs'


def _flat(data) -> list:
  """A tensor's data in row-major order, whether flat or nested."""
  flat, pending = [], [data]
  while pending:
    value = pending.pop()
    if isinstance(value, list):
      pending.extend(reversed(value))
    else:
      flat.append(value)
  return flat


def _text(value, datatype: str) -> str:
  """One value of a tensor of `datatype` as CSV field text."""
  if datatype == _TEXT:
    if not isinstance(value, str):
      raise RequestError(f'expected text (BYTES), got {value!r}')
    return value
  if isinstance(value, bool) or not isinstance(value, (int, float)):
    raise RequestError(f'expected a number ({datatype}), got {value!r}')
  if datatype in _INTEGERS and not isinstance(value, int):
    raise RequestError(f'expected an integer ({datatype}), got {value!r}')
  if not math.isfinite(value):
    raise RequestError(f'{value} is not a finite number')
  return str(value)


def _column(tensor, index: int) -> tuple:
  """An input tensor's (feature, CSV field texts); errors name the tensor."""
  if not isinstance(tensor, dict):
    raise RequestError(f'inputs[{index}]: expected an object with name, '
                       'shape, datatype and data')
  name = tensor.get('name')
  where = f'inputs[{index}] ({name})' if isinstance(name, str) else (
      f'inputs[{index}]')
  with about(where):
    missing = [k for k in ('name', 'shape', 'datatype', 'data')
               if k not in tensor]
    if missing:
      raise RequestError(f'missing {", ".join(missing)}')
    if not isinstance(name, str):
      raise RequestError(f'name: expected text, got {name!r}')
    shape, datatype = tensor['shape'], tensor['datatype']
    if datatype not in _DATATYPES:
      raise RequestError(f'datatype {datatype!r} is not one of the '
                         f'protocol\'s ({", ".join(sorted(_DATATYPES))})')
    if datatype == 'BOOL':
      raise RequestError('datatype BOOL: no feature of this model is boolean'
                         '; send BYTES (the CSV field) or a number')
    if (not isinstance(shape, list) or len(shape) not in (1, 2) or
        not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0
                for d in shape) or shape[1:] not in ([], [1])):
      raise RequestError(f'shape {shape!r}: expected [rows] or [rows, 1], '
                         'one value a row')
    data = _flat(tensor['data'])
    if len(data) != shape[0]:
      raise RequestError(f'shape {shape!r} holds {shape[0]} value(s), data '
                         f'has {len(data)}')
    if datatype == _TEXT and set(map(type, data)) == {str}:
      return name, data  # as most are: no value to check
    column = []
    for row, value in enumerate(data):
      try:  # a value at a time: no `with about` (errors.py)
        column.append(_text(value, datatype))
      except RequestError as e:
        raise RequestError(f'row {row}: {e}') from None
    return name, column


def _check_outputs(outputs) -> None:
  """The outputs the client asks for: this model's one, as JSON."""
  if not isinstance(outputs, list):
    raise RequestError('outputs: expected a list of {"name": ...}')
  for index, output in enumerate(outputs):
    if not isinstance(output, dict) or output.get('name') != PREDICTION_KEY:
      raise RequestError(f'outputs[{index}]: this model has one output, '
                         f'"{PREDICTION_KEY}"')
    if (output.get('parameters') or {}).get('binary_data'):
      raise RequestError(f'outputs[{index}].parameters.binary_data: the '
                         'binary tensor extension is not supported')


def parse(body: bytes, predictor: predict.Predictor) -> InferRequest:
  """An inference request's rows, checked against the model's features.

  Args:
    body: the request body (JSON).
    predictor: the model the request is for (its features).

  Returns:
    The request's id and rows.

  Raises:
    RequestError: the body is not such a request; the message names the
      tensor and row.
  """
  request = rest_request.read_json(body)
  if not isinstance(request, dict):
    raise RequestError('the request must be a JSON object with "inputs"')
  request_id = request.get('id')
  if request_id is not None and not isinstance(request_id, str):
    raise RequestError(f'id: expected text, got {request_id!r}')
  _check_outputs(request.get('outputs', []))
  inputs = request.get('inputs')
  if not isinstance(inputs, list) or not inputs:
    raise RequestError('inputs: expected a list of tensors, one a feature')
  columns = dict(_column(tensor, index) for index, tensor in enumerate(inputs))
  if len(columns) < len(inputs):
    raise RequestError('inputs: a feature is given twice')
  with about('inputs'):
    predictor.check_columns(columns)
  missing = sorted(set(predictor.features).difference(columns))
  if missing:
    raise RequestError(f'inputs: missing feature(s): {", ".join(missing)} '
                       '("" for a missing value)')
  counts = {name: len(values) for name, values in columns.items()}
  if len(set(counts.values())) > 1:
    raise RequestError('inputs: every feature needs one value a row; got '
                       + ', '.join(f'{n}: {c}' for n, c in counts.items()))
  rest_request.check_count('inputs', max(counts.values()))
  return InferRequest(request_id,
                      {k: columns[k] for k in predictor.features})


def answer(model_name: str, version: int, request: InferRequest,
           probabilities: List[float]) -> dict:
  """The inference response: one probability a row, as a [rows, 1] tensor."""
  response = {'model_name': model_name, 'model_version': str(version),
              'outputs': [{'name': PREDICTION_KEY,
                           'shape': [len(probabilities), 1],
                           'datatype': OUTPUT_DATATYPE,
                           'data': probabilities}]}
  if request.id is not None:
    response['id'] = request.id
  return response


def model_metadata(model_name: str, versions: List[str],
                   features: List[str]) -> dict:
  """The model metadata response: its inputs as the signature declares them."""
  return {'name': model_name, 'versions': versions,
          'platform': 'tensorflow_savedmodel',
          'inputs': [{'name': f, 'datatype': _TEXT, 'shape': [-1]}
                     for f in features],
          'outputs': [{'name': PREDICTION_KEY, 'datatype': OUTPUT_DATATYPE,
                       'shape': [-1, 1]}]}
