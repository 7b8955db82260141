"""A pushed model as a model server sees it: loaded in a fresh process from
its files alone, each signature queried, latency measured.

    python -m pipeline.components.serving_check.probe
    < ["MODEL_DIR", "EXAMPLES", "OUT", "EXAMPLES_SIGNATURE",
       "FIELDS_SIGNATURE", "OUTPUT_KEY"]

The arguments come as one JSON line on stdin, so the process can be started
(and TensorFlow imported) before the model exists; it exits without one if
stdin closes first. EXAMPLES is a TFRecord file of serialized tf.Examples;
OUT gets JSON: each signature's predictions for them and its latencies.
EXAMPLES_SIGNATURE takes serialized tf.Examples, FIELDS_SIGNATURE each
feature's CSV field text (models/signatures.py). Imports TensorFlow only, as
a serving process would, none of the pipeline's code, and no Keras: a model
server has none.
"""

import json
import os
import statistics
import sys
import time

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
# None in sys.modules makes every import of a package fail, and TensorFlow
# treats its optional Keras as not installed. Keras would also be a large
# share of this process's memory (docs/benchmarks.md).
for _keras in ('keras', 'tf_keras'):
  sys.modules[_keras] = None
import tensorflow as tf  # pylint: disable=g-import-not-at-top

SINGLE_ROW_CALLS = 50
BATCH_CALLS = 10


def _raw_fields(serialized, keys):
  """tf.Examples -> each feature's CSV field text, as a client sends it."""
  fields = {k: [] for k in keys}
  for record in serialized:
    feature = tf.train.Example.FromString(record).features.feature
    for key in keys:
      kind = feature[key].WhichOneof('kind') if key in feature else None
      values = list(getattr(feature[key], kind).value) if kind else []
      if not values:
        fields[key].append('')
      elif kind == 'bytes_list':
        fields[key].append(values[0].decode())
      elif kind == 'float_list':  # float32 -> the shortest exact text
        fields[key].append(repr(float(values[0])))
      else:
        fields[key].append(str(values[0]))
  return fields


def _latency(call, requests: int) -> list:
  call()  # the first call traces and allocates
  seconds = []
  for _ in range(requests):
    started = time.perf_counter()
    call()
    seconds.append(time.perf_counter() - started)
  return seconds


def _summary(seconds: list, rows: int) -> dict:
  ordered = sorted(seconds)
  return {'p50_ms': 1000 * statistics.median(ordered),
          'p99_ms': 1000 * ordered[min(len(ordered) - 1,
                                       int(0.99 * len(ordered)))],
          'rows_per_second': rows * len(ordered) / sum(ordered)}


def probe(model_dir: str, examples_file: str, examples_signature: str,
          fields_signature: str, output_key: str) -> dict:
  """Each signature's predictions for the examples, and its latencies."""
  serialized = [r.numpy() for r in tf.data.TFRecordDataset(examples_file)]
  signatures = tf.saved_model.load(model_dir, tags=['serve']).signatures
  from_fields = signatures[fields_signature]
  fields = _raw_fields(serialized,
                       sorted(from_fields.structured_input_signature[1]))

  def examples_request(rows):
    return signatures[examples_signature](
        examples=tf.constant(serialized[:rows]))

  def fields_request(rows):
    return from_fields(**{k: tf.constant(v[:rows]) for k, v in fields.items()})

  found = {'predictions': {}, 'latency': {}}
  for name, request in ((examples_signature, examples_request),
                        (fields_signature, fields_request)):
    found['predictions'][name] = (
        request(len(serialized))[output_key].numpy().ravel().tolist())
    found['latency'][name] = {
        '1 row': _summary(_latency(lambda r=request: r(1), SINGLE_ROW_CALLS),
                          1),
        f'{len(serialized)} rows': _summary(
            _latency(lambda r=request: r(len(serialized)), BATCH_CALLS),
            len(serialized)),
    }
  return found


if __name__ == '__main__':
  arguments = sys.stdin.readline()
  if arguments:
    model, examples, out, *names = json.loads(arguments)
    with open(out, 'w') as f:
      json.dump(probe(model, examples, *names), f)
    # The check waits for this process to end, and the interpreter's
    # teardown of TensorFlow and the loaded model does nothing for it.
    sys.stderr.flush()
    os._exit(0)  # pylint: disable=protected-access
