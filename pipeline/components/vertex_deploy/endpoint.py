"""A model version deployed to one Vertex AI endpoint, the previous kept.

The new version takes all the traffic; the deployed model that had the most
traffic before stays deployed with none, so a rollback is one traffic
change. Any older deployed model is undeployed once the new one serves.
"""

import dataclasses
from typing import Optional

from google.cloud import aiplatform_v1

from pipeline.components.vertex_deploy.settings import DeploySettings
from pipeline.components.vertex_deploy.settings import OPERATION_TIMEOUT_SECONDS

# DeployModelRequest.traffic_split's key for the model being deployed.
_NEW = '0'


@dataclasses.dataclass(frozen=True)
class Deployment:
  endpoint: str  # the endpoint's resource name
  deployed_model_id: str  # the new version's, with 100% of the traffic
  previous_id: Optional[str]  # kept deployed with 0%; None on the first
  undeployed: tuple  # deployed model ids removed


def find_or_create(client: aiplatform_v1.EndpointServiceClient,
                   settings: DeploySettings) -> aiplatform_v1.Endpoint:
  """The endpoint named settings.endpoint_display_name, created if absent.

  Raises:
    RuntimeError: several endpoints have that display name.
  """
  found = list(client.list_endpoints(request=aiplatform_v1.ListEndpointsRequest(
      parent=settings.location,
      filter=f'display_name="{settings.endpoint_display_name}"')))
  if len(found) > 1:
    raise RuntimeError(
        f'{len(found)} endpoints in {settings.location} are named '
        f'{settings.endpoint_display_name!r} ({", ".join(e.name for e in found)}'
        '): rename or delete all but one')
  if found:
    return found[0]
  return client.create_endpoint(request=aiplatform_v1.CreateEndpointRequest(
      parent=settings.location,
      endpoint=aiplatform_v1.Endpoint(
          display_name=settings.endpoint_display_name))).result(
              timeout=OPERATION_TIMEOUT_SECONDS)


def deploy(client: aiplatform_v1.EndpointServiceClient,
           settings: DeploySettings, endpoint: aiplatform_v1.Endpoint,
           model_version: str) -> Deployment:
  """Serves model_version from the endpoint with all the traffic.

  Args:
    client: an EndpointServiceClient for settings.region.
    settings: the endpoint's machines.
    endpoint: the endpoint as find_or_create() found it.
    model_version: a model version's resource name (`<model>@<version>`).

  Returns:
    What was deployed, kept and undeployed.
  """
  split = dict(endpoint.traffic_split)
  previous = max(split, key=split.get) if any(split.values()) else None
  response = client.deploy_model(request=aiplatform_v1.DeployModelRequest(
      endpoint=endpoint.name,
      deployed_model=aiplatform_v1.DeployedModel(
          model=model_version,
          display_name=model_version.rsplit('/', 1)[-1],
          dedicated_resources=aiplatform_v1.DedicatedResources(
              machine_spec=aiplatform_v1.MachineSpec(
                  machine_type=settings.machine_type),
              min_replica_count=settings.min_replicas,
              max_replica_count=settings.max_replicas)),
      # Replaces the endpoint's split: a model it does not name gets none.
      traffic_split={_NEW: 100})).result(timeout=OPERATION_TIMEOUT_SECONDS)
  new_id = response.deployed_model.id
  # Each deployed model holds its replicas: keep only the new and the
  # previous. They serve no traffic now, so Vertex AI lets them go.
  older = tuple(m.id for m in endpoint.deployed_models
                if m.id not in (new_id, previous))
  for deployed_model_id in older:
    client.undeploy_model(request=aiplatform_v1.UndeployModelRequest(
        endpoint=endpoint.name, deployed_model_id=deployed_model_id)).result(
            timeout=OPERATION_TIMEOUT_SECONDS)
  return Deployment(endpoint.name, new_id, previous, older)
