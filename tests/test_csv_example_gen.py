"""ArrowCsvExampleGen's executor against TFX's CsvExampleGen on the same
files: the same serialized examples (so the same train/eval split)."""

import apache_beam as beam
import pytest
import tensorflow as tf
from tfx.components.example_gen.csv_example_gen import executor as tfx_csv

import helpers
from pipeline import csv_example_gen

HEADER = 'id,amount,count,mixed,name,notes,blank\n'
# Quoted commas and a line break inside a field, empty cells, an int column
# with one decimal value (a float column then), a column that is all ints.
PART_1 = HEADER + ('1,2.5,3,7,"Cab, Inc.","two\nlines",\n'
                   '2,,4,,Flash,,\n'
                   '3,0,,1.5,,"say ""hi""",\n')
PART_2 = HEADER + '4,10,5,-2,Flash,x,\n\n5,1e3,6,8,"",y,\n'


def _examples(transform_cls, input_base, pattern, tmp_path) -> list:
  """Serialized examples (deterministic) the transform makes of the files."""
  prefix = str(tmp_path / transform_cls.__name__)
  with beam.Pipeline() as pipeline:
    _ = (
        pipeline
        | transform_cls({'input_base': str(input_base)}, pattern)
        | beam.Map(lambda e: e if isinstance(e, bytes) else
                   e.SerializeToString(deterministic=True))
        | beam.io.WriteToTFRecord(prefix))
  return sorted(
      record.numpy()
      for record in tf.data.TFRecordDataset(tf.io.gfile.glob(prefix + '*')))


@pytest.fixture
def csv_dir(tmp_path):
  folder = tmp_path / 'csv'
  folder.mkdir()
  (folder / 'part-1.csv').write_text(PART_1)
  (folder / 'part-2.csv').write_text(PART_2)
  return folder


def test_same_examples_as_csv_example_gen(csv_dir, tmp_path):
  ours = _examples(csv_example_gen._CsvToSerializedExamples, csv_dir, '*.csv',
                   tmp_path)
  theirs = _examples(tfx_csv._CsvToExample, csv_dir, '*.csv', tmp_path)
  assert ours == theirs
  assert len(ours) == 5

  by_id = {
      e.features.feature['id'].int64_list.value[0]: e.features.feature
      for e in map(tf.train.Example.FromString, ours)
  }
  assert list(by_id[1]['name'].bytes_list.value) == [b'Cab, Inc.']
  assert list(by_id[1]['notes'].bytes_list.value) == [b'two\nlines']
  assert list(by_id[3]['mixed'].float_list.value) == [1.5]
  assert list(by_id[2]['amount'].float_list.value) == []  # empty cell
  assert not by_id[1]['blank'].WhichOneof('kind')  # no value anywhere


def test_same_examples_as_csv_example_gen_on_bundled_rows(tmp_path):
  data = tmp_path / 'data'
  data.mkdir()
  helpers.write_csv(data / 'data.csv', helpers.read_rows()[:3000])
  ours = _examples(csv_example_gen._CsvToSerializedExamples, data, '*',
                   tmp_path)
  theirs = _examples(tfx_csv._CsvToExample, data, '*', tmp_path)
  assert len(ours) == 3000
  assert ours == theirs


def test_files_without_any_value_are_refused(tmp_path):
  folder = tmp_path / 'empty'
  folder.mkdir()
  (folder / 'data.csv').write_text('a,b\n,\n,\n')
  with pytest.raises(ValueError, match='no value in any cell'):
    _examples(csv_example_gen._CsvToSerializedExamples, folder, '*.csv',
              tmp_path)


def test_files_with_different_headers_are_refused(csv_dir, tmp_path):
  (csv_dir / 'part-3.csv').write_text('id,other\n1,2\n')
  with pytest.raises(RuntimeError, match='part-3.csv has a different header'):
    _examples(csv_example_gen._CsvToSerializedExamples, csv_dir, '*.csv',
              tmp_path)
