"""BigQuery stand-in: DuckDB over the bundled CSV, queried in BigQuery SQL.

The table `bigquery-public-data.chicago_taxi_trips.taxi_trips` holds the
bundled rows with the public table's columns and types: the trip's start a
TIMESTAMP (the CSV has its epoch seconds), and not the CSV's columns that
the span query derives from it (month, hour, weekday). Queries are written
for BigQuery and transpiled by sqlglot; the session's time zone is UTC,
BigQuery's default.

What it does not cover: BigQuery's own parser and functions (sqlglot's
reading of them stands in), column modes, partitioning, quotas and costs,
and the Storage Read API Beam's ReadFromBigQuery uses.
"""

from pathlib import Path
from typing import Dict, List

import duckdb
import sqlglot
from sqlglot import exp

TABLE = 'bigquery-public-data.chicago_taxi_trips.taxi_trips'
# The public table's BigQuery types of the columns the bundled CSV has.
COLUMN_TYPES = {
    'pickup_community_area': 'INTEGER', 'fare': 'FLOAT',
    'trip_start_timestamp': 'TIMESTAMP', 'pickup_latitude': 'FLOAT',
    'pickup_longitude': 'FLOAT', 'dropoff_latitude': 'FLOAT',
    'dropoff_longitude': 'FLOAT', 'trip_miles': 'FLOAT',
    'pickup_census_tract': 'INTEGER', 'dropoff_census_tract': 'INTEGER',
    'payment_type': 'STRING', 'company': 'STRING', 'trip_seconds': 'INTEGER',
    'dropoff_community_area': 'INTEGER', 'tips': 'FLOAT',
}
_DUCKDB_TYPES = {'INTEGER': 'BIGINT', 'FLOAT': 'DOUBLE', 'STRING': 'VARCHAR'}
# DuckDB type name -> BigQuery's, for query results (TFX's row_to_example).
RESULT_TYPES = {'BIGINT': 'INTEGER', 'INTEGER': 'INTEGER', 'DOUBLE': 'FLOAT',
                'VARCHAR': 'STRING'}


def connect(csv_path: Path) -> duckdb.DuckDBPyConnection:
  """An in-memory database holding TABLE, loaded from the CSV file."""
  con = duckdb.connect()
  con.execute("SET TimeZone = 'UTC'")
  catalog, schema, _ = TABLE.split('.')
  con.execute(f"ATTACH ':memory:' AS \"{catalog}\"")
  con.execute(f'CREATE SCHEMA "{catalog}".{schema}')
  columns = ', '.join(
      f'to_timestamp(CAST({name} AS BIGINT)) AS {name}'
      if kind == 'TIMESTAMP' else
      f'CAST({name} AS {_DUCKDB_TYPES[kind]}) AS {name}'
      for name, kind in COLUMN_TYPES.items())
  con.execute(f'CREATE TABLE {_quoted(TABLE)} AS SELECT {columns} FROM '
              f"read_csv('{csv_path}', all_varchar = true)")
  return con


def _quoted(table: str) -> str:
  return '.'.join(f'"{part}"' for part in table.split('.'))


def _weekday_from_sunday_1(node: exp.Expression) -> exp.Expression:
  """BigQuery's DAYOFWEEK counts from 1 (Sunday), DuckDB's from 0.

  sqlglot 30.31 carries EXTRACT(DAYOFWEEK ...) over unchanged.
  """
  if isinstance(node, exp.Extract) and node.name.upper() == 'DAYOFWEEK':
    return exp.Paren(this=exp.Add(this=node.copy(),
                                  expression=exp.Literal.number(1)))
  return node


def to_duckdb(bigquery_sql: str) -> str:
  """A BigQuery statement as DuckDB's."""
  tree = sqlglot.parse_one(bigquery_sql, read='bigquery')
  return tree.transform(_weekday_from_sunday_1).sql(dialect='duckdb')


def query(con, bigquery_sql: str) -> List[Dict]:
  """A BigQuery statement's rows, each a dict as BigQuery's client gives."""
  result = con.execute(to_duckdb(bigquery_sql))
  names = [column[0] for column in result.description]
  return [dict(zip(names, row)) for row in result.fetchall()]


def result_types(con, bigquery_sql: str) -> Dict[str, str]:
  """A statement's columns and their BigQuery types.

  TFX's BigQuery reader asks for them with a LIMIT 0 query.
  """
  result = con.execute(to_duckdb(f'SELECT * FROM ({bigquery_sql}) LIMIT 0'))
  return {column[0]: RESULT_TYPES[str(column[1])]
          for column in result.description}
