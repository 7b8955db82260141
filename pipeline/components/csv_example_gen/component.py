"""CsvExampleGen with the block executor.

It reads columns as the schema types them.
"""

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
      executor.WINDOW_SPANS_KEY:
          component_spec.ExecutionParameter(type=int),
      executor.NEWEST_SPAN_KEY:
          component_spec.ExecutionParameter(type=int, optional=True),
  }


class ArrowCsvExampleGen(CsvExampleGen):
  """TFX's CsvExampleGen, reading and encoding CSV in blocks with Arrow.

  It reads a window of spans at a time (pipeline/spans.py).
  """
  SPEC_CLASS = ArrowCsvExampleGenSpec
  EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(executor.Executor)

  def __init__(self, input_base: str, input_config: example_gen_pb2.Input,
               output_config: example_gen_pb2.Output,
               schema_file: Optional[str] = None,
               window_spans: int = 1,
               newest_span: Optional[int] = None):
    """Constructs the component.

    Args:
      input_base: the folder of CSV files, or of span folders of them.
      input_config: which files are read, as CsvExampleGen's; in a span
        folder, those matching the pattern's last part.
      output_config: the splits, as CsvExampleGen's. With spans, the newest
        span is split so; the older ones give only their first split's rows.
      schema_file: a schema (text proto) declaring the columns' types; None
        infers them from the values.
      window_spans: how many spans to read, the newest ones.
      newest_span: the newest span to read (a backfill); None: the newest
        there is when the step runs.
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
            window_spans=window_spans,
            newest_span=newest_span,
            examples=channel.Channel(type=standard_artifacts.Examples)))
