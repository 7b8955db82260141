"""StatisticsGen's executor without Beam: TFDV's combiners in process.

It runs TFDV's combiners over record batches in this process.

TFDV computes statistics with combiners over Arrow record batches; Beam only
distributes them. On one machine Beam's pipeline costs more than the
statistics, even with a worker process per core at the largest scale
measured (docs/performance.md, "StatisticsGen without Beam"), so this runs
the same combiners (TFDV's in-memory set) over the batches one after
another and writes what TFX's StatisticsGen writes: one
DatasetFeatureStatisticsList per split, in `Split-<name>/FeatureStats.pb`.
"""

import os
from typing import Any, Dict, List

import tensorflow_data_validation as tfdv
from tensorflow_data_validation.statistics import stats_impl
from tfx import types
from tfx.components.statistics_gen import executor as tfx_executor
from tfx.components.util import tfxio_utils
from tfx.dsl.components.base import base_beam_executor
from tfx.types import artifact_utils
from tfx.types import standard_component_specs
from tfx.utils import io_utils
from tfx_bsl.tfxio import tfxio

from pipeline.in_process import record_batches


def split_statistics(examples: tfxio.TFXIO):
  """Statistics of one split's examples, read once in order.

  Args:
    examples: the split's TFXIO.

  Returns:
    A DatasetFeatureStatisticsList, as TFDV's GenerateStatistics gives it
    with default options.
  """
  generators = stats_impl.get_generators(tfdv.StatsOptions(), in_memory=True)
  accumulators = [generator.create_accumulator() for generator in generators]
  for record_batch in record_batches.read_once(examples):
    accumulators = [
        generator.add_input(accumulator, record_batch)
        for generator, accumulator in zip(generators, accumulators)]
  return stats_impl.extract_statistics_output(accumulators, generators)


class Executor(base_beam_executor.BaseBeamExecutor):
  """Writes each split's statistics, as TFX's StatisticsGen does.

  A Beam executor by class only: StatisticsGen, a Beam component, takes no
  other kind. It builds no pipeline.
  """

  def Do(self, input_dict: Dict[str, List[types.Artifact]],
         output_dict: Dict[str, List[types.Artifact]],
         exec_properties: Dict[str, Any]) -> None:
    """Computes the statistics of every split of the examples.

    Args:
      input_dict: 'examples', one Examples artifact.
      output_dict: 'statistics', one ExampleStatistics artifact.
      exec_properties: StatisticsGen's; this executor takes no options.

    Raises:
      ValueError: the examples have no splits.
    """
    examples = artifact_utils.get_single_instance(
        input_dict[standard_component_specs.EXAMPLES_KEY])
    splits = artifact_utils.decode_split_names(examples.split_names)
    if not splits:
      raise ValueError(f'No splits for examples artifact: {examples.uri}')
    statistics = artifact_utils.get_single_instance(
        output_dict[standard_component_specs.STATISTICS_KEY])
    statistics.split_names = artifact_utils.encode_split_names(splits)
    statistics.span = examples.span
    for split in splits:
      stats = split_statistics(tfxio_utils.get_split_tfxio(
          [examples], split, telemetry_descriptors=['StatisticsGen']))
      io_utils.write_bytes_file(
          os.path.join(artifact_utils.get_split_uri([statistics], split),
                       tfx_executor.DEFAULT_FILE_NAME),
          stats.SerializeToString())
