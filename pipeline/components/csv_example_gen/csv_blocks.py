"""CSV files -> blocks of typed Arrow columns, or a DataError naming the place.

With a schema, each column has the type the schema declares: `12` in a FLOAT
column is 12.0, `480.0` in an INT column is 480, and `480.5` or `abc` there
is an error naming the column, the file and the line. Without one, types are
inferred as CsvExampleGen infers them. Line numbers count rows from the
header's line 1: the file's lines unless quoted values span lines.
"""

import csv
import io
from typing import Dict, Iterable, List, Optional, Tuple

import apache_beam as beam
import pyarrow as pa
from pyarrow import csv as pa_csv
import pyarrow.compute as pc
from tensorflow_metadata.proto.v0 import schema_pb2
from tfx.utils import io_utils

from pipeline import configs
from pipeline.components.csv_example_gen.example_encoding import ColumnType
from pipeline.components.data_errors import DataError

_SCHEMA_TYPES = {
    schema_pb2.INT: ColumnType.INT,
    schema_pb2.FLOAT: ColumnType.FLOAT,
    schema_pb2.BYTES: ColumnType.BYTES,
}
_TYPE_NAMES = {ColumnType.INT: 'an integer', ColumnType.FLOAT: 'a number'}
_ARROW_TYPES = {ColumnType.INT: pa.int64(), ColumnType.FLOAT: pa.float64()}


def declared_types(schema: schema_pb2.Schema) -> Dict[str, ColumnType]:
  """Column name -> the type the schema declares for it."""
  return {f.name: _SCHEMA_TYPES[f.type] for f in schema.feature
          if f.type in _SCHEMA_TYPES}


def _casts_to(values: pa.Array, arrow_type: pa.DataType) -> bool:
  try:
    values.cast(arrow_type)
    return True
  except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
    return False


def inferred_type(column: pa.Array) -> ColumnType:
  """CsvExampleGen's guess at a column's type.

  INT if every value is an integer, FLOAT if every value is a number, else
  BYTES; EMPTY with no value at all.
  """
  values = column.drop_null()
  if len(values) == 0:
    return ColumnType.EMPTY
  if _casts_to(values, pa.int64()):
    return ColumnType.INT
  if _casts_to(values, pa.float64()):
    return ColumnType.FLOAT
  return ColumnType.BYTES


class _Place:
  """Where a block's rows are: file and the line of the block's first row."""

  def __init__(self, path: str, first_line: int):
    self.path, self.first_line = path, first_line

  def error(self, row: int, column: str, problem: str) -> DataError:
    return DataError(f'{self.path} line {self.first_line + row}, '
                     f'column {column}: {problem}')


def _first_failing(values: pa.Array, arrow_type: pa.DataType) -> int:
  return next(i for i in range(len(values))
              if not _casts_to(values.slice(i, 1), arrow_type))


def _to_text(column: pa.Array, name: str, place: _Place) -> pa.Array:
  try:
    return column.cast(pa.string())
  except pa.ArrowInvalid:
    row = _first_failing(column, pa.string())
    raise place.error(row, name, 'not UTF-8 text') from None


def _typed(column: pa.Array, name: str, column_type: ColumnType,
           place: _Place) -> pa.Array:
  """A string column as `column_type`; a value of another type is an error."""
  if column_type not in _ARROW_TYPES:
    return column
  if column_type == ColumnType.INT:
    try:
      return column.cast(pa.int64())  # exact, beyond float64's 2**53
    except pa.ArrowInvalid:
      pass  # `480.0` is an integer too: read as a number below
  try:
    numbers = column.cast(pa.float64())
  except pa.ArrowInvalid:
    row = _first_failing(column, pa.float64())
    raise place.error(row, name, f'{column[row].as_py()!r} is not '
                      f'{_TYPE_NAMES[column_type]}') from None
  if column_type == ColumnType.FLOAT:
    return numbers
  fractional = pc.fill_null(pc.not_equal(pc.floor(numbers), numbers), False)
  if pc.any(fractional).as_py():
    row = pc.index(fractional, True).as_py()
    raise place.error(row, name, f'{column[row].as_py()!r} is not an integer')
  return numbers.cast(pa.int64())


def _line_of_ragged_row(path: str, columns: int) -> Tuple[int, int]:
  """(line, number of fields) of the first row without `columns` fields."""
  with beam.io.filesystems.FileSystems.open(path) as f:
    text = io.TextIOWrapper(f, encoding='utf-8', errors='replace', newline='')
    for line, row in enumerate(csv.reader(text), start=1):
      if row and len(row) != columns:
        return line, len(row)
  return 0, columns


# What a spreadsheet saving "CSV UTF-8" puts before the header.
_BYTE_ORDER_MARK = '\ufeff'


def header(path: str) -> List[str]:
  """A CSV file's header, without a UTF-8 byte-order mark before it.

  The mark is no part of the first column's name.
  """
  names = io_utils.load_csv_column_names(path)
  if names and names[0].startswith(_BYTE_ORDER_MARK):
    names[0] = names[0][len(_BYTE_ORDER_MARK):]
  return names


def _binary_blocks(f, column_names: List[str]) -> Iterable[pa.RecordBatch]:
  yield from pa_csv.open_csv(
      f,
      read_options=pa_csv.ReadOptions(
          block_size=configs.CSV_BLOCK_BYTES, column_names=column_names,
          skip_rows=1),
      parse_options=pa_csv.ParseOptions(newlines_in_values=True),
      convert_options=pa_csv.ConvertOptions(
          column_types={name: pa.binary() for name in column_names},
          strings_can_be_null=True,
          quoted_strings_can_be_null=True))


def read_blocks(file: Tuple[str, str], column_names: List[str],
                types: Optional[Dict[str, ColumnType]]
                ) -> Iterable[Tuple[str, pa.RecordBatch]]:
  """A file's rows as blocks of columns, an empty cell as null.

  Args:
    file: (an id unique among the input files, path).
    column_names: the header, the same in every file.
    types: column name -> declared type; None leaves every column text.

  Yields:
    (block id unique over the input files, block).

  Raises:
    DataError: a row has the wrong number of fields, a cell is not UTF-8 or
      not of its column's declared type.
  """
  file_id, path = file
  with beam.io.filesystems.FileSystems.open(path) as f:
    try:
      first_line = 2  # after the header
      for block_index, block in enumerate(_binary_blocks(f, column_names)):
        place = _Place(path, first_line)
        columns = []
        for name, column in zip(column_names, block.columns):
          text = _to_text(column, name, place)
          columns.append(_typed(text, name, types[name], place)
                         if types and name in types else text)
        yield (f'{file_id}-{block_index:05d}',
               pa.RecordBatch.from_arrays(columns, names=column_names))
        first_line += block.num_rows
    except pa.ArrowInvalid as e:
      if 'Expected' not in str(e):
        raise
      line, fields = _line_of_ragged_row(path, len(column_names))
      raise DataError(f'{path} line {line}: {fields} fields, the header has '
                      f'{len(column_names)}') from None
