"""The serving check, run before every push on every target.

Will a model server load the trained model and answer as the Evaluator saw
it answer?

TFX's InfraValidator needs Docker or Kubernetes access from the step and
does not run on Kubeflow V2 or Vertex AI. This step needs neither: it loads
the model in a fresh process from its files alone, as TF Serving does
(probe.py), queries both request signatures with rows of the eval split, and
compares their answers with the model called as the Evaluator calls it (its
`serving_default`, in this step's process). It records each signature's
latency. Its InfraBlessing gates the Pusher with the Evaluator's blessing: a
failure means no push, with the reason in the artifact and the run report.
Like TFX's InfraValidator, it checks every trained model, whatever the
Evaluator decides: on a cluster beside it, locally after it, so that one
machine never holds both steps' models at once.
"""

import json
import os
import subprocess
import tempfile
from typing import Optional

from absl import logging
import numpy as np
import tensorflow as tf
from tfx.dsl.component.experimental.annotations import InputArtifact
from tfx.dsl.component.experimental.annotations import OutputArtifact
from tfx.dsl.component.experimental.annotations import Parameter
from tfx.dsl.component.experimental.decorators import component
from tfx.dsl.io import fileio
from tfx.types import artifact_utils
from tfx.types.standard_artifacts import Examples
from tfx.types.standard_artifacts import InfraBlessing
from tfx.types.standard_artifacts import Model
from tfx.utils import io_utils
from tfx.utils import path_utils

from models import signatures
from models.model import PREDICTION_KEY
from pipeline import configs
from pipeline.components.serving_check import probe_process

RESULT_FILE = 'serving_check.json'


def read_result(uri: str) -> Optional[dict]:
  """The verdict a serving check wrote under its InfraBlessing's uri.

  The check's dict, or None if there is none.
  """
  path = os.path.join(uri, RESULT_FILE)
  if not fileio.exists(path):
    return None
  return json.loads(io_utils.read_string_file(path))
_PROBE_OUTPUT = 'probe.json'


def _eval_rows(examples, rows: int) -> list:
  files = io_utils.all_files_pattern(
      artifact_utils.get_split_uri([examples], configs.EVAL_SPLIT))
  dataset = tf.data.TFRecordDataset(tf.io.gfile.glob(files), 'GZIP')
  return [record.numpy() for record in dataset.take(rows)]


def _start_probe(model_dir: str, rows: list,
                 workdir: str) -> subprocess.Popen:
  """probe.py on the rows, in a process of its own."""
  probe = probe_process.take()
  probe.stdin.write(probe_process.arguments(
      model_dir, rows, os.path.join(workdir, _PROBE_OUTPUT),
      signatures.SERVING_DEFAULT, signatures.SERVING_RAW, PREDICTION_KEY))
  probe.stdin.flush()
  return probe


def _probe_result(probe: subprocess.Popen, workdir: str) -> dict:
  """probe.py's findings.

  Raises:
    RuntimeError: it failed or timed out; the message has its last line.
  """
  try:
    _, stderr = probe.communicate(timeout=configs.SERVING_CHECK_TIMEOUT)
  except subprocess.TimeoutExpired:
    probe.kill()
    raise RuntimeError('loading and querying the model in a fresh process '
                       f'took over {configs.SERVING_CHECK_TIMEOUT} s') from None
  if probe.returncode:
    tail = stderr.strip().splitlines()[-1:] or ['no output']
    raise RuntimeError('loading and querying the model in a fresh process '
                       f'failed: {tail[0]}')
  with open(os.path.join(workdir, _PROBE_OUTPUT)) as f:
    return json.load(f)


def _first_line(error: Exception) -> str:
  return (str(error).strip().splitlines() or [type(error).__name__])[0]


def _failed(reason: str) -> dict:
  return {'passed': False, 'reason': reason, 'latency': {},
          'max_difference': {}}


def check(model_dir: str, rows: list) -> dict:
  """The serving check of one SavedModel.

  Args:
    model_dir: the SavedModel.
    rows: serialized tf.Examples (eval split) to query it with.

  Returns:
    {'passed': bool, 'reason': str, 'latency': probe.py's latencies,
     'max_difference': signature -> largest difference to the reference}.
  """
  with tempfile.TemporaryDirectory() as workdir:
    probe = _start_probe(model_dir, rows, workdir)
    try:
      found = _probe_result(probe, workdir)
    except RuntimeError as e:
      return _failed(str(e))
  # Loaded here only once the probe has exited: the two copies of the model
  # are never in memory at once.
  try:
    reference = tf.saved_model.load(model_dir).signatures[
        signatures.SERVING_DEFAULT](examples=tf.constant(rows))[
            PREDICTION_KEY].numpy().ravel()
  except (OSError, ValueError, KeyError, tf.errors.OpError) as e:
    return _failed(f'the model does not load: {_first_line(e)}')
  differences = {
      name: float(np.max(np.abs(np.array(answers) - reference)))
      for name, answers in found['predictions'].items()}
  off = {name: d for name, d in differences.items()
         if not d <= configs.SERVING_CHECK_TOLERANCE}
  reason = '; '.join(
      f'{name} answers differ from the Evaluator\'s by up to {d:.2g} '
      f'(allowed {configs.SERVING_CHECK_TOLERANCE:g})'
      for name, d in off.items())
  return {'passed': not off, 'reason': reason or
          f'both signatures answer {len(rows)} eval rows as the Evaluator',
          'latency': found['latency'], 'max_difference': differences}


@component
def ServingCheck(  # pylint: disable=invalid-name
    model: InputArtifact[Model],
    examples: InputArtifact[Examples],
    infra_blessing: OutputArtifact[InfraBlessing],
    rows: Parameter[int],
):
  """Checks that the trained model serves as it is evaluated.

  Args:
    model: the Trainer's model.
    examples: ExampleGen's examples (the eval split is used).
    infra_blessing: `blessed` 1 if the check passed; `reason` says why not;
      serving_check.json in it holds the figures.
    rows: how many eval rows to query with.
  """
  result = check(path_utils.serving_model_path(model.uri),
                 _eval_rows(examples, rows))
  io_utils.write_string_file(os.path.join(infra_blessing.uri, RESULT_FILE),
                             json.dumps(result, indent=1))
  infra_blessing.set_int_custom_property('blessed', int(result['passed']))
  infra_blessing.set_string_custom_property('reason', result['reason'])
  logging.info('Serving check: %s', result['reason'])
