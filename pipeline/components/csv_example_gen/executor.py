"""A CsvExampleGen executor that works on blocks of rows instead of rows.

TFX's CsvExampleGen builds every tf.Example in Python, cell by cell, and then
hashes, reshuffles and writes them one Beam element at a time: about 2,500
rows/s on these machines, the slowest step of a run at 10x the bundled
sample. This executor reads each file in blocks with pyarrow's CSV reader
(csv_blocks.py), encodes whole blocks at a time (example_encoding.py), and
splits and writes each block as one element.

Given a schema file, each column has the type the schema declares, and a
value of another type fails the step with the file, line and column
(CsvExampleGen guesses types from the values, so `480.0` in an integer
column turns it into floats, which Transform then rejects). Without one, the
examples and the train/eval split are what CsvExampleGen writes, byte for
byte: the same column types, inferred over all files of a split (int64 if
every value is an integer, float if every value is a number, else bytes), an
empty value list for an empty cell, a feature without a type for a column
with no value at all, and each example in the split its hash puts it in.

The output is gzipped TFRecord files, one per block and split (TFX writes one
per Beam worker): a component reading the examples with several Beam workers
gets several files to share out.
"""

import hashlib
import os
from typing import Any, Dict, Iterable, List, Tuple

from absl import logging
import apache_beam as beam
import numpy as np
import pyarrow as pa
import tensorflow as tf
from tfx.components.example_gen import utils
from tfx.components.util import examples_utils
from tfx.dsl.components.base import base_beam_executor
from tfx.dsl.io import fileio
from tfx.proto import example_gen_pb2
from tfx.types import artifact_utils
from tfx.types import standard_component_specs
from tfx.utils import io_utils
from tfx.utils import proto_utils

from pipeline import spans as spans_lib
from pipeline.components.csv_example_gen import csv_blocks
from pipeline.components.csv_example_gen import csv_to_examples

# The curated schema's path: its types are the columns' types.
SCHEMA_FILE_KEY = 'schema_file'
# How many spans a run reads, and the newest (pipeline/spans.py; unset: the
# newest there is).
WINDOW_SPANS_KEY = 'window_spans'
NEWEST_SPAN_KEY = 'newest_span'
# The Examples' custom property listing the spans read, oldest first.
SPANS_PROPERTY = 'spans'
_FILE_PREFIX = 'data_tfrecord'
_TEMP_DIR = '.incomplete'

# A block of one split: (split name, block id, serialized tf.Examples).
Chunk = Tuple[str, str, pa.Array]


def _split_by_hash(block: Tuple[str, pa.Array], split_names: List[str],
                   buckets: List[int]) -> Iterable[Chunk]:
  """Each example to the split its hash falls in, as CsvExampleGen does.

  The hash is the SHA-256 of the serialized example modulo the total of hash
  buckets, which the splits share out in order.
  """
  block_id, examples = block
  hashes = np.array([
      int(hashlib.sha256(example).hexdigest(), 16) % buckets[-1]
      for example in examples.to_pylist()
  ])
  split_of = np.searchsorted(buckets, hashes, side='right')
  for index, name in enumerate(split_names):
    yield name, block_id, examples.filter(pa.array(split_of == index))


# gzip's fastest level: much faster to write than its default, for slightly
# larger files that read as fast (docs/performance.md, "gzip's fastest
# level").
_GZIP = tf.io.TFRecordOptions(compression_type='GZIP', compression_level=1)


def _write(chunk: Chunk, split_dirs: Dict[str, str], temp_dir: str) -> None:
  """One gzipped TFRecord file, complete or not there at all.

  It is written under a temporary name and renamed, so a retried bundle
  replaces it whole.
  """
  split_name, block_id, examples = chunk
  name = f'{_FILE_PREFIX}-{split_name}-{block_id}.gz'
  temp = os.path.join(temp_dir, name)
  # CsvExampleGen reshuffles the rows before writing them. A fixed permutation
  # of each block does that job too (sorted input does not reach the Trainer
  # sorted) and keeps runs reproducible.
  order = np.random.default_rng(0).permutation(len(examples))
  with tf.io.TFRecordWriter(temp, _GZIP) as writer:
    for example in examples.take(pa.array(order)).to_pylist():
      writer.write(example)
  fileio.rename(temp, os.path.join(split_dirs[split_name], name),
                overwrite=True)


def split_configs(exec_properties: Dict[str, Any]
                  ) -> Tuple[example_gen_pb2.Input, example_gen_pb2.Output]:
  """ExampleGen's input and output configs, from its JSON parameters."""
  return (proto_utils.json_to_proto(
      exec_properties[standard_component_specs.INPUT_CONFIG_KEY],
      example_gen_pb2.Input()), proto_utils.json_to_proto(
          exec_properties[standard_component_specs.OUTPUT_CONFIG_KEY],
          example_gen_pb2.Output()))


def _check_supported(output_config: example_gen_pb2.Output,
                     exec_properties: Dict[str, Any]) -> None:
  """Refuses the CsvExampleGen options this executor does not implement."""
  if output_config.split_config.partition_feature_name:
    raise ValueError(
        'ArrowCsvExampleGen splits by the hash of whole examples; '
        'output_config.split_config.partition_feature_name is not supported.')
  file_format = exec_properties.get(
      standard_component_specs.OUTPUT_FILE_FORMAT_KEY)
  if file_format not in (None, example_gen_pb2.FILE_FORMAT_UNSPECIFIED,
                         example_gen_pb2.FORMAT_TFRECORDS_GZIP):
    raise ValueError(f'ArrowCsvExampleGen writes gzipped TFRecords; '
                     f'output_file_format={file_format} is not supported.')
  payload_format = exec_properties.get(
      standard_component_specs.OUTPUT_DATA_FORMAT_KEY)
  if payload_format not in (None, example_gen_pb2.FORMAT_TF_EXAMPLE):
    raise ValueError(f'ArrowCsvExampleGen writes tf.Examples; '
                     f'output_data_format={payload_format} is not supported.')


def _chunks_split_by_hash(pipeline, input_base: str, pattern: str,
                          window: List[int], declared: dict,
                          output_config: example_gen_pb2.Output,
                          split_names: List[str]):
  """The window's rows as (split, block id, rows), split by their hash.

  Each row goes to the split its hash gives it, so it stays there from run
  to run; the older spans give rows to the first split (train) only, the
  newest span is evaluated on.
  """
  buckets = np.cumsum([
      split.hash_buckets for split in output_config.split_config.splits
  ]).tolist()
  if window != [spans_lib.NO_SPANS]:
    pattern = os.path.basename(pattern)  # in each span folder
  prefix = {span: '' if span == spans_lib.NO_SPANS else f'{span}-'
            for span in window}
  newest = prefix[window[-1]]
  return (
      pipeline
      | 'Read' >> csv_to_examples.CsvToExampleBlocks(
          {prefix[span]: os.path.join(spans_lib.folder(input_base, span),
                                      pattern)
           for span in window}, declared)
      | 'SplitByHash' >> beam.FlatMap(_split_by_hash, split_names, buckets)
      | 'OlderSpansTrainOnly' >> beam.Filter(
          lambda chunk: (chunk[0] == split_names[0] or
                         chunk[1].startswith(newest))))


def _write_empty_splits(split_dirs: Dict[str, str]) -> None:
  """An empty file in each split no row hashed to, as CsvExampleGen writes."""
  for name, folder in split_dirs.items():
    if not fileio.glob(os.path.join(folder, '*')):
      with tf.io.TFRecordWriter(
          os.path.join(folder, f'{_FILE_PREFIX}-{name}.gz'), 'GZIP'):
        pass


class Executor(base_beam_executor.BaseBeamExecutor):
  """Writes the CSV rows under input_base as tf.Examples.

  It splits them as CsvExampleGen splits them.
  """

  def Do(self, input_dict: Dict[str, List[Any]],
         output_dict: Dict[str, List[Any]],
         exec_properties: Dict[str, Any]) -> None:
    self._log_startup(input_dict, output_dict, exec_properties)
    input_config, output_config = split_configs(exec_properties)
    _check_supported(output_config, exec_properties)
    outputs = output_dict[standard_component_specs.EXAMPLES_KEY]
    examples = artifact_utils.get_single_instance(outputs)
    split_names = utils.generate_output_split_names(input_config,
                                                    output_config)
    examples.split_names = artifact_utils.encode_split_names(split_names)
    split_dirs = {name: artifact_utils.get_split_uri(outputs, name)
                  for name in split_names}
    temp_dir = os.path.join(examples.uri, _TEMP_DIR)
    for folder in [temp_dir, *split_dirs.values()]:
      fileio.makedirs(folder)
    input_base = exec_properties[standard_component_specs.INPUT_BASE_KEY]
    schema_file = exec_properties.get(SCHEMA_FILE_KEY)
    declared = (csv_blocks.declared_types(
        io_utils.SchemaReader().read(schema_file)) if schema_file else {})

    window = spans_lib.window(input_base,
                              exec_properties.get(WINDOW_SPANS_KEY) or 1,
                              exec_properties.get(NEWEST_SPAN_KEY))
    logging.info('Reading %s.', spans_lib.describe(window))

    with self._make_beam_pipeline() as pipeline:
      if output_config.split_config.splits:  # one input, split by hash
        chunks = _chunks_split_by_hash(pipeline, input_base,
                                       input_config.splits[0].pattern, window,
                                       declared, output_config, split_names)
      else:  # each input split is an output split
        chunks = [
            pipeline
            | f'Read[{split.name}]' >> csv_to_examples.CsvToExampleBlocks(
                {'': os.path.join(input_base, split.pattern)}, declared)
            | f'Name[{split.name}]' >> beam.MapTuple(
                lambda block_id, rows, name=split.name: (name, block_id, rows))
            for split in input_config.splits
        ] | 'Splits' >> beam.Flatten()
      _ = chunks | 'Write' >> beam.Map(_write, split_dirs, temp_dir)

    fileio.rmtree(temp_dir)
    _write_empty_splits(split_dirs)
    for artifact in outputs:
      examples_utils.set_payload_format(artifact,
                                        example_gen_pb2.FORMAT_TF_EXAMPLE)
      examples_utils.set_file_format(artifact, 'tfrecords_gzip')
      artifact.span = window[-1]
      artifact.set_string_custom_property(SPANS_PROPERTY,
                                          spans_lib.format_list(window))
    logging.info('Examples generated.')
