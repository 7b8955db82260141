"""An edit under models/ must re-run Transform and Trainer, none before them.

The code is imported by name, so the cache only sees it through the
fingerprint in their parameters. The Pusher records it with each version
(it re-runs after a new Trainer output anyway).
"""

import json
import shutil

from pipeline import configs
from pipeline import nodes
from pipeline import pipeline as pipeline_lib


def _parameters(tmp_path) -> dict:
  """Node id -> its execution parameters, as the cache compares them."""
  tfx_pipeline = pipeline_lib.create_pipeline(
      pipeline_name=configs.PIPELINE_NAME,
      pipeline_root=str(tmp_path / 'root'),
      data_root=str(tmp_path / 'data'),
      serving_model_dir=str(tmp_path / 'serving'))
  return {
      node.id: {k: str(v) for k, v in node.exec_properties.items()}
      for node in tfx_pipeline.components if hasattr(node, 'exec_properties')
  }


def test_editing_model_code_changes_transform_trainer_and_the_record_only(
    tmp_path, monkeypatch):
  code = tmp_path / 'models'
  shutil.copytree(configs.MODEL_CODE_DIR, code,
                  ignore=shutil.ignore_patterns('__pycache__'))
  monkeypatch.setattr(configs, 'MODEL_CODE_DIR', code)
  before = _parameters(tmp_path)
  model_py = code / 'model.py'
  model_py.write_text(model_py.read_text() + '\n# an edit\n')
  after = _parameters(tmp_path)

  changed = {node for node in before if before[node] != after[node]}
  assert changed == {'Transform', 'Trainer', 'Pusher'}
  fingerprint = nodes.model_code_fingerprint()
  for node in changed:
    assert json.loads(after[node]['custom_config'])['code_fingerprint'] == (
        fingerprint), node
