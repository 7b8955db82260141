"""VertexDeploy against a local Vertex AI API (tests/fakes/vertex_ai_server.py).

The step's own GAPIC clients talk gRPC to the stand-in, which keeps the
registry's models and versions and the endpoints' deployed models and
traffic, and refuses what the API reference says Vertex AI refuses.
"""

import dataclasses

from google.api_core import exceptions
from google.auth import credentials as ga_credentials
from google.cloud import aiplatform_v1
import pytest
from tfx.types import standard_artifacts

from fakes.vertex_ai_server import FakeVertexAI
from pipeline.components.vertex_deploy import component
from pipeline.components.vertex_deploy.settings import DeploySettings
from pipeline.components.vertex_deploy.settings import TF2_CPU_IMAGE

SETTINGS = DeploySettings(project='my-gcp-project', region='europe-west4')
MODEL = 'projects/my-gcp-project/locations/europe-west4/models/taxi-tips'
DESTINATION = 'gs://bucket/serving_model/taxi-tips'


@pytest.fixture
def vertex():
  """(the stand-in's state, clients connected to it)."""
  fake = FakeVertexAI()
  clients = fake.start()
  yield fake, clients
  fake.stop()


def _pushed(version) -> standard_artifacts.PushedModel:
  """The Pusher's output: pushed version `version`, or nothing if None."""
  pushed = standard_artifacts.PushedModel()
  pushed.set_int_custom_property('pushed', int(version is not None))
  if version is not None:
    pushed.set_string_custom_property('pushed_destination',
                                      f'{DESTINATION}/{version}')
    pushed.set_string_custom_property('pushed_version', str(version))
  return pushed


def _deploy(pushed, clients):
  return component.deploy_pushed(pushed, SETTINGS, lambda _: clients)


def _served(fake) -> dict:
  """Endpoint display name -> {model version id: traffic %} deployed."""
  return {e.display_name: {
      m.model_version_id: e.traffic_split.get(m.id, 0)
      for m in e.deployed_models} for e in fake.endpoints.values()}


def test_first_push_registers_the_model_and_serves_it(vertex):
  fake, clients = vertex
  deployment = _deploy(_pushed(1001), clients)
  [version] = fake.models[MODEL]
  assert (version.version_id, list(version.version_aliases)) == (
      '1', ['default'])
  assert version.artifact_uri == f'{DESTINATION}/1001'
  assert version.container_spec.image_uri == TF2_CPU_IMAGE
  assert 'pushed version 1001' in version.version_description
  assert _served(fake) == {'taxi-tips': {'1': 100}}
  [endpoint] = fake.endpoints.values()
  [deployed] = endpoint.deployed_models
  assert deployed.dedicated_resources.machine_spec.machine_type == (
      SETTINGS.machine_type)
  assert (deployment.endpoint, deployment.previous_id) == (endpoint.name, None)


def test_second_push_serves_version_2_and_keeps_version_1_at_no_traffic(
    vertex):
  fake, clients = vertex
  first = _deploy(_pushed(1001), clients)
  second = _deploy(_pushed(1002), clients)
  versions = fake.models[MODEL]
  assert [(v.version_id, list(v.version_aliases)) for v in versions] == [
      ('1', []), ('2', ['default'])]
  assert [v.artifact_uri for v in versions] == [
      f'{DESTINATION}/1001', f'{DESTINATION}/1002']
  # One endpoint; rolling back is giving version 1's deployed model 100%.
  assert _served(fake) == {'taxi-tips': {'1': 0, '2': 100}}
  assert second.previous_id == first.deployed_model_id
  assert second.endpoint == first.endpoint


def test_a_third_push_undeploys_all_but_the_previous(vertex):
  fake, clients = vertex
  first = _deploy(_pushed(1001), clients)
  _deploy(_pushed(1002), clients)
  third = _deploy(_pushed(1003), clients)
  assert _served(fake) == {'taxi-tips': {'2': 0, '3': 100}}
  assert third.undeployed == (first.deployed_model_id,)
  # The registry keeps every version.
  assert [v.version_id for v in fake.models[MODEL]] == ['1', '2', '3']


def test_a_run_that_pushed_nothing_changes_nothing(vertex):
  fake, clients = vertex
  _deploy(_pushed(1001), clients)
  before = (_served(fake), len(fake.models[MODEL]), len(fake.calls))
  assert _deploy(_pushed(None), clients) is None
  assert (_served(fake), len(fake.models[MODEL]), len(fake.calls)) == before


def test_the_endpoint_is_found_by_its_display_name(vertex):
  fake, clients = vertex
  for name in ('other', 'taxi-tips'):
    clients.endpoints.create_endpoint(
        parent=SETTINGS.location,
        endpoint=aiplatform_v1.Endpoint(display_name=name)).result()
  _deploy(_pushed(1001), clients)
  assert _served(fake) == {'other': {}, 'taxi-tips': {'1': 100}}


def test_two_endpoints_of_that_name_are_one_clear_error(vertex):
  fake, clients = vertex
  for _ in range(2):
    clients.endpoints.create_endpoint(
        parent=SETTINGS.location,
        endpoint=aiplatform_v1.Endpoint(display_name='taxi-tips')).result()
  with pytest.raises(RuntimeError, match="2 endpoints .* are named "
                     "'taxi-tips'"):
    _deploy(_pushed(1001), clients)
  assert not fake.models  # no version registered that could not serve


@pytest.mark.parametrize('change, named', [
    ({'project': ''}, "project=''"),
    ({'region': 'US Central'}, "region='US Central'"),
    ({'model_id': '1-taxi'}, "model_id='1-taxi'"),
    ({'endpoint_display_name': ''}, 'endpoint_display_name is empty'),
    ({'min_replicas': 2, 'max_replicas': 1}, 'min_replicas=2, max_replicas=1'),
])
def test_a_bad_setting_is_one_error_naming_it(change, named):
  with pytest.raises(ValueError, match='Vertex AI deploy settings: ') as e:
    dataclasses.replace(SETTINGS, **change)
  assert named in str(e.value)
  assert ';' not in str(e.value)  # one problem, one message


def test_settings_travel_as_json():
  assert DeploySettings.from_json(SETTINGS.to_json()) == SETTINGS


def test_the_clients_call_the_regions_api():
  clients = component.regional_clients(
      SETTINGS, credentials=ga_credentials.AnonymousCredentials())
  for client in (clients.models, clients.endpoints):
    assert client.api_endpoint == 'europe-west4-aiplatform.googleapis.com'


def _deploy_to(clients, endpoint, **fields):
  return clients.endpoints.deploy_model(request=aiplatform_v1.DeployModelRequest(
      endpoint=endpoint, deployed_model=aiplatform_v1.DeployedModel(
          model=MODEL, dedicated_resources=aiplatform_v1.DedicatedResources(
              machine_spec=aiplatform_v1.MachineSpec(
                  machine_type='n1-standard-2'), min_replica_count=1)),
      **fields)).result()


def test_the_stand_in_refuses_what_vertex_ai_refuses(vertex):
  fake, clients = vertex
  _deploy(_pushed(1001), clients)
  [endpoint] = fake.endpoints
  with pytest.raises(exceptions.NotFound):
    _deploy_to(clients, f'{SETTINGS.location}/endpoints/999')
  with pytest.raises(exceptions.InvalidArgument, match='add up to 100'):
    _deploy_to(clients, endpoint, traffic_split={'0': 50})
  with pytest.raises(exceptions.NotFound):
    clients.models.upload_model(request=aiplatform_v1.UploadModelRequest(
        parent=SETTINGS.location, parent_model=MODEL + '-other',
        model=aiplatform_v1.Model(display_name='x', artifact_uri='gs://b/1',
                                  container_spec={'image_uri': 'i'})))
  with pytest.raises(exceptions.InvalidArgument, match='Cloud Storage'):
    clients.models.upload_model(
        parent=SETTINGS.location,
        model=aiplatform_v1.Model(display_name='x', artifact_uri='/tmp/1',
                                  container_spec={'image_uri': 'i'}))
  [serving] = fake.endpoints[endpoint].deployed_models
  with pytest.raises(exceptions.FailedPrecondition, match='still has traffic'):
    clients.endpoints.undeploy_model(endpoint=endpoint,
                                     deployed_model_id=serving.id).result()
  assert _served(fake) == {'taxi-tips': {'1': 100}}
