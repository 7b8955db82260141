"""A pushed model as a model server sees it: loaded, queried, timed.

It is loaded in a fresh process from its files alone, each signature
queried, latency measured.

    python -m pipeline.components.serving_check.probe
    < ["MODEL_DIR", "EXAMPLES", "OUT", "EXAMPLES_SIGNATURE",
       "FIELDS_SIGNATURE", "OUTPUT_KEY"]

The arguments come as one JSON line on stdin, so the process can be started
(and TensorFlow imported) before the model exists; it exits without one if
stdin closes first. EXAMPLES is a list of serialized tf.Examples, each
base64-encoded; OUT gets JSON: each signature's predictions for them and its
latencies. EXAMPLES_SIGNATURE takes serialized tf.Examples, FIELDS_SIGNATURE
each feature's CSV field text (models/signatures.py). Imports TensorFlow's
runtime and SavedModel loader only, as a serving process would: not its
Python API, none of the pipeline's code, and no Keras.
"""

import base64
import importlib.util
import json
import os
import statistics
import sys
import time

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')


def _tensorflow_runtime_only():
  """Makes `tensorflow` a bare package, plus what loading a model needs.

  It then does what the package's `__init__` does that loading and running
  a model depends on.

  That `__init__` imports TensorFlow's whole Python API, some 2,600 modules
  with Keras among them: twice the time and ~60 MB more than the runtime and
  the SavedModel loader imported below (docs/performance.md, "The probe
  loads TensorFlow's runtime only"). A model server
  has neither. What remains of the `__init__`: TF2 behaviour (eager
  execution, resource variables, control flow v2), set before any of
  TensorFlow's modules load as it sets it, and TensorFlow's dynamically
  loaded kernels. Keras cannot be imported at all (None in sys.modules).
  """
  spec = importlib.util.find_spec('tensorflow')
  sys.modules['tensorflow'] = importlib.util.module_from_spec(spec)
  for keras in ('keras', 'tf_keras'):
    sys.modules[keras] = None
  os.environ['TF2_BEHAVIOR'] = '1'
  # pylint: disable=g-import-not-at-top,g-direct-tensorflow-import
  from tensorflow.python.compat import v2_compat
  from tensorflow.python.framework import load_library
  # pylint: enable=g-import-not-at-top,g-direct-tensorflow-import
  v2_compat.enable_v2_behavior()
  kernels = os.path.join(os.path.dirname(spec.origin), 'core', 'kernels')
  if os.path.isdir(kernels):
    load_library.load_library(kernels)


_tensorflow_runtime_only()
# pylint: disable=g-import-not-at-top,g-direct-tensorflow-import
from tensorflow.core.example import example_pb2
from tensorflow.python.framework import constant_op
from tensorflow.python.saved_model import load as saved_model_load
# pylint: enable=g-import-not-at-top,g-direct-tensorflow-import

SINGLE_ROW_CALLS = 50
BATCH_CALLS = 10


def _raw_fields(serialized, keys):
  """tf.Examples -> each feature's CSV field text, as a client sends it."""
  fields = {k: [] for k in keys}
  for record in serialized:
    feature = example_pb2.Example.FromString(record).features.feature
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


def probe(model_dir: str, examples: list, examples_signature: str,
          fields_signature: str, output_key: str) -> dict:
  """Each signature's predictions for the examples, and its latencies."""
  serialized = [base64.b64decode(example) for example in examples]
  signatures = saved_model_load.load(model_dir, tags=['serve']).signatures
  from_fields = signatures[fields_signature]
  fields = _raw_fields(serialized,
                       sorted(from_fields.structured_input_signature[1]))

  def examples_request(rows):
    return signatures[examples_signature](
        examples=constant_op.constant(serialized[:rows]))

  def fields_request(rows):
    return from_fields(**{k: constant_op.constant(v[:rows])
                          for k, v in fields.items()})

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
    os._exit(0)
