"""Checks a CSV data source before anything runs or writes.

A bad path should fail in a second with one line naming it, not minutes
into a run with a Beam traceback and half-written outputs.
"""

import csv
import dataclasses
from pathlib import Path
from typing import Iterable, List

from pipeline import spans as spans_lib


class DataSourceError(ValueError):
  """The data source cannot feed the pipeline; str() is the one-line reason."""


@dataclasses.dataclass(frozen=True)
class CsvSource:
  """What CsvExampleGen reads: every file matching `pattern` in `input_base`."""
  input_base: Path
  pattern: str
  files: List[Path]
  spans: List[int]  # pipeline/spans.py: [NO_SPANS] for a plain folder


def _span_folders(path: Path) -> dict:
  return {spans_lib.number(p.name): p for p in path.iterdir()
          if p.is_dir() and spans_lib.number(p.name) is not None}


# Undecodable bytes are ExampleGen's to report, with their line; a UTF-8
# byte-order mark is no part of the header (utf-8-sig).
def _header(path: Path) -> List[str]:
  with path.open(newline='', encoding='utf-8-sig', errors='replace') as f:
    return next(csv.reader(f), [])


def _has_data_row(path: Path) -> bool:
  with path.open(newline='', errors='replace') as f:
    rows = csv.reader(f)
    next(rows, None)
    return any(any(cell.strip() for cell in row) for row in rows)


def check_csv_source(path: Path, required_columns: Iterable[str]) -> CsvSource:
  """Checks a CSV data source before anything runs.

  Args:
    path: a .csv file, a folder of them, or a folder of span folders of
      them (pipeline/spans.py).
    required_columns: columns every file's header must have.

  Returns:
    What ExampleGen is to read.

  Raises:
    DataSourceError: naming the path and the problem.
  """
  path = Path(path).resolve()
  if not path.exists():
    raise DataSourceError(f'data path {path}: does not exist')
  span_folders = _span_folders(path) if path.is_dir() else {}
  if span_folders:
    files = []
    for span in sorted(span_folders):
      found = sorted(span_folders[span].glob('*.csv'))
      if not found:
        raise DataSourceError(f'data path {span_folders[span]}: no *.csv '
                              'files in this span folder')
      files += found
    source = CsvSource(path, f'{spans_lib.PREFIX}*/*.csv', files,
                       sorted(span_folders))
  elif path.is_dir():
    source = CsvSource(path, '*.csv', sorted(path.glob('*.csv')),
                       [spans_lib.NO_SPANS])
    if not source.files:
      raise DataSourceError(f'data path {path}: no *.csv files in this folder')
  else:
    source = CsvSource(path.parent, path.name, [path], [spans_lib.NO_SPANS])

  headers = {}
  for file in source.files:
    header = _header(file)
    if not header:
      raise DataSourceError(f'data path {file}: file is empty')
    missing = sorted(set(required_columns) - set(header))
    if missing:
      raise DataSourceError(f'data path {file}: CSV header lacks required '
                            f'columns: {", ".join(missing)}')
    headers[file] = header
  if len({tuple(h) for h in headers.values()}) > 1:
    raise DataSourceError(f'data path {path}: CSV files have different '
                          'headers; ExampleGen needs one column layout')
  if not any(_has_data_row(f) for f in source.files):
    raise DataSourceError(f'data path {path}: has a header but no data rows')
  return source
