"""A bad data source fails in seconds, with one line, and writes nothing."""

from pathlib import Path

import pytest

import helpers
from models import features
from local import data_source

def _tree(root: Path) -> dict:
  return {
      p.relative_to(root): p.read_bytes() if p.is_file() else None
      for p in root.rglob('*')
  }


def _missing(tmp_path):
  return tmp_path / 'no-such-dir', 'does not exist'


def _empty(tmp_path):
  path = tmp_path / 'empty.csv'
  path.write_text('')
  return path, 'file is empty'


def _lacks_columns(tmp_path):
  rows = [{k: v for k, v in r.items() if k not in ('fare', 'company')}
          for r in helpers.read_rows()[:10]]
  return (helpers.write_csv(tmp_path / 'partial' / 'part.csv', rows),
          'CSV header lacks required columns: company, fare')


@pytest.mark.parametrize('make_bad_source', [_missing, _empty, _lacks_columns])
def test_bad_data_path_fails_with_one_line_and_leaves_outputs_untouched(
    tmp_path, make_bad_source):
  bad_path, problem = make_bad_source(tmp_path)
  outputs = tmp_path / 'outputs'
  (outputs / 'serving_model' / 'taxi-tips' / '1').mkdir(parents=True)
  (outputs / 'serving_model' / 'taxi-tips' / '1' / 'saved_model.pb').write_bytes(
      b'an earlier push')
  before = _tree(outputs)

  result = helpers.run_local_runner(bad_path, outputs)

  assert result.returncode == 2
  assert result.stdout == ''
  assert result.stderr.splitlines() == [
      f'error: data path {bad_path.resolve()}: {problem}'
  ]
  assert _tree(outputs) == before


def test_bad_data_path_creates_no_output_dir(tmp_path):
  result = helpers.run_local_runner(tmp_path / 'missing.csv', tmp_path / 'outputs')
  assert result.returncode == 2
  assert not (tmp_path / 'outputs').exists()


def _check(path):
  return data_source.check_csv_source(path, features.REQUIRED_COLUMNS)


def test_folder_without_csv_files_is_rejected(tmp_path):
  (tmp_path / 'notes.txt').write_text('not data')
  with pytest.raises(data_source.DataSourceError, match='no \\*.csv files'):
    _check(tmp_path)


def test_header_only_file_is_rejected(tmp_path):
  path = tmp_path / 'header.csv'
  path.write_text(','.join(features.REQUIRED_COLUMNS) + '\n')
  with pytest.raises(data_source.DataSourceError, match='no data rows'):
    _check(path)


def test_files_with_different_headers_are_rejected(tmp_path, bundled_rows):
  helpers.write_csv(tmp_path / 'a.csv', bundled_rows[:5])
  helpers.write_csv(tmp_path / 'b.csv', bundled_rows[:5],
                    fieldnames=sorted(bundled_rows[0], reverse=True))
  with pytest.raises(data_source.DataSourceError, match='different headers'):
    _check(tmp_path)


def test_a_single_file_and_a_folder_are_both_accepted(tmp_path, bundled_rows):
  path = helpers.write_csv(tmp_path / 'slice.csv', bundled_rows[:5])
  single = _check(path)
  assert (single.input_base, single.pattern) == (tmp_path, 'slice.csv')
  folder = _check(tmp_path)
  assert (folder.input_base, folder.pattern, folder.files) == (
      tmp_path, '*.csv', [path])


def test_a_byte_order_mark_before_the_header_is_no_part_of_it(
    tmp_path, bundled_rows):
  path = helpers.write_csv(tmp_path / 'excel.csv', bundled_rows[:5])
  path.write_bytes('\ufeff'.encode() + path.read_bytes())
  assert _check(path).files == [path]


@pytest.mark.e2e
def test_rows_of_the_wrong_type_stop_the_run_at_example_gen_naming_the_line(
    tmp_path, bundled_rows):
  rows = [dict(r, fare='abc') for r in bundled_rows[:300]]
  data = helpers.write_csv(tmp_path / 'data' / 'data.csv', rows)
  outputs = tmp_path / 'outputs'

  result = helpers.run_local_runner(data, outputs)

  assert result.returncode == 1
  assert '  CsvExampleGen                    FAILED' in result.stdout
  assert 'No model was pushed' in result.stdout
  *_, reason, last = result.stderr.splitlines()
  assert reason == (f"error: {data} line 2, column fare: 'abc' is not a "
                    'number')
  assert last.startswith('error: the pipeline run failed; full log: ')
  assert not (outputs / 'serving_model').exists()


def test_span_folders_are_read_as_spans(tmp_path, bundled_rows):
  helpers.write_csv(tmp_path / 'span-2' / 'b.csv', bundled_rows[5:10])
  helpers.write_csv(tmp_path / 'span-10' / 'c.csv', bundled_rows[10:15])
  helpers.write_csv(tmp_path / 'span-1' / 'a.csv', bundled_rows[:5])
  (tmp_path / 'span-x').mkdir()  # not a span: ignored
  source = _check(tmp_path)
  assert source.spans == [1, 2, 10]
  assert source.pattern == 'span-*/*.csv'
  assert [f.relative_to(tmp_path).as_posix() for f in source.files] == [
      'span-1/a.csv', 'span-2/b.csv', 'span-10/c.csv']


def test_an_empty_span_folder_is_named(tmp_path, bundled_rows):
  helpers.write_csv(tmp_path / 'span-1' / 'a.csv', bundled_rows[:5])
  (tmp_path / 'span-2').mkdir()
  with pytest.raises(data_source.DataSourceError,
                     match='span-2: no \\*.csv files in this span folder'):
    _check(tmp_path)
