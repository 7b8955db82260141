"""BigQueryExampleGen reading a window of a table's monthly spans."""

from typing import Optional

from tfx.dsl.components.base import base_component
from tfx.dsl.components.base import executor_spec
from tfx.extensions.google_cloud_big_query.example_gen.component import BigQueryExampleGen
from tfx.proto import example_gen_pb2
from tfx.proto import range_config_pb2
from tfx.types import channel
from tfx.types import component_spec
from tfx.types import standard_artifacts
from tfx.types import standard_component_specs

from pipeline import query_spans
from pipeline.components.bigquery_example_gen import executor
from pipeline.components.csv_example_gen import executor as csv_executor


class SpannedBigQueryExampleGenSpec(
    standard_component_specs.QueryBasedExampleGenSpec):
  PARAMETERS = {
      **standard_component_specs.QueryBasedExampleGenSpec.PARAMETERS,
      executor.PROBE_QUERY_KEY: component_spec.ExecutionParameter(type=str),
      csv_executor.WINDOW_SPANS_KEY: component_spec.ExecutionParameter(
          type=int),
  }


class SpannedBigQueryExampleGen(BigQueryExampleGen):
  """TFX's BigQueryExampleGen over the newest spans of a table.

  A span is a period of the trips' start (pipeline/query_spans.py); the
  window is resolved when the step runs, from the complete periods, as
  ArrowCsvExampleGen resolves it from span folders.
  """
  SPEC_CLASS = SpannedBigQueryExampleGenSpec
  EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(executor.Executor)

  def __init__(self, table: str, output_config: example_gen_pb2.Output,
               window_spans: int = 1, newest_span: Optional[int] = None):
    """Constructs the component.

    Args:
      table: `project.dataset.table`, with the Chicago taxi trips columns.
      output_config: the splits, as BigQueryExampleGen's. The newest span is
        split so; the older ones give only their first split's rows.
      window_spans: how many spans to read, the newest ones.
      newest_span: the newest span to read (a backfill), compiled in as
        TFX's RangeConfig.StaticRange; None: the newest complete one when
        the step runs.
    """
    range_config = None if newest_span is None else (
        range_config_pb2.RangeConfig(static_range=range_config_pb2.StaticRange(
            start_span_number=newest_span, end_span_number=newest_span)))
    base_component.BaseComponent.__init__(  # pylint: disable=non-parent-init-called
        self,
        spec=SpannedBigQueryExampleGenSpec(
            input_config=example_gen_pb2.Input(splits=[
                example_gen_pb2.Input.Split(
                    name='single_split', pattern=query_spans.span_query(table))
            ]),
            output_config=output_config,
            range_config=range_config,
            output_data_format=example_gen_pb2.FORMAT_TF_EXAMPLE,
            output_file_format=example_gen_pb2.FORMAT_TFRECORDS_GZIP,
            probe_query=query_spans.probe_query(table),
            window_spans=window_spans,
            examples=channel.Channel(type=standard_artifacts.Examples)))
