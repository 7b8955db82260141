"""ArrowCsvExampleGen's executor against TFX's CsvExampleGen executor.

On the same files: the same serialized examples in the same splits.
"""

import pytest
import tensorflow as tf
from tfx.components.example_gen.csv_example_gen import executor as tfx_csv
from tfx.components.util import examples_utils
from tfx.proto import example_gen_pb2
from tfx.types import standard_artifacts
from tfx.utils import proto_utils

import helpers
from pipeline import configs
from pipeline.components.csv_example_gen import executor as csv_example_gen
from pipeline.components.data_errors import DataError

HEADER = 'id,amount,count,mixed,name,notes,blank,signed\n'
# Quoted commas and a line break inside a field, empty cells, an int column
# with one decimal value (a float column then), a column that is all ints,
# negative and 64-bit ints, non-ASCII text, a value longer than 127 bytes.
LONG = 'x' * 300
PART_1 = HEADER + ('1,2.5,3,7,"Cab, Inc.","two\nlines",,-3\n'
                   '2,,4,,Flash,,,1099511627776\n'
                   '3,0,,1.5,,"say ""hi""",,\n')
PART_2 = HEADER + f'4,10,5,-2,Flash,x,,0\n\n5,1e3,6,8,"",{LONG},,7\n6,,,,Čab,ü,,\n'


HASH_SPLIT = example_gen_pb2.Output(
    split_config=example_gen_pb2.SplitConfig(splits=[
        example_gen_pb2.SplitConfig.Split(name='train', hash_buckets=2),
        example_gen_pb2.SplitConfig.Split(name='eval', hash_buckets=1),
    ]))


def _run(executor_cls, input_base, out, pattern='*.csv',
         output_config=HASH_SPLIT, input_config=None, **exec_properties):
  """Runs the executor; returns its output artifact and the examples.

  Per split, the examples serialized with sorted keys (TFX writes them in
  any key order, but hashes them sorted to split them), sorted: neither
  keeps the row order.
  """
  input_config = input_config or example_gen_pb2.Input(splits=[
      example_gen_pb2.Input.Split(name='single_split', pattern=pattern)])
  examples = standard_artifacts.Examples()
  examples.uri = str(out)
  executor_cls().Do({}, {'examples': [examples]}, {
      'input_base': str(input_base),
      'input_config': proto_utils.proto_to_json(input_config),
      'output_config': proto_utils.proto_to_json(output_config),
      'output_data_format': example_gen_pb2.FORMAT_TF_EXAMPLE,
      'output_file_format': example_gen_pb2.FORMAT_TFRECORDS_GZIP,
      **exec_properties,
  })
  splits = {}
  for split in (out / f'Split-{name}' for name in ('train', 'eval')):
    files = tf.io.gfile.glob(str(split / '*'))
    splits[split.name] = sorted(
        tf.train.Example.FromString(
            record.numpy()).SerializeToString(deterministic=True)
        for record in tf.data.TFRecordDataset(files, compression_type='GZIP'))
  return examples, splits


@pytest.fixture
def csv_dir(tmp_path):
  folder = tmp_path / 'csv'
  folder.mkdir()
  (folder / 'part-1.csv').write_text(PART_1)
  (folder / 'part-2.csv').write_text(PART_2)
  return folder


def test_same_examples_and_splits_as_csv_example_gen(csv_dir, tmp_path):
  artifact, ours = _run(csv_example_gen.Executor, csv_dir, tmp_path / 'ours')
  _, theirs = _run(tfx_csv.Executor, csv_dir, tmp_path / 'theirs')
  assert ours == theirs
  assert sum(map(len, ours.values())) == 6
  assert artifact.split_names == '["train", "eval"]'
  assert examples_utils.get_payload_format(
      artifact) == example_gen_pb2.FORMAT_TF_EXAMPLE
  assert not (tmp_path / 'ours' / '.incomplete').exists()

  by_id = {
      e.features.feature['id'].int64_list.value[0]: e.features.feature
      for e in map(tf.train.Example.FromString,
                   ours['Split-train'] + ours['Split-eval'])
  }
  assert list(by_id[1]['name'].bytes_list.value) == [b'Cab, Inc.']
  assert list(by_id[1]['notes'].bytes_list.value) == [b'two\nlines']
  assert list(by_id[3]['mixed'].float_list.value) == [1.5]
  assert list(by_id[2]['amount'].float_list.value) == []  # empty cell
  assert not by_id[1]['blank'].WhichOneof('kind')  # no value anywhere
  assert list(by_id[1]['signed'].int64_list.value) == [-3]
  assert list(by_id[2]['signed'].int64_list.value) == [2**40]
  assert list(by_id[5]['notes'].bytes_list.value) == [LONG.encode()]
  assert list(by_id[6]['name'].bytes_list.value) == ['Čab'.encode()]


def test_same_splits_as_csv_example_gen_on_bundled_rows(tmp_path, monkeypatch):
  data = tmp_path / 'data'
  helpers.write_csv(data / 'data.csv', helpers.read_rows()[:3000])
  # Small blocks: several output files per split.
  monkeypatch.setattr(configs, 'CSV_BLOCK_BYTES', 100_000)
  _, ours = _run(csv_example_gen.Executor, data, tmp_path / 'ours')
  _, theirs = _run(tfx_csv.Executor, data, tmp_path / 'theirs')
  assert len(ours['Split-train']) + len(ours['Split-eval']) == 3000
  assert ours == theirs
  assert len(list((tmp_path / 'ours' / 'Split-eval').iterdir())) > 1


def test_a_byte_order_mark_changes_no_column_name(csv_dir, tmp_path):
  _, plain = _run(csv_example_gen.Executor, csv_dir, tmp_path / 'plain')
  for part in csv_dir.iterdir():  # as a spreadsheet saves "CSV UTF-8"
    part.write_bytes('\ufeff'.encode() + part.read_bytes())
  _, marked = _run(csv_example_gen.Executor, csv_dir, tmp_path / 'marked')
  assert marked == plain


def test_input_splits_are_kept(csv_dir, tmp_path):
  (csv_dir / 'train').mkdir()
  (csv_dir / 'eval').mkdir()
  (csv_dir / 'part-1.csv').rename(csv_dir / 'train' / 'part-1.csv')
  (csv_dir / 'part-2.csv').rename(csv_dir / 'eval' / 'part-2.csv')
  splits = dict(
      input_config=example_gen_pb2.Input(splits=[
          example_gen_pb2.Input.Split(name='train', pattern='train/*'),
          example_gen_pb2.Input.Split(name='eval', pattern='eval/*'),
      ]),
      output_config=example_gen_pb2.Output())
  _, ours = _run(csv_example_gen.Executor, csv_dir, tmp_path / 'ours',
                 **splits)
  _, theirs = _run(tfx_csv.Executor, csv_dir, tmp_path / 'theirs', **splits)
  assert ours == theirs
  assert (len(ours['Split-train']), len(ours['Split-eval'])) == (3, 3)


@pytest.mark.parametrize('schema', [
    None,
    # Every column declared: no pass over the files infers types.
    'feature { name: "a" type: INT } feature { name: "b" type: BYTES }',
])
def test_files_without_any_value_are_refused(tmp_path, schema):
  folder = tmp_path / 'empty'
  folder.mkdir()
  (folder / 'data.csv').write_text('a,b\n,\n,\n')
  schema_file = {}
  if schema:
    (tmp_path / 'schema.pbtxt').write_text(schema)
    schema_file = {'schema_file': str(tmp_path / 'schema.pbtxt')}
  with pytest.raises(ValueError, match='no value in any cell'):
    _run(csv_example_gen.Executor, folder, tmp_path / 'out', **schema_file)


def test_files_with_different_headers_are_refused(csv_dir, tmp_path):
  (csv_dir / 'part-3.csv').write_text('id,other\n1,2\n')
  with pytest.raises(RuntimeError, match='part-3.csv has a different header'):
    _run(csv_example_gen.Executor, csv_dir, tmp_path / 'out')


def test_split_by_feature_is_refused(csv_dir, tmp_path):
  by_feature = example_gen_pb2.Output()
  by_feature.CopyFrom(HASH_SPLIT)
  by_feature.split_config.partition_feature_name = 'id'
  with pytest.raises(ValueError, match='partition_feature_name'):
    _run(csv_example_gen.Executor, csv_dir, tmp_path / 'out',
         output_config=by_feature)


TYPED_SCHEMA = """
feature { name: "count" type: INT }
feature { name: "amount" type: FLOAT }
feature { name: "name" type: BYTES }
"""


@pytest.fixture
def schema_file(tmp_path):
  path = tmp_path / 'schema.pbtxt'
  path.write_text(TYPED_SCHEMA)
  return str(path)


def _values_by_id(splits: dict) -> dict:
  """id -> the example's features, over both splits."""
  found = {}
  for examples in splits.values():
    for serialized in examples:
      feature = tf.train.Example.FromString(serialized).features.feature
      found[feature['id'].int64_list.value[0]] = feature
  return found


def test_columns_have_the_types_the_schema_declares(tmp_path, schema_file):
  folder = tmp_path / 'csv'
  folder.mkdir()
  # `amount` holds only whole numbers, `count` whole numbers written as floats:
  # inferred, they would be INT and FLOAT.
  (folder / 'data.csv').write_text(
      'id,amount,count,name\n1,12,480.0,a\n2,,3,b\n3,7,1e2,12\n')
  _, splits = _run(csv_example_gen.Executor, folder, tmp_path / 'out',
                   schema_file=schema_file)
  rows = _values_by_id(splits)
  assert list(rows[1]['amount'].float_list.value) == [12.0]
  assert list(rows[1]['count'].int64_list.value) == [480]
  assert list(rows[3]['count'].int64_list.value) == [100]
  assert not rows[2]['amount'].float_list.value  # empty cell, typed list
  assert rows[2]['amount'].WhichOneof('kind') == 'float_list'
  assert list(rows[3]['name'].bytes_list.value) == [b'12']


@pytest.mark.parametrize('content, reason', [
    ('id,amount,count,name\n1,2,3,a\n2,2,480.5,b\n',
     r"data.csv line 3, column count: '480.5' is not an integer"),
    ('id,amount,count,name\n1,abc,3,a\n',
     r"data.csv line 2, column amount: 'abc' is not a number"),
    ('id,amount,count,name\n1,2,3,a\n2,2,3\n3,1,1,c\n',
     r'data.csv line 3: 3 fields, the header has 4'),
])
def test_a_value_of_another_type_names_file_line_and_column(
    tmp_path, schema_file, content, reason):
  folder = tmp_path / 'csv'
  folder.mkdir()
  (folder / 'data.csv').write_text(content)
  with pytest.raises(DataError, match=reason):
    _run(csv_example_gen.Executor, folder, tmp_path / 'out',
         schema_file=schema_file)


def test_bytes_that_are_not_utf8_name_file_line_and_column(tmp_path):
  folder = tmp_path / 'csv'
  folder.mkdir()
  (folder / 'data.csv').write_bytes(b'id,name\n1,ok\n2,caf\xe9\n')
  with pytest.raises(DataError,
                     match='data.csv line 3, column name: not UTF-8 text'):
    _run(csv_example_gen.Executor, folder, tmp_path / 'out')
