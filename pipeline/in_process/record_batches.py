"""An Examples split read in the step's own process (the steps without Beam).

Each example is read once, in order, one Arrow record batch at a time.
"""

from typing import Iterator

import pyarrow as pa
from tfx_bsl.tfxio import dataset_options
from tfx_bsl.tfxio import tfxio

# Examples decoded into one record batch at a time.
BATCH_ROWS = 8192


def read_once(split: tfxio.TFXIO,
              batch_rows: int = BATCH_ROWS) -> Iterator[pa.RecordBatch]:
  """The split's record batches.

  Args:
    split: the split's TFXIO (tfxio_utils.get_split_tfxio).
    batch_rows: the most examples in a record batch.

  Returns:
    An iterator over record batches of up to batch_rows examples.
  """
  return split.RecordBatches(dataset_options.RecordBatchesOptions(
      batch_size=batch_rows, num_epochs=1, shuffle=False))
