"""Serves each pushed model from a Vertex AI endpoint (Vertex AI runs only).

After the Pusher: a version it pushed is uploaded to the Vertex AI Model
Registry as the new default version of one model (model_registry.py), then
deployed to one endpoint with all the traffic, the version that served
before kept deployed with none (endpoint.py). A run that pushed nothing
changes nothing and calls no API. deploy_pushed() takes the maker of its
API clients, so that tests give it clients of their own.
"""

import dataclasses
from typing import Callable, Optional

from absl import logging
from tfx.dsl.component.experimental.annotations import InputArtifact
from tfx.dsl.component.experimental.annotations import Parameter
from tfx.dsl.component.experimental.decorators import component
from tfx.types import artifact
from tfx.types.standard_artifacts import PushedModel

from pipeline.components.vertex_deploy.settings import DeploySettings


@dataclasses.dataclass(frozen=True)
class Clients:
  """The two Vertex AI API clients the step calls."""
  models: object  # aiplatform_v1.ModelServiceClient
  endpoints: object  # aiplatform_v1.EndpointServiceClient


def regional_clients(settings: DeploySettings, credentials=None) -> Clients:
  """Clients of settings.region's API endpoint.

  Args:
    settings: the region.
    credentials: None: Application Default Credentials (the task's service
      account on Vertex AI).
  """
  from google.cloud import aiplatform_v1  # pylint: disable=g-import-not-at-top
  options = {'api_endpoint': settings.api_endpoint}
  return Clients(
      aiplatform_v1.ModelServiceClient(client_options=options,
                                       credentials=credentials),
      aiplatform_v1.EndpointServiceClient(client_options=options,
                                          credentials=credentials))


def deploy_pushed(
    pushed_model: artifact.Artifact, settings: DeploySettings,
    make_clients: Callable[[DeploySettings], Clients] = regional_clients,
) -> Optional['endpoint.Deployment']:
  """Uploads and deploys the version the Pusher pushed, if it pushed one.

  Args:
    pushed_model: the Pusher's PushedModel (`pushed`, `pushed_destination`:
      the version folder, `pushed_version`).
    settings: the registry model and the endpoint.
    make_clients: the Vertex AI API clients for settings, made only if
      there is something to deploy.

  Returns:
    The endpoint.Deployment, or None if nothing was pushed.
  """
  # Imported here: the local runner builds the DAG without Vertex AI's API.
  from pipeline.components.vertex_deploy import endpoint  # pylint: disable=g-import-not-at-top
  from pipeline.components.vertex_deploy import model_registry  # pylint: disable=g-import-not-at-top
  if pushed_model.get_int_custom_property('pushed') != 1:
    logging.info('Vertex AI deploy: the Pusher pushed no model; the endpoint '
                 'is left as it is.')
    return None
  clients = make_clients(settings)
  # The endpoint first: a version is registered only if it can be served.
  target = endpoint.find_or_create(clients.endpoints, settings)
  version_dir = pushed_model.get_string_custom_property('pushed_destination')
  model_version = model_registry.upload_version(
      clients.models, settings, version_dir,
      f'pushed version {pushed_model.get_string_custom_property("pushed_version")}'
      f' ({version_dir})')
  deployment = endpoint.deploy(clients.endpoints, settings, target,
                               model_version)
  logging.info('Vertex AI deploy: %s serves from %s as deployed model %s with '
               'all the traffic; deployed model %s kept with none; undeployed: '
               '%s.', model_version, deployment.endpoint,
               deployment.deployed_model_id, deployment.previous_id,
               ', '.join(deployment.undeployed) or 'none')
  return deployment


@component
def VertexDeploy(  # pylint: disable=invalid-name
    pushed_model: InputArtifact[PushedModel],
    settings: Parameter[str],
):
  """Serves the model the Pusher pushed from a Vertex AI endpoint.

  Args:
    pushed_model: the Pusher's output.
    settings: DeploySettings as JSON.
  """
  deploy_pushed(pushed_model, DeploySettings.from_json(settings))
