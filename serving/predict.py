"""Predictions from a pushed model for rows given as CSV or JSON lines.

Rows go through the model's `serving_raw` signature, as CSV field text, so
a row is read exactly as ExampleGen reads training data and as a JSON
request to TF Serving is. A row the model refuses (a value of the wrong
type) is reported by its number and feature; the others are answered.
"""

import csv
import dataclasses
import itertools
import json
import math
import operator
import re
from typing import (Dict, Iterable, Iterator, List, Optional, Sequence, TextIO,
                    Tuple, Union)

import tensorflow as tf

from models import features
from models.model import PREDICTION_KEY
from models.signatures import SERVING_RAW
from serving.errors import RequestError
from serving.errors import about

BATCH_ROWS = 256
_REFUSAL = re.compile(r'\[(\w+: expected [^\]]+)\]')


@dataclasses.dataclass(frozen=True)
class RowError:
  row: int  # 1 = the first row after a CSV header, or the first instance
  reason: str

  def __str__(self) -> str:
    return f'row {self.row}: {self.reason}'


Answer = Union[float, RowError]
# Feature -> CSV field text, one a row: what one signature call takes.
Columns = Dict[str, Sequence[str]]


def rows_of(columns: Columns) -> List[dict]:
  """Columns as rows, in order."""
  return [dict(zip(columns, values)) for values in zip(*columns.values())]


def field_text(value) -> str:
  """A JSON value as the CSV field a client would have written.

  Raises:
    RequestError: the value is not one number or text (true, an object,
      several values, NaN or infinity).
  """
  if value is None:
    return ''
  if isinstance(value, (bool, dict)):
    raise RequestError(f'{json.dumps(value)} is neither a number nor text')
  if isinstance(value, float) and not math.isfinite(value):
    raise RequestError(f'{value} is not a finite number')
  if isinstance(value, list):  # TF Serving's form for one value: [v]
    if len(value) > 1:
      raise RequestError(f'{json.dumps(value)}: one value per feature')
    return field_text(value[0]) if value else ''
  return str(value)


def row_fields(instance: dict) -> dict:
  """An instance's values as CSV field text.

  Raises:
    RequestError: a value is not one number or text, named by its feature.
  """
  row = {}
  for key, value in instance.items():
    if isinstance(value, str):  # as most are: no more to check
      row[key] = value
      continue
    try:  # a value at a time: no `with about` (errors.py)
      row[key] = field_text(value)
    except RequestError as e:
      raise RequestError(f'{key}: {e}') from None
  return row


def read_rows(stream: TextIO, input_format: str) -> Iterator[dict]:
  """Rows as feature -> CSV field text.

  Args:
    stream: the input.
    input_format: 'csv' (a header first; the label column may be there) or
      'jsonl' (one JSON object per line: an instance, or TF Serving's
      {"instances": [...]}).

  Yields:
    One dict per row, in input order.

  Raises:
    RequestError: a line is not JSON or not an object, or a value is not
      one number or text.
  """
  if input_format == 'csv':
    yield from csv.DictReader(stream)
    return
  for line_number, line in enumerate(stream, start=1):
    if not line.strip():
      continue
    try:
      value = json.loads(line)
    except json.JSONDecodeError as e:
      raise RequestError(f'line {line_number}: not JSON ({e.msg})') from None
    instances = value.get('instances') if isinstance(value, dict) else None
    for instance in (instances if isinstance(instances, list) else [value]):
      if not isinstance(instance, dict):
        raise RequestError(f'line {line_number}: expected an object of '
                         'feature: value')
      with about(f'line {line_number}'):
        row = row_fields(instance)
      yield row


class Predictor:
  """A pushed SavedModel's `serving_raw` signature."""

  def __init__(self, model_dir: str):
    # Held: the signature's variables live as long as the loaded object.
    self._model = tf.saved_model.load(model_dir)
    signature = self._model.signatures[SERVING_RAW]
    self.features = sorted(signature.structured_input_signature[1])

    # The columns in as one string matrix, a row a feature: a call converts
    # one tensor and binds one argument. A tensor and an argument a feature
    # were a good part of a small batch's call (docs/performance.md,
    # "Online serving").
    @tf.function(input_signature=[
        tf.TensorSpec([len(self.features), None], tf.string)])
    def call(fields):
      return signature(**dict(zip(self.features, tf.unstack(fields))))[
          PREDICTION_KEY]

    self._call = call.get_concrete_function()
    self._taken = frozenset(self.features) | {features.TIPS_KEY}
    # A row's values, feature by feature, as a tuple (even of one feature).
    self._values = (operator.itemgetter(*self.features)
                    if len(self.features) > 1 else
                    lambda row, key=self.features[0]: (row[key],))

  def _unknown(self, columns: Iterable[str]) -> List[str]:
    """The columns the model does not take (the label aside)."""
    return sorted(set(columns) - self._taken)

  def text_columns(self, instances: list) -> Optional[Columns]:
    """The columns of rows that each give every feature as text, else None.

    The rows most requests carry, read with a few passes of Python's
    builtins over the whole list: a Python loop a row costs more than
    decoding the JSON did. Rows may also give the label, as text; None for
    anything else (no rows, a row that is not an object, lacks a feature,
    has an unknown one or a value that is not text), which the caller reads
    row by row to name the fault.
    """
    if (set(map(type, instances)) != {dict} or
        not self._taken.issuperset(set().union(*instances)) or
        set(map(type, itertools.chain.from_iterable(
            map(dict.values, instances)))) != {str}):
      return None
    try:
      return dict(zip(self.features, zip(*map(self._values, instances))))
    except KeyError:
      return None

  def columns(self, rows: List[dict]) -> Columns:
    """Rows as the signature's columns; a field missing or None is ""."""
    return {k: [row.get(k) or '' for row in rows] for k in self.features}

  def check_columns(self, columns: Iterable[str]) -> None:
    """Raises RequestError if `columns` has one the model does not take."""
    unknown = self._unknown(columns)
    if unknown:
      raise RequestError(f'unknown column(s): {", ".join(unknown)} '
                       f'(the model takes: {", ".join(self.features)})')

  def call(self, rows: List[dict]) -> List[float]:
    """One signature call: a probability per row, in order.

    Raises:
      tf.errors.InvalidArgumentError: the model refuses a row.
    """
    return self.call_columns(self.columns(rows))

  def call_columns(self, columns: Columns) -> List[float]:
    """One signature call on columns (every feature): a probability a row.

    Raises:
      tf.errors.InvalidArgumentError: the model refuses a row.
    """
    fields = tf.constant([columns[k] for k in self.features])
    return self._call(fields).numpy().ravel().tolist()

  def _one(self, number: int, row: dict) -> Answer:
    unknown = self._unknown(row)
    if unknown:
      return RowError(number, f'unknown feature(s): {", ".join(unknown)}')
    try:
      return self.call([row])[0]
    except tf.errors.InvalidArgumentError as e:
      found = _REFUSAL.search(e.message)
      reason = found.group(1) if found else e.message.splitlines()[0]
      feature = reason.split(':', 1)[0]
      return RowError(number, f'{reason}, got {row.get(feature, "")!r}'
                      if feature in row else reason)

  def predict(self, rows: Iterable[dict]) -> Iterator[Tuple[int, Answer]]:
    """(row number, probability or RowError) per row, in input order."""
    batch: List[Tuple[int, dict]] = []
    for number, row in enumerate(rows, start=1):
      batch.append((number, row))
      if len(batch) == BATCH_ROWS:
        yield from self._batch(batch)
        batch = []
    if batch:
      yield from self._batch(batch)

  def _batch(self, batch: List[Tuple[int, dict]]):
    if not any(self._unknown(row) for _, row in batch):
      try:
        yield from zip((n for n, _ in batch),
                       self.call([row for _, row in batch]))
        return
      except tf.errors.InvalidArgumentError:
        pass  # a row is refused: find which, one by one
    for number, row in batch:
      yield number, self._one(number, row)


def write_answers(answers: Iterable[Tuple[int, Answer]], out: TextIO,
                  output_format: str) -> None:
  """Writes one line per row, in input order, as CSV or JSON lines.

  CSV with a big_tip_probability column and an error column (set for a
  refused row), or JSON lines with either key.
  """
  writer = csv.writer(out, lineterminator='\n')
  if output_format == 'csv':
    writer.writerow([PREDICTION_KEY, 'error'])
  for _, answer in answers:
    refused = isinstance(answer, RowError)
    if output_format == 'csv':
      writer.writerow(['', str(answer)] if refused else [f'{answer:.6g}', ''])
    else:
      out.write(json.dumps({'error': str(answer)} if refused else
                           {PREDICTION_KEY: answer}) + '\n')


def guess_format(name: Optional[str], head: str) -> str:
  """'csv' or 'jsonl' from a file name, else from the first character."""
  if name and name.endswith('.csv'):
    return 'csv'
  if name and name.endswith(('.jsonl', '.json')):
    return 'jsonl'
  return 'jsonl' if head.lstrip().startswith('{') else 'csv'

