"""TFX's BigQueryExampleGen executor over a window of spans.

TFX's query-based ExampleGen reads one span per run, chosen by its driver,
which neither Kubeflow backend runs for it; its RangeConfig takes a single
span (StaticRange start == end) and it cannot find the newest
(QueryBasedInputProcessor.get_latest_span raises NotImplementedError). So
this executor finds the table's complete spans with the probe query,
chooses the window by pipeline/spans.py's rule, fills the query's
placeholders for each span with TFX's substitution, and reads each span
with TFX's BigQuery reader.
"""

from typing import Any, Dict, List

import apache_beam as beam
from tfx.components.example_gen import base_example_gen_executor
from tfx.components.example_gen import utils
from tfx.extensions.google_cloud_big_query import utils as bigquery_utils
from tfx.extensions.google_cloud_big_query.example_gen import executor as bigquery_executor
from tfx.proto import range_config_pb2
from tfx.types import standard_component_specs
from tfx.utils import proto_utils

from pipeline import query_spans
from pipeline import spans as spans_lib
from pipeline.components.csv_example_gen import executor as csv_executor

# The query counting the rows of each complete span (query_spans.PROBE).
PROBE_QUERY_KEY = 'probe_query'


def _newest_span(exec_properties: Dict[str, Any]):
  """The backfill's newest span (its StaticRange), or None."""
  text = exec_properties.get(standard_component_specs.RANGE_CONFIG_KEY)
  if not text:
    return None
  return proto_utils.json_to_proto(
      text, range_config_pb2.RangeConfig()).static_range.end_span_number


class Executor(bigquery_executor.Executor):
  """Reads the window's spans, the older ones into the first split only."""

  def _span_rows(self, exec_properties: Dict[str, Any]) -> Dict[int, int]:
    """The table's complete spans and their rows (the probe)."""
    return query_spans.probe(
        exec_properties[PROBE_QUERY_KEY],
        bigquery_utils.parse_gcp_project(self._beam_pipeline_args))

  def GenerateExamplesByBeam(
      self, pipeline: beam.Pipeline, exec_properties: Dict[str, Any]
  ) -> Dict[str, beam.pvalue.PCollection]:
    """Each output split's examples, from the window's spans.

    Args:
      pipeline: the Beam pipeline.
      exec_properties: the component's parameters.

    Returns:
      Split name -> its serialized examples.

    Raises:
      SpanError: the table has no complete span, or not the backfill's.
    """
    input_config, output_config = csv_executor.split_configs(exec_properties)
    split_config = output_config.split_config
    split_names = utils.generate_output_split_names(input_config,
                                                    output_config)
    exec_properties['_beam_pipeline_args'] = self._beam_pipeline_args or []
    found = self._span_rows(exec_properties)
    size = exec_properties.get(csv_executor.WINDOW_SPANS_KEY) or 1
    self.window: List[int] = spans_lib.choose(
        sorted(found), size, _newest_span(exec_properties), 'the table')
    buckets = []
    for split in split_config.splits:
      buckets.append((buckets[-1] if buckets else 0) + split.hash_buckets)
    read = self.GetInputSourceToExamplePTransform()
    parts = {name: [] for name in split_names}
    for span in self.window:
      query = query_spans.render(input_config.splits[0].pattern, span)
      # TFX's own split: each example by the hash of its bytes.
      splits = (pipeline
                | f'Read[{span}]' >> read(exec_properties, query)
                | f'Split[{span}]' >> beam.Partition(
                    base_example_gen_executor._PartitionFn,  # pylint: disable=protected-access
                    len(buckets), buckets, split_config))
      for index, name in enumerate(split_names):
        if index == 0 or span == self.window[-1]:
          parts[name].append(splits[index])
    return {name: tuple(parts[name]) | f'Flatten[{name}]' >> beam.Flatten()
            for name in split_names}

  def Do(self, input_dict, output_dict, exec_properties) -> None:
    """Writes the window's examples, recording the spans read."""
    super().Do(input_dict, output_dict, exec_properties)
    for artifact in output_dict[standard_component_specs.EXAMPLES_KEY]:
      artifact.span = self.window[-1]
      artifact.set_string_custom_property(
          csv_executor.SPANS_PROPERTY, spans_lib.format_list(self.window))
