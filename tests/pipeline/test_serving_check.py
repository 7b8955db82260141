"""The serving check on real SavedModels, passing and failing.

One whose two signatures agree passes with its latencies measured, one whose
raw signature answers otherwise or that cannot be loaded fails with the
reason.
"""

import json
import subprocess
import sys

import pytest
import tensorflow as tf

import helpers
from models import signatures
from models.model import PREDICTION_KEY
from pipeline import configs
from pipeline.components.serving_check import component as serving_check
from pipeline.components.serving_check import probe_process

FEATURES = ('fare', 'trip_miles')


def _save(path, raw_offset: float) -> str:
  """A model of fare and miles with both request signatures.

  Its raw signature adds raw_offset (0: the signatures agree).
  """
  spec = {k: tf.io.FixedLenFeature([1], tf.float32, 0.) for k in FEATURES}
  module = tf.Module()

  def score(fare, miles):
    return {PREDICTION_KEY: tf.sigmoid(0.1 * fare - 0.2 * miles)}

  @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
  def from_examples(examples):
    parsed = tf.io.parse_example(examples, spec)
    return score(parsed['fare'], parsed['trip_miles'])

  @tf.function(input_signature=[{
      k: tf.TensorSpec([None], tf.string, name=k) for k in FEATURES}])
  def from_fields(fields):
    number = {k: tf.strings.to_number(fields[k])[:, None] for k in FEATURES}
    answer = score(number['fare'], number['trip_miles'])
    return {PREDICTION_KEY: answer[PREDICTION_KEY] + raw_offset}

  module.from_examples, module.from_fields = from_examples, from_fields
  tf.saved_model.save(module, str(path), signatures={
      signatures.SERVING_DEFAULT: from_examples.get_concrete_function(),
      signatures.SERVING_RAW: from_fields.get_concrete_function()})
  return str(path)


@pytest.fixture(scope='module')
def rows(held_out_rows):
  spec = {k: tf.io.FixedLenFeature([1], tf.float32, 0.) for k in FEATURES}
  return [helpers.to_example({k: r[k] or '0' for k in FEATURES}, spec)
          for r in held_out_rows[:20]]


def test_a_model_whose_signatures_agree_passes(tmp_path, rows):
  result = serving_check.check(_save(tmp_path / 'good', 0.), rows)
  assert result['passed'], result['reason']
  assert result['reason'] == 'both signatures answer 20 eval rows as the ' \
      'Evaluator'
  assert set(result['max_difference']) == {signatures.SERVING_DEFAULT,
                                           signatures.SERVING_RAW}
  for latencies in result['latency'].values():
    assert set(latencies) == {'1 row', '20 rows'}
    assert 0 < latencies['1 row']['p50_ms'] <= latencies['1 row']['p99_ms']


def test_a_signature_that_answers_otherwise_fails(tmp_path, rows):
  result = serving_check.check(_save(tmp_path / 'skewed', 1e-3), rows)
  assert not result['passed']
  assert result['reason'].startswith(
      f"{signatures.SERVING_RAW} answers differ from the Evaluator's by up "
      'to 0.001')


def test_a_model_that_does_not_load_fails(tmp_path, rows):
  model = _save(tmp_path / 'model', 0.)
  (tmp_path / 'model' / 'saved_model.pb').write_bytes(b'not a model')
  result = serving_check.check(model, rows)
  assert not result['passed']
  # The fresh process loads it first, and says what it could not read.
  assert result['reason'].startswith(
      'loading and querying the model in a fresh process failed: ')
  assert 'saved_model.pb' in result['reason']


def test_a_probe_started_ahead_answers_for_the_model_saved_after(tmp_path,
                                                                  rows):
  probe = probe_process.prestart()
  model = _save(tmp_path / 'good', 0.)  # after the probe process started
  result = serving_check.check(model, rows)
  assert result['passed'], result['reason']
  assert probe.poll() == 0  # this process answered, then exited


def test_a_probe_started_ahead_that_died_is_replaced(tmp_path, rows):
  probe = probe_process.prestart()
  probe.kill()
  probe.wait()
  result = serving_check.check(_save(tmp_path / 'good', 0.), rows)
  assert result['passed'], result['reason']


def test_the_probe_process_has_tensorflows_runtime_without_its_api():
  found = json.loads(subprocess.run(
      [sys.executable, '-c', '''
import json, sys
from pipeline.components.serving_check import probe
from tensorflow.python.eager import context
try:
  import tf_keras
  keras = 'imported'
except ImportError:
  keras = 'refused'
print(json.dumps({
    'eager': context.executing_eagerly(),
    'api': [m for m in sys.modules if m.startswith('tensorflow._api')],
    'keras': keras,
}))
'''], cwd=configs.PROJECT_ROOT, check=True, capture_output=True,
      text=True).stdout.splitlines()[-1])
  assert found == {'eager': True, 'api': [], 'keras': 'refused'}
