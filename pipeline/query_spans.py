"""Spans of a BigQuery table: one calendar period each of its trips' start.

A span is the rows whose trip_start_timestamp falls in one period
(configs.SPAN_PERIOD, UTC). Its number is what TFX numbers a query-based
ExampleGen's span: the days from 1970-01-01 to the period's first day, so
TFX's placeholder substitution (`get_query_for_span`) makes
`@span_begin_timestamp` the period's first second and `@span_yyyymmdd_utc`
its first day. TFX's `@span_end_timestamp` is one day later whatever the
period, so a span query must not use it.

The spans a table has are the periods that have ended, with their rows
counted by one cheap query (PROBE: it reads the timestamp column alone).
The window, "nothing new" and backfill are pipeline/spans.py's, over them;
the Kubeflow data-fingerprint task hashes the same counts.
"""

import hashlib
from pathlib import Path
from typing import Dict, Iterable, Mapping

from tfx.components.example_gen import utils

from pipeline import configs

QUERY_PATH = Path(__file__).parent / 'queries' / 'taxi_trips.sql'
# Each period with rows that ended before today (UTC), and its rows.
PROBE = """SELECT
  UNIX_SECONDS(TIMESTAMP_TRUNC(trip_start_timestamp, {period})) AS span_begin,
  COUNT(*) AS span_rows
FROM `{table}`
GROUP BY span_begin
HAVING DATE_ADD(DATE(TIMESTAMP_SECONDS(span_begin)), INTERVAL 1 {period})
  <= CURRENT_DATE()"""
_SECONDS_PER_DAY = 24 * 3600


def span_query(table: str) -> str:
  """The query of one span of `table`, with TFX's span placeholder.

  Args:
    table: `project.dataset.table`, with the Chicago taxi trips columns.
  """
  return QUERY_PATH.read_text().format(table=table,
                                       period=configs.SPAN_PERIOD)


def probe_query(table: str) -> str:
  """The query counting the rows of each complete period of `table`."""
  return PROBE.format(table=table, period=configs.SPAN_PERIOD)


def render(query: str, span: int) -> str:
  """A span query for one span, its placeholders filled as TFX fills them.

  Raises:
    ValueError: the query has no span placeholder, or uses
      `@span_end_timestamp` (one day after the begin, not one period).
  """
  if utils.SPAN_END_TIMESTMAP in query:
    raise ValueError(f'{utils.SPAN_END_TIMESTMAP} is the span begin plus one '
                     f'day; a span is a {configs.SPAN_PERIOD}: select it '
                     f'with TIMESTAMP_TRUNC(..., {configs.SPAN_PERIOD}) = '
                     f'TIMESTAMP_SECONDS({utils.SPAN_BEGIN_TIMESTAMP})')
  if (utils.SPAN_BEGIN_TIMESTAMP not in query and
      utils.SPAN_YYYYMMDD_UTC not in query):
    raise ValueError(f'the query selects no span: it has neither '
                     f'{utils.SPAN_BEGIN_TIMESTAMP} nor '
                     f'{utils.SPAN_YYYYMMDD_UTC}')
  return utils.get_query_for_span(query, span)


def span_rows(probe_rows: Iterable[Mapping[str, int]]) -> Dict[int, int]:
  """Span number -> rows, from the probe's rows (span_begin, span_rows)."""
  return {row['span_begin'] // _SECONDS_PER_DAY: row['span_rows']
          for row in probe_rows}


def probe(query: str, project: str) -> Dict[int, int]:
  """Span -> rows of each complete span, from BigQuery.

  Args:
    query: the probe query (probe_query).
    project: the project the query job runs in.
  """
  # Imported here: only a task reading BigQuery needs the client.
  from google.cloud import bigquery  # pylint: disable=g-import-not-at-top
  client = bigquery.Client(project=project)
  return span_rows(client.query(query).result())


def fingerprint(rows: Dict[int, int]) -> str:
  """A hash of each complete span and its rows.

  It changes when a period ends or rows arrive late in one.
  """
  digest = hashlib.sha256()
  for span in sorted(rows):
    digest.update(f'{span}\0{rows[span]}\n'.encode())
  return digest.hexdigest()
