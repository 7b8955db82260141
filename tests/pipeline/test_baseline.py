"""The Evaluator's baseline on a local run: the served model.

As on a cluster (LatestPushedModel), never a blessed model that was not
pushed.
"""

from tfx.types import standard_artifacts

import helpers
from models import push_destination
from pipeline.components.baseline.strategy import PreviousBlessedModelStrategy


def _models_and_blessings(tmp_path, count):
  models, blessings = [], []
  for model_id in range(1, count + 1):
    models.append(helpers.artifact(standard_artifacts.Model,
                                   tmp_path / f'model-{model_id}', model_id))
    blessing = helpers.artifact(standard_artifacts.ModelBlessing,
                                tmp_path / f'blessing-{model_id}', 100 + model_id)
    blessing.set_int_custom_property('blessed', 1)
    blessing.set_int_custom_property('current_model_id', model_id)
    blessings.append(blessing)
  return models, blessings


def _push(tmp_path, destination, model):
  saved = tmp_path / 'saved' / str(model.id)
  saved.mkdir(parents=True)
  (saved / 'saved_model.pb').write_bytes(b'graph')
  push_destination.publish(str(saved), str(destination),
                           record={'model': model.uri})


def _baseline(destination, models, blessings, candidate):
  resolved = PreviousBlessedModelStrategy(str(destination)).resolve_artifacts(
      None, {'model': models, 'model_blessing': blessings,
             'candidate': [candidate]})
  return [m.id for m in resolved['model']]


def test_the_served_model_is_the_baseline_even_when_newer_are_blessed(tmp_path):
  models, blessings = _models_and_blessings(tmp_path, 3)
  destination = tmp_path / 'serving'
  _push(tmp_path, destination, models[0])  # 2 was blessed, not pushed
  assert _baseline(destination, models, blessings, models[2]) == [1]


def test_a_blessed_model_never_pushed_is_no_baseline(tmp_path):
  models, blessings = _models_and_blessings(tmp_path, 2)
  destination = tmp_path / 'serving'
  assert _baseline(destination, models, blessings, models[1]) == []


def test_a_model_is_not_its_own_baseline(tmp_path):
  models, blessings = _models_and_blessings(tmp_path, 1)
  destination = tmp_path / 'serving'
  _push(tmp_path, destination, models[0])
  assert _baseline(destination, models, blessings, models[0]) == []
