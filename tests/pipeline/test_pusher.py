"""The Pusher and the push destination on real SavedModels.

No duplicate versions, no partial ones, and nothing pushed that is not
blessed.
"""

from pathlib import Path

import pytest
import tensorflow as tf
from tfx.dsl.io import fileio
from tfx.dsl.io.plugins import local
from tfx.proto import pusher_pb2
from tfx.types import standard_artifacts
from tfx.types import standard_component_specs as specs
from tfx.utils import proto_utils

from models import push_destination
from pipeline.components.pusher import executor


def _saved_model(path: Path, value: float) -> Path:
  """A small real SavedModel; a different value makes a different model."""
  module = tf.Module()
  module.weight = tf.Variable(value)
  module.predict = tf.function(lambda x: x * module.weight,
                               input_signature=[tf.TensorSpec([], tf.float32)])
  tf.saved_model.save(module, str(path))
  return path


@pytest.fixture(scope='module')
def models(tmp_path_factory):
  """Two Model artifacts holding different SavedModels."""
  root = tmp_path_factory.mktemp('models')
  artifacts = []
  for i, value in enumerate((1., 2.)):
    model = standard_artifacts.Model()
    model.uri = str(root / f'model{i}')
    _saved_model(Path(model.uri) / 'Format-Serving', value)
    artifacts.append(model)
  return artifacts


def _push(model, destination: Path, tmp_path: Path, blessed: int = 1,
          serves: int = 1):
  """Runs the Pusher's executor; returns its PushedModel artifact.

  It is given the Evaluator's blessing and the serving check's verdict.
  """
  blessing = standard_artifacts.ModelBlessing()
  blessing.uri = str(tmp_path / 'blessing')
  blessing.set_int_custom_property('blessed', blessed)
  serving_check = standard_artifacts.InfraBlessing()
  serving_check.uri = str(tmp_path / 'serving_check')
  serving_check.set_int_custom_property('blessed', serves)
  pushed = standard_artifacts.PushedModel()
  pushed.uri = str(tmp_path / f'pushed-{len(list(tmp_path.iterdir()))}')
  fileio.makedirs(pushed.uri)
  executor.Executor().Do(
      {specs.MODEL_KEY: [model], specs.MODEL_BLESSING_KEY: [blessing],
       specs.INFRA_BLESSING_KEY: [serving_check]},
      {specs.PUSHED_MODEL_KEY: [pushed]},
      {specs.PUSH_DESTINATION_KEY: proto_utils.proto_to_json(
          pusher_pb2.PushDestination(
              filesystem={'base_directory': str(destination)}))})
  return pushed


def _versions(destination: Path) -> list:
  return sorted(p.name for p in destination.iterdir())


def test_a_blessed_model_is_pushed_whole(models, tmp_path):
  destination = tmp_path / 'serving'
  pushed = _push(models[0], destination, tmp_path)
  [version] = _versions(destination)
  assert version.isdigit()
  assert pushed.get_int_custom_property('pushed') == 1
  assert pushed.get_string_custom_property('pushed_destination') == str(
      destination / version)
  loaded = tf.saved_model.load(str(destination / version))
  assert float(loaded.predict(tf.constant(3.))) == 3.


def test_the_serving_model_is_not_pushed_again_a_different_one_is(
    models, tmp_path):
  destination = tmp_path / 'serving'
  _push(models[0], destination, tmp_path)
  again = _push(models[0], destination, tmp_path)
  assert again.get_int_custom_property('pushed') == 0
  assert len(_versions(destination)) == 1
  other = _push(models[1], destination, tmp_path)
  assert other.get_int_custom_property('pushed') == 1
  first, second = _versions(destination)
  assert int(second) > int(first)  # newer, even within the same second


def test_a_model_that_is_not_blessed_is_not_pushed(models, tmp_path):
  destination = tmp_path / 'serving'
  pushed = _push(models[0], destination, tmp_path, blessed=0)
  assert pushed.get_int_custom_property('pushed') == 0
  assert not destination.exists()


def test_a_model_that_failed_the_serving_check_is_not_pushed(models,
                                                             tmp_path):
  destination = tmp_path / 'serving'
  pushed = _push(models[0], destination, tmp_path, serves=0)
  assert pushed.get_int_custom_property('pushed') == 0
  assert not destination.exists()


def test_a_pushed_version_carries_its_record(models, tmp_path):
  destination = tmp_path / 'serving'
  pushed = _push(models[0], destination, tmp_path)
  version = pushed.get_string_custom_property('pushed_destination')
  record = push_destination.version_record(version)
  assert record['version'] == int(Path(version).name)
  assert record['model'] == models[0].uri
  assert record['pushed_at'].endswith('Z')


def test_a_partial_version_is_never_the_newest_model(models, tmp_path):
  destination = tmp_path / 'serving'
  _push(models[0], destination, tmp_path)
  [complete] = _versions(destination)
  # What a crash in the middle of a copy leaves: a higher number, no
  # saved_model.pb; here holding the very model that serves.
  partial = destination / str(int(complete) + 100)
  serving_copy = Path(models[0].uri) / 'Format-Serving'
  partial.mkdir()
  (partial / 'fingerprint.pb').write_bytes(
      (serving_copy / 'fingerprint.pb').read_bytes())
  assert push_destination.latest_version_dir(str(destination)) == str(
      destination / complete)
  # The same model is still recognised as serving, beside the partial folder.
  assert _push(models[0], destination, tmp_path).get_int_custom_property(
      'pushed') == 0
  assert _push(models[1], destination, tmp_path).get_int_custom_property(
      'pushed') == 1


def test_a_crash_before_the_rename_leaves_no_version(models, tmp_path,
                                                     monkeypatch):
  destination = tmp_path / 'serving'
  _push(models[0], destination, tmp_path)
  [before] = _versions(destination)

  def crash(*_):
    raise KeyboardInterrupt('killed while publishing')

  # The rename that publishes a local version.
  monkeypatch.setattr(local.LocalFilesystem, 'rename', staticmethod(crash))
  with pytest.raises(KeyboardInterrupt):
    _push(models[1], destination, tmp_path)
  assert push_destination.latest_version_dir(str(destination)) == str(
      destination / before)
  assert [v for v in _versions(destination) if v.isdigit()] == [before]
  monkeypatch.undo()
  [staged] = [v for v in _versions(destination) if not v.isdigit()]
  (destination / staged).rename(destination / '.incomplete-1')  # any version
  # The next push cleans up the staged copy and publishes.
  assert _push(models[1], destination, tmp_path).get_int_custom_property(
      'pushed') == 1
  assert all(v.isdigit() for v in _versions(destination))
