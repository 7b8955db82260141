"""A pushed SavedModel as a new version of one Vertex AI Model Registry model.

Every request is a typed aiplatform_v1 message, so each field's name and
type are checked against the published API as the request is built.
"""

from google.api_core import exceptions
from google.cloud import aiplatform_v1

from pipeline.components.vertex_deploy.settings import DEFAULT_ALIAS
from pipeline.components.vertex_deploy.settings import DeploySettings
from pipeline.components.vertex_deploy.settings import OPERATION_TIMEOUT_SECONDS


def _registered(client: aiplatform_v1.ModelServiceClient,
                settings: DeploySettings) -> bool:
  """Whether the registry model exists."""
  try:
    client.get_model(request=aiplatform_v1.GetModelRequest(
        name=settings.model_name))
  except exceptions.NotFound:
    return False
  return True


def upload_version(client: aiplatform_v1.ModelServiceClient,
                   settings: DeploySettings, artifact_uri: str,
                   description: str) -> str:
  """Uploads a SavedModel as the registry model's new default version.

  The first upload creates the model (its ID settings.model_id); each later
  one adds a version under it. The `default` alias moves to the new
  version; earlier versions stay in the registry.

  Args:
    client: a ModelServiceClient for settings.region.
    settings: the registry model and the serving container.
    artifact_uri: the folder holding saved_model.pb.
    description: the version's description.

  Returns:
    The version's resource name, `<model>@<version id>`.
  """
  exists = _registered(client, settings)
  request = aiplatform_v1.UploadModelRequest(
      parent=settings.location,
      model=aiplatform_v1.Model(
          display_name=settings.model_id,
          version_description=description,
          version_aliases=[DEFAULT_ALIAS],
          artifact_uri=artifact_uri,
          container_spec=aiplatform_v1.ModelContainerSpec(
              image_uri=settings.serving_image)))
  if exists:
    request.parent_model = settings.model_name
  else:
    request.model_id = settings.model_id
  response = client.upload_model(request=request).result(
      timeout=OPERATION_TIMEOUT_SECONDS)
  return f'{response.model}@{response.model_version_id}'
