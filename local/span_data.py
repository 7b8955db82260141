"""The bundled sample as data arriving over time, cut into span folders.

Its trips are cut into span folders (pipeline/spans.py) by
trip_start_timestamp.

Half-years, oldest first; a half-year with too few trips to evaluate on is
merged with the next (the sample thins out in 2016), so every span has at
least MIN_SPAN_ROWS trips.
"""

import csv
import datetime
from pathlib import Path
from typing import Dict, List

from models import features
from pipeline import spans

MONTHS_PER_SPAN = 6
MIN_SPAN_ROWS = 800


def _period(row: Dict[str, str]) -> tuple:
  started = datetime.datetime.fromtimestamp(
      int(row[features.TIME_KEY]), datetime.timezone.utc)
  return started.year, (started.month - 1) // MONTHS_PER_SPAN


def cut(rows: List[Dict[str, str]]) -> List[List[Dict[str, str]]]:
  """Rows grouped into spans, oldest first.

  Args:
    rows: trips, each with a trip_start_timestamp (epoch seconds).

  Returns:
    One list of rows per span, each at least MIN_SPAN_ROWS long (but the
    only one, if all rows are fewer).
  """
  periods: Dict[tuple, list] = {}
  for row in rows:
    periods.setdefault(_period(row), []).append(row)
  cut_rows: List[list] = []
  pending: list = []
  for period in sorted(periods):
    pending += periods[period]
    if len(pending) >= MIN_SPAN_ROWS:
      cut_rows.append(pending)
      pending = []
  if pending:  # a short tail joins the span before it
    if cut_rows:
      cut_rows[-1] += pending
    else:
      cut_rows.append(pending)
  return cut_rows


def write_span(rows: List[Dict[str, str]], data_root: Path, span: int) -> Path:
  """Writes one span's rows as <data_root>/span-<span>/data.csv.

  Returns:
    The span's folder.
  """
  folder = data_root / f'{spans.PREFIX}{span}'
  folder.mkdir(parents=True, exist_ok=True)
  with open(folder / 'data.csv', 'w', newline='') as f:
    writer = csv.DictWriter(f, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
  return folder
