"""Which spans a run reads: the newest few, up to a chosen one."""

import pytest

from pipeline import spans


@pytest.fixture
def data_root(tmp_path):
  for name in ('span-1', 'span-2', 'span-3', 'span-12', 'span-0', 'span-x',
               'notes'):
    (tmp_path / name).mkdir()
  (tmp_path / 'span-4').write_text('a file, not a span folder')
  return str(tmp_path)


def test_spans_are_numbered_folders(data_root):
  assert spans.find(data_root) == [1, 2, 3, 12]


def test_the_window_is_the_newest_spans(data_root):
  assert spans.window(data_root, size=2) == [3, 12]
  assert spans.window(data_root, size=10) == [1, 2, 3, 12]


def test_a_backfill_window_ends_at_its_span(data_root):
  assert spans.window(data_root, size=2, newest=2) == [1, 2]
  with pytest.raises(spans.SpanError,
                     match=r'no span 5 under .* \(spans: 1, 2, 3, 12\)'):
    spans.window(data_root, size=2, newest=5)


def test_a_folder_without_spans_is_one_span(tmp_path):
  (tmp_path / 'data.csv').write_text('a,b\n1,2\n')
  assert spans.window(str(tmp_path), size=4) == [spans.NO_SPANS]
  assert spans.folder(str(tmp_path), spans.NO_SPANS) == str(tmp_path)
