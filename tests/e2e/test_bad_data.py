"""Damaged copies of the bundled data through local_runner.py.

With a good model already serving, each stops with its one clear reason,
before anything is trained, and leaves every pushed version as it was.
"""

import html
from pathlib import Path
import re
import time

import pytest

import damaged_data
import helpers
from local import paths as local_paths
from local import run_summary

pytestmark = pytest.mark.e2e


@pytest.fixture(scope='module')
def serving(bundled_run):
  """An output folder where the bundled data's model serves; its versions."""
  assert len(bundled_run.versions) == 1
  return bundled_run.output_dir, bundled_run.versions


def _write(folder: Path, rows, change=None, fieldnames=None) -> Path:
  return helpers.write_csv(folder / 'data.csv', damaged_data.damaged(
      rows, change), fieldnames).parent


@pytest.mark.parametrize('case', damaged_data.GATE_CASES)
def test_the_gate_stops_bad_data_before_training(case, serving, bundled_rows,
                                                 tmp_path):
  output_dir, versions = serving
  change, reason = damaged_data.GATE_CASES[case]
  _expect_stopped(_write(tmp_path, bundled_rows, change), output_dir, versions,
                  'The data gate stopped the run before training', reason,
                  failed_node='DataGate')


def test_too_few_rows_stop_at_the_gate(serving, bundled_rows, tmp_path):
  output_dir, versions = serving
  _expect_stopped(_write(tmp_path, bundled_rows[:40]), output_dir, versions,
                  'The data gate stopped', r'\*: rows: expected at least '
                  r'500 rows, seen \d\d', failed_node='DataGate')


@pytest.mark.parametrize('column, value, problem', [
    ('trip_seconds', '480.5', "'480.5' is not an integer"),
    ('fare', 'abc', "'abc' is not a number"),
])
def test_a_value_of_the_wrong_type_names_its_line(column, value, problem,
                                                  serving, bundled_rows,
                                                  tmp_path):
  output_dir, versions = serving
  data = _write(tmp_path, bundled_rows,
                lambda i, row: row.update({column: value}) if i == 99 else None)
  _expect_stopped(data, output_dir, versions,
                  f'data.csv line 101, column {column}: {problem}',
                  failed_node='CsvExampleGen')


def test_a_ragged_row_names_its_line(serving, bundled_rows, tmp_path):
  output_dir, versions = serving
  data = _write(tmp_path, bundled_rows)
  lines = (data / 'data.csv').read_text().splitlines(keepends=True)
  lines[9] = lines[9].split(',', 1)[1]  # line 10 loses its first field
  (data / 'data.csv').write_text(''.join(lines))
  _expect_stopped(data, output_dir, versions,
                  'data.csv line 10: 17 fields, the header has 18',
                  failed_node='CsvExampleGen')


def test_bytes_that_are_not_utf8_name_their_line(serving, bundled_rows,
                                                 tmp_path):
  output_dir, versions = serving
  data = _write(tmp_path, bundled_rows,
                lambda i, row: row.update(payment_type='@') if i == 3 else None)
  csv_file = data / 'data.csv'
  csv_file.write_bytes(csv_file.read_bytes().replace(b'@', b'Cr\xe9dit'))
  _expect_stopped(data, output_dir, versions,
                  'data.csv line 5, column payment_type: not UTF-8 text',
                  failed_node='CsvExampleGen')


def test_reordered_columns_and_other_number_forms_still_train(
    serving, bundled_rows, tmp_path):
  output_dir, versions = serving
  header = list(reversed(list(bundled_rows[0])))

  def other_forms(index, row):  # 480 -> 480.0 and 12.0 -> 12
    if row['trip_seconds']:
      row['trip_seconds'] += '.0'
    if row['fare'].endswith('.0'):
      row['fare'] = row['fare'][:-2]

  data = _write(tmp_path, bundled_rows, other_forms, fieldnames=header)
  started = time.time()
  result = helpers.run_local_runner(data, output_dir, timeout=900)
  assert result.returncode == 0, result.stderr[-3000:]
  summary = _summary(output_dir, started)
  for node in ('CsvExampleGen', 'DataGate', 'Trainer', 'Evaluator', 'Pusher'):
    assert summary.node_states[node] == 'COMPLETE', node
  assert summary.blessed is not None  # evaluated against the serving model
  now = helpers.pushed_versions(output_dir)
  assert {v: now[v] for v in versions} == versions


def _summary(output_dir: Path, started: float) -> run_summary.RunSummary:
  return run_summary.latest_run(
      str(local_paths.LocalPaths(output_dir).metadata_path), since=started)


def _expect_stopped(data: Path, output_dir: Path, versions: dict, *reasons,
                    failed_node: str):
  started = time.time()
  result = helpers.run_local_runner(data, output_dir, timeout=600)
  assert result.returncode == 1, result.stderr[-3000:]
  for reason in reasons:
    assert any(re.search(reason, line)
               for line in result.stderr.splitlines()), (reason, result.stderr)
  assert 'Traceback' not in result.stderr + result.stdout
  summary = _summary(output_dir, started)
  assert summary.node_states[failed_node] == 'FAILED'
  assert 'Trainer' not in summary.node_states
  assert helpers.pushed_versions(output_dir) == versions
  # The failed run has its report too, with the reason in it.
  [report] = [line.removeprefix('Report: ')
              for line in result.stdout.splitlines()
              if line.startswith('Report: ')]
  page = html.unescape(Path(report).read_text())
  assert f'<td>{failed_node}</td>\n<td class="bad">FAILED</td>' in page
  for reason in reasons:
    assert re.search(reason, page), reason
