"""CSV files to blocks of serialized tf.Examples, each column typed.

Each file is read in blocks by pyarrow's CSV reader (csv_blocks.py); a
column the schema declares has its type, any other the type CsvExampleGen
would infer over every file; whole blocks are encoded at a time
(example_encoding.py).
"""

from typing import Dict, Tuple

import apache_beam as beam
import pyarrow as pa
from tfx.dsl.io import fileio

from pipeline.components.csv_example_gen import csv_blocks
from pipeline.components.csv_example_gen import example_encoding
from pipeline.components.csv_example_gen.example_encoding import ColumnType
from pipeline.components.data_errors import DataError


class _InferColumnTypes(beam.CombineFn):
  """name -> ColumnType over every block of a split."""

  def create_accumulator(self) -> Dict[str, ColumnType]:
    return {}

  def add_input(self, types, block: pa.RecordBatch):
    return self.merge_accumulators([types, {
        name: csv_blocks.inferred_type(column)
        for name, column in zip(block.schema.names, block.columns)
    }])

  def merge_accumulators(self, accumulators):
    merged = {}
    for types in accumulators:
      for name, column_type in types.items():
        merged[name] = max(merged.get(name, ColumnType.EMPTY), column_type)
    return merged

  def extract_output(self, types):
    return types


def _encode(block: Tuple[str, pa.RecordBatch], inferred: Dict[str, ColumnType],
            declared: Dict[str, ColumnType]) -> Tuple[str, pa.Array]:
  block_id, rows = block
  if all(inferred[name] == ColumnType.EMPTY for name in rows.schema.names):
    raise DataError('The CSV files have no value in any cell.')
  return block_id, example_encoding.encode(rows, {**inferred, **declared})


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

    blocks = (
        pipeline
        | 'Files' >> beam.Create(files)
        | 'ReadBlocks' >> beam.FlatMap(csv_blocks.read_blocks, column_names,
                                       self._declared)
        # A few large elements: each worker encodes and writes some blocks.
        | 'Distribute' >> beam.Reshuffle())
    inferred = (blocks
                | 'Rows' >> beam.Values()
                | 'InferTypes' >> beam.CombineGlobally(_InferColumnTypes()))
    return blocks | 'Encode' >> beam.Map(
        _encode, beam.pvalue.AsSingleton(inferred), self._declared)
