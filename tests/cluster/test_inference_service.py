"""The KServe InferenceService that `kubeflow_runner.py compile` writes.

Checked against KServe's published CRD schema (tests/fakes/kserve_crd.py).
"""

import copy

import pytest
import yaml

from cluster import inference_service
from cluster import settings as settings_lib
from fakes import kserve_crd
from pipeline import configs


@pytest.fixture(scope='module')
def written(kfp_env) -> dict:
  """The manifest written beside the compiled KFP package."""
  _, package = kfp_env
  return yaml.safe_load((package.parent / inference_service.FILE_NAME
                         ).read_text())


def test_it_serves_the_push_destination_with_tf_serving_2_16(written,
                                                             kfp_env):
  root, _ = kfp_env
  model = written['spec']['predictor']['model']
  assert model['storageUri'] == (
      f'{root}/storage/serving_model/{configs.PIPELINE_NAME}')
  assert model['modelFormat'] == {'name': 'tensorflow', 'version': '2'}
  assert (model['runtime'], model['runtimeVersion']) == (
      'kserve-tensorflow-serving', '2.16.1')
  # TF Serving names the model after the InferenceService: the path
  # `taxi-tips serve` answers.
  assert written['metadata']['name'] == configs.PIPELINE_NAME
  # It reads and polls the destination itself, as the service account that
  # may read it: every push is served without a new revision.
  assert f'--model_base_path={model["storageUri"]}' in model['args']
  assert written['spec']['predictor']['serviceAccountName'] == (
      f'{configs.PIPELINE_NAME}-serving')


def test_kserves_schema_accepts_it(written):
  assert kserve_crd.errors(written) == []
  default = inference_service.manifest(settings_lib.KubeflowSettings())
  assert default['spec']['predictor']['model']['storageUri'].startswith(
      'gs://')
  assert kserve_crd.errors(default) == []


@pytest.mark.parametrize('change, error', [
    (lambda m: m.update(spec={'predictor': {'model': {'modelFormat': {}}}}),
     "spec/predictor/model/modelFormat: 'name' is a required property"),
    (lambda m: m['spec']['predictor']['model'].update(runtimeVersion=2.16),
     'spec/predictor/model/runtimeVersion: 2.16 is not of type'),
    (lambda m: m['spec']['predictor']['model'].update(storageURI='gs://b'),
     '.spec.predictor.model.storageURI: unknown field'),
])
def test_the_schema_refuses_what_the_api_server_refuses(written, change,
                                                        error):
  broken = copy.deepcopy(written)
  change(broken)
  assert any(e.startswith(error) for e in kserve_crd.errors(broken)), (
      kserve_crd.errors(broken))
