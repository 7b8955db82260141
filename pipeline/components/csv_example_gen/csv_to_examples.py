"""CSV files to blocks of serialized tf.Examples, each column typed.

Each file is read in blocks by pyarrow's CSV reader (csv_blocks.py); a
column the schema declares has its type, any other the type CsvExampleGen
would infer over every file; whole blocks are encoded at a time
(example_encoding.py).
"""

from typing import Dict, Iterable, List, Tuple

import apache_beam as beam
from tfx.dsl.io import fileio

from pipeline.components.csv_example_gen import csv_blocks
from pipeline.components.csv_example_gen import example_encoding
from pipeline.components.csv_example_gen.example_encoding import ColumnType
from pipeline.components.data_errors import DataError

# The output of each block's count of non-empty cells.
_VALUES = 'values'


class _InferColumnTypes(beam.CombineFn):
  """name -> ColumnType over every block's types."""

  def create_accumulator(self) -> Dict[str, ColumnType]:
    return {}

  def add_input(self, types, block_types: Dict[str, ColumnType]):
    return self.merge_accumulators([types, block_types])

  def merge_accumulators(self, accumulators):
    merged = {}
    for types in accumulators:
      for name, column_type in types.items():
        merged[name] = max(merged.get(name, ColumnType.EMPTY), column_type)
    return merged

  def extract_output(self, types):
    return types


def _block_types(file: Tuple[str, str], column_names: List[str],
                 undeclared: List[str]) -> Iterable[Dict[str, ColumnType]]:
  """The inferred type of each undeclared column, block by block."""
  for _, rows in csv_blocks.read_blocks(file, column_names, None):
    yield {name: csv_blocks.inferred_type(rows.column(name))
           for name in undeclared}


def _encoded_blocks(file: Tuple[str, str], column_names: List[str],
                    declared: Dict[str, ColumnType],
                    inferred: Dict[str, ColumnType]):
  """A file's blocks as (block id, serialized tf.Examples), one at a time.

  Beside them, as the 'values' output, each block's count of non-empty
  cells.
  """
  types = {**inferred, **declared}
  for block_id, rows in csv_blocks.read_blocks(file, column_names, declared):
    yield beam.pvalue.TaggedOutput(
        _VALUES, sum(len(column) - column.null_count for column in rows.columns))
    yield block_id, example_encoding.encode(rows, types)


def _refuse_if_empty(values: int) -> None:
  if not values:
    raise DataError('The CSV files have no value in any cell.')


@beam.typehints.with_input_types(beam.Pipeline)
class CsvToExampleBlocks(beam.PTransform):
  """CSV files -> (block id, serialized tf.Examples).

  Columns the schema declares have its types; the others are inferred over
  every file.
  """

  def __init__(self, patterns: Dict[str, str],
               declared: Dict[str, ColumnType]):
    """Reads the files matching each pattern.

    Args:
      patterns: block id prefix -> glob; each block's id starts with the
        prefix of the pattern its file matched.
      declared: column name -> the schema's type.
    """
    super().__init__()
    self._patterns = patterns
    self._declared = declared

  def expand(self, pipeline):
    files = []
    for prefix, pattern in self._patterns.items():
      matched = fileio.glob(pattern)
      if not matched:
        raise RuntimeError(f'Split pattern {pattern} matches no files.')
      files += [(f'{prefix}{index:05d}', path)
                for index, path in enumerate(matched)]
    column_names = csv_blocks.header(files[0][1])
    for _, path in files[1:]:
      if csv_blocks.header(path) != column_names:
        raise RuntimeError(
            f'{path} has a different header than {files[0][1]}.')

    # Files, not their blocks, are shared out: each worker reads, encodes and
    # writes a file's blocks one at a time, so no stage holds the rows.
    files = (pipeline
             | 'Files' >> beam.Create(files)
             | 'Distribute' >> beam.Reshuffle())
    undeclared = [name for name in column_names if name not in self._declared]
    if undeclared:  # a first pass over the files, for their types
      inferred = (files
                  | 'BlockTypes' >> beam.FlatMap(_block_types, column_names,
                                                 undeclared)
                  | 'InferTypes' >> beam.CombineGlobally(_InferColumnTypes()))
    else:
      inferred = pipeline | 'NoneToInfer' >> beam.Create([{}])
    blocks, values = (
        files
        | 'Encode' >> beam.FlatMap(
            _encoded_blocks, column_names, self._declared,
            beam.pvalue.AsSingleton(inferred)).with_outputs(
                _VALUES, main='blocks'))
    _ = (values
         | 'CountValues' >> beam.CombineGlobally(sum)
         | 'RefuseIfEmpty' >> beam.Map(_refuse_if_empty))
    return blocks
