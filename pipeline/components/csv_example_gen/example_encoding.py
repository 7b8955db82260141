"""Arrow columns -> serialized tf.Examples, whole columns at a time.

Writes the protobuf wire format with Arrow compute kernels and numpy instead
of building one message per row in Python: every field of a tf.Example is
length-delimited (tag, varint length, payload), so each level of the message
is one vectorized step over all rows. The output is what
`tf.train.Example.SerializeToString(deterministic=True)` gives, feature keys
sorted, which the tests check against TFX's CsvExampleGen.
"""

import enum
from typing import Dict

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


class ColumnType(enum.IntEnum):
  """Ordered so that the type of a column is the max over its blocks."""
  EMPTY = 0  # no value anywhere: a feature without a type
  INT = 1
  FLOAT = 2
  BYTES = 3


# Field numbers in tf.train.Feature: bytes_list 1, float_list 2, int64_list 3.
_FEATURE_TAGS = {ColumnType.BYTES: 0x0A, ColumnType.FLOAT: 0x12,
                 ColumnType.INT: 0x1A}
# Every other field written here is field 1 or 2, wire type 2
# (length-delimited): Example.features, Features.feature (a map entry), the
# entry's key, each list's values; and the entry's value.
_FIELD_1 = 0x0A
_FIELD_2 = 0x12


def _binary(data: np.ndarray, lengths: np.ndarray) -> pa.Array:
  """Concatenated bytes and each row's length -> a binary array."""
  offsets = np.zeros(len(lengths) + 1, dtype=np.int32)
  np.cumsum(lengths, out=offsets[1:])
  return pa.Array.from_buffers(
      pa.binary(), len(lengths),
      [None, pa.py_buffer(offsets), pa.py_buffer(data)])


def _varints(values: np.ndarray) -> pa.Array:
  """Each unsigned 64-bit value as a protobuf varint.

  7 bits per byte, low bits first, the high bit set on every byte but the
  last.
  """
  rest = values.astype(np.uint64)
  groups = [rest & np.uint64(0x7F)]
  lengths = np.ones(len(rest), dtype=np.int32)
  rest = rest >> np.uint64(7)
  while rest.any():  # one more byte for the values that need it
    more = rest != 0
    groups[-1] |= more.astype(np.uint64) << np.uint64(7)
    lengths += more
    groups.append(rest & np.uint64(0x7F))
    rest >>= np.uint64(7)
  encoded = np.stack(groups, axis=1).astype(np.uint8)
  return _binary(encoded[np.arange(len(groups)) < lengths[:, None]], lengths)


def _length_delimited(tag: int, payload: pa.Array) -> pa.Array:
  """One protobuf field per row: its tag, the payload's length, the payload."""
  lengths = pc.binary_length(payload).to_numpy(zero_copy_only=False)
  return pc.binary_join_element_wise(
      bytes([tag]), _varints(lengths), payload, b'')


def _values(column: pa.Array, column_type: ColumnType) -> pa.Array:
  """The wire bytes of each row's value (anything for a null)."""
  if column_type == ColumnType.BYTES:
    return column.cast(pa.binary()).fill_null(b'')
  if column_type == ColumnType.INT:
    # Negative int64s are varints of their two's complement, 10 bytes.
    ints = column.cast(pa.int64()).fill_null(0).to_numpy(zero_copy_only=False)
    return _varints(ints.view(np.uint64))
  floats = column.cast(pa.float32()).fill_null(0).to_numpy(zero_copy_only=False)
  return _binary(floats.astype('<f4').view(np.uint8),
                 np.full(len(floats), 4, dtype=np.int32))


def _feature(column: pa.Array, column_type: ColumnType) -> pa.Array:
  """tf.train.Feature per row: a list of the cell's value, empty if null."""
  if column_type == ColumnType.EMPTY:
    return pa.array([b''] * len(column), pa.binary())
  # One value: a packed number list and a bytes list look alike on the wire.
  value_list = pc.if_else(column.is_valid(),
                          _length_delimited(_FIELD_1,
                                            _values(column, column_type)),
                          b'')
  return _length_delimited(_FEATURE_TAGS[column_type], value_list)


def encode(block: pa.RecordBatch,
           types: Dict[str, ColumnType]) -> pa.Array:
  """Serializes a block of rows as tf.Examples.

  Args:
    block: string columns, an empty cell as null.
    types: column name -> the type the column is encoded as.

  Returns:
    One serialized tf.Example per row, feature keys sorted.
  """
  entries = []
  for name in sorted(block.schema.names, key=str.encode):
    key = name.encode()
    key_field = bytes([_FIELD_1]) + _varints(np.array([len(key)]))[0].as_py()
    entry = pc.binary_join_element_wise(
        key_field + key,
        _length_delimited(_FIELD_2, _feature(block.column(name), types[name])),
        b'')
    entries.append(_length_delimited(_FIELD_1, entry))
  features = pc.binary_join_element_wise(*entries, b'')
  return _length_delimited(_FIELD_1, features)
