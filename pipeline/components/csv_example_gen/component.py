"""CsvExampleGen with the block executor, reading columns as the schema types
them."""

from typing import Optional

from tfx.components import CsvExampleGen
from tfx.dsl.components.base import base_component
from tfx.dsl.components.base import executor_spec
from tfx.proto import example_gen_pb2
from tfx.types import channel
from tfx.types import component_spec
from tfx.types import standard_artifacts
from tfx.types import standard_component_specs

from pipeline.components.csv_example_gen import executor


class ArrowCsvExampleGenSpec(standard_component_specs.FileBasedExampleGenSpec):
  PARAMETERS = {
      **standard_component_specs.FileBasedExampleGenSpec.PARAMETERS,
      executor.SCHEMA_FILE_KEY:
          component_spec.ExecutionParameter(type=str, optional=True),
  }


class ArrowCsvExampleGen(CsvExampleGen):
  """TFX's CsvExampleGen, reading and encoding CSV in blocks with Arrow."""
  SPEC_CLASS = ArrowCsvExampleGenSpec
  EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(executor.Executor)

  def __init__(self, input_base: str, input_config: example_gen_pb2.Input,
               output_config: example_gen_pb2.Output,
               schema_file: Optional[str] = None):
    """Constructs the component.

    Args:
      input_base: the folder of CSV files.
      input_config: which files are read, as CsvExampleGen's.
      output_config: the splits, as CsvExampleGen's.
      schema_file: a schema (text proto) declaring the columns' types; None
        infers them from the values.
    """
    base_component.BaseComponent.__init__(  # pylint: disable=non-parent-init-called
        self,
        spec=ArrowCsvExampleGenSpec(
            input_base=input_base,
            input_config=input_config,
            output_config=output_config,
            output_data_format=example_gen_pb2.FORMAT_TF_EXAMPLE,
            output_file_format=example_gen_pb2.FORMAT_TFRECORDS_GZIP,
            schema_file=schema_file,
            examples=channel.Channel(type=standard_artifacts.Examples)))
