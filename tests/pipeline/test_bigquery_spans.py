"""BigQuery spans, run on DuckDB: the same rows per span as the CSV path.

The span queries are rendered as TFX renders them, transpiled from
BigQuery SQL (tests/fakes/bigquery_duckdb.py) and run over the bundled
rows; the CSV path is the same rows cut into monthly span folders and read
by ArrowCsvExampleGen's reader, typed by the curated schema.
"""

import datetime

import apache_beam as beam
import pyarrow as pa
import pytest
import tensorflow as tf
from tfx.extensions.google_cloud_big_query import utils as bigquery_utils
from tfx.proto import example_gen_pb2
from tfx.types import standard_artifacts

import helpers
from fakes import bigquery_duckdb
from local import span_data
from pipeline import configs
from pipeline import query_spans
from pipeline import spans
from pipeline.components.bigquery_example_gen import component
from pipeline.components.bigquery_example_gen import executor
from pipeline.components.csv_example_gen import csv_blocks
from pipeline.components.csv_example_gen import executor as csv_executor

SPAN_QUERY = query_spans.span_query(bigquery_duckdb.TABLE)
PROBE = query_spans.probe_query(bigquery_duckdb.TABLE)


@pytest.fixture(scope='module')
def bigquery():
  return bigquery_duckdb.connect(helpers.BUNDLED_CSV)


def _probe(bigquery, query: str = PROBE) -> dict:
  """Span -> rows, as query_spans.probe reads them from BigQuery."""
  return query_spans.span_rows(bigquery_duckdb.query(bigquery, query))


def _month_span(row: dict) -> int:
  """TFX's span number of a row's month: the days to its first day."""
  started = datetime.datetime.fromtimestamp(
      int(row['trip_start_timestamp']), datetime.timezone.utc)
  first = datetime.date(started.year, started.month, 1)
  return (first - datetime.date(1970, 1, 1)).days


@pytest.fixture(scope='module')
def csv_root(tmp_path_factory, bundled_rows):
  """The bundled rows cut into span folders, one per calendar month."""
  root = tmp_path_factory.mktemp('monthly_spans')
  by_span = {}
  for row in bundled_rows:
    by_span.setdefault(_month_span(row), []).append(row)
  for span, rows in by_span.items():
    span_data.write_span(rows, root, span)
  return str(root)


def _csv_rows(csv_root: str, span: int) -> list:
  """A span's rows as ArrowCsvExampleGen reads them, typed by the schema."""
  path = f'{spans.folder(csv_root, span)}/data.csv'
  header = csv_blocks.header(path)
  types = csv_blocks.declared_types(helpers.curated_schema())
  return [row for _, block in csv_blocks.read_blocks(('0', path), header,
                                                     types)
          for row in pa.Table.from_batches([block]).to_pylist()]


def _sorted(rows: list) -> list:
  return sorted(rows, key=lambda row: repr(sorted(row.items())))


def test_the_table_has_the_csv_paths_spans(bigquery, csv_root):
  counts = _probe(bigquery)
  assert sorted(counts) == spans.find(csv_root)
  assert len(counts) > 40  # 2013 to 2016, month by month
  assert sum(counts.values()) == len(helpers.read_rows())


def test_each_span_query_returns_the_csv_spans_rows(bigquery, csv_root):
  for span in spans.find(csv_root):
    query = bigquery_duckdb.query(bigquery,
                                  query_spans.render(SPAN_QUERY, span))
    csv = _csv_rows(csv_root, span)
    assert list(query[0]) == list(csv[0])  # the same columns, in order
    assert _sorted(query) == _sorted(csv), span


def test_window_and_backfill_are_the_csv_paths(bigquery, csv_root):
  counts = _probe(bigquery)
  newest = sorted(counts)[-10]
  for backfill in (None, newest):
    assert spans.choose(sorted(counts), 4, backfill, 'the table') == (
        spans.window(csv_root, 4, backfill))
  with pytest.raises(spans.SpanError, match='no span 16437 under the table'):
    spans.choose(sorted(counts), 4, 16437, 'the table')


def _fingerprint(bigquery) -> str:
  return query_spans.fingerprint(_probe(bigquery))



def test_the_fingerprint_waits_for_a_month_to_end(bigquery):
  before = _fingerprint(bigquery)
  bigquery.begin()
  try:
    bigquery.execute(
        'INSERT INTO "bigquery-public-data"."chicago_taxi_trips"."taxi_trips"'
        ' (trip_start_timestamp) VALUES (now())')
    assert _fingerprint(bigquery) == before  # this month is no span yet
    bigquery.execute(
        'INSERT INTO "bigquery-public-data"."chicago_taxi_trips"."taxi_trips"'
        " (trip_start_timestamp) VALUES (TIMESTAMPTZ '2015-01-31 23:59:59Z')")
    assert _fingerprint(bigquery) != before  # a late row in a past month
  finally:
    bigquery.rollback()


def test_a_query_must_select_one_period(bigquery):
  with pytest.raises(ValueError, match='the span begin plus one day'):
    query_spans.render(SPAN_QUERY + ' AND 0 < @span_end_timestamp', 1)
  with pytest.raises(ValueError, match='the query selects no span'):
    query_spans.render(f'SELECT * FROM `{bigquery_duckdb.TABLE}`', 1)


def _stand_in_executor(bigquery):
  """The executor, with DuckDB answering its two BigQuery calls."""

  @beam.ptransform_fn
  def read(pipeline, exec_properties, query):  # pylint: disable=unused-argument
    types = bigquery_duckdb.result_types(bigquery, query)
    return (pipeline
            | beam.Create(bigquery_duckdb.query(bigquery, query))
            | beam.Map(lambda row: bigquery_utils.row_to_example(types, row)))

  class StandInExecutor(executor.Executor):

    def _span_rows(self, exec_properties):
      return _probe(bigquery, exec_properties[executor.PROBE_QUERY_KEY])

    def GetInputSourceToExamplePTransform(self):
      return read

  return StandInExecutor()


def _split_rows(uri, split: str) -> int:
  files = tf.io.gfile.glob(f'{uri}/Split-{split}/*')
  return sum(1 for _ in tf.data.TFRecordDataset(files,
                                                compression_type='GZIP'))


def _run_executor(bigquery, out, window_spans: int, newest: int):
  """(train rows, eval rows) the executor writes for a backfill window."""
  gen = component.SpannedBigQueryExampleGen(
      bigquery_duckdb.TABLE, output_config=example_gen_pb2.Output(
          split_config=example_gen_pb2.SplitConfig(splits=[
              example_gen_pb2.SplitConfig.Split(
                  name=configs.TRAIN_SPLIT, hash_buckets=3),
              example_gen_pb2.SplitConfig.Split(
                  name=configs.EVAL_SPLIT, hash_buckets=1)])),
      window_spans=window_spans, newest_span=newest)
  examples = standard_artifacts.Examples()
  examples.uri = str(out)
  _stand_in_executor(bigquery).Do(
      {}, {'examples': [examples]}, gen.exec_properties)
  return examples, [_split_rows(out, split)
                    for split in (configs.TRAIN_SPLIT, configs.EVAL_SPLIT)]


def test_the_executor_reads_the_window(bigquery, csv_root, tmp_path):
  newest = spans.find(csv_root)[-10]
  window = spans.window(csv_root, 3, newest)
  rows = {span: len(_csv_rows(csv_root, span)) for span in window}
  _, (train_1, eval_1) = _run_executor(bigquery, tmp_path / '1', 1, newest)
  examples, (train_3, eval_3) = _run_executor(bigquery, tmp_path / '3', 3,
                                              newest)
  # The newest span is split; the older ones give their train rows only.
  assert train_1 + eval_1 == rows[newest] and eval_1 > 0
  assert eval_3 == eval_1
  older = rows[window[0]] + rows[window[1]]
  assert 0.6 * older < train_3 - train_1 < 0.9 * older
  assert examples.span == newest
  assert examples.get_string_custom_property(
      csv_executor.SPANS_PROPERTY) == spans.format_list(window)
