"""Where and how the VertexDeploy step serves pushed models on Vertex AI.

The one place of the deploy step's tunables. The project and region come
from the cluster settings; cluster/compiler.py compiles them into the
Vertex AI package only, as the step's JSON parameter.
"""

import dataclasses
import json
import re

# Vertex AI's newest prebuilt TensorFlow prediction container: its list
# ("Prebuilt containers for inference and explanation") and
# google-cloud-aiplatform's constants/prediction.py end at TensorFlow 2.15.
# TensorFlow 2.15.1 loads our 2.16 SavedModels and answers as 2.16 does
# (docs/kubeflow.md, "Serve it on Vertex AI").
TF2_CPU_IMAGE = 'us-docker.pkg.dev/vertex-ai/prediction/tf2-cpu.2-15:latest'
# The alias Vertex AI serves a model by when no version is named.
DEFAULT_ALIAS = 'default'
# How long to wait for each of Vertex AI's long-running operations.
OPERATION_TIMEOUT_SECONDS = 1800

# Vertex AI's formats: a region (`us-central1`), a Model ID
# (UploadModelRequest.model_id) and a Google Cloud project ID.
_REGION = re.compile(r'[a-z]+(-[a-z]+)+[0-9]+')
_MODEL_ID = re.compile(r'[a-z_][a-z0-9_-]{0,62}')
_PROJECT = re.compile(r'[a-z][a-z0-9-]{4,28}[a-z0-9]')


@dataclasses.dataclass(frozen=True)
class DeploySettings:
  """One Vertex AI Model Registry model and the endpoint that serves it."""
  project: str
  region: str
  # The registry model; each push becomes a new version of it.
  model_id: str = 'taxi-tips'
  # The endpoint, found by this display name, created if there is none.
  endpoint_display_name: str = 'taxi-tips'
  machine_type: str = 'n1-standard-2'
  min_replicas: int = 1
  max_replicas: int = 1
  serving_image: str = TF2_CPU_IMAGE

  def __post_init__(self):
    problems = []
    for name, pattern in (('project', _PROJECT), ('region', _REGION),
                          ('model_id', _MODEL_ID)):
      value = getattr(self, name)
      if not isinstance(value, str) or not pattern.fullmatch(value):
        problems.append(f'{name}={value!r}: expected {pattern.pattern}')
    for name in ('endpoint_display_name', 'machine_type', 'serving_image'):
      if not getattr(self, name):
        problems.append(f'{name} is empty')
    if not 1 <= self.min_replicas <= self.max_replicas:
      problems.append(
          f'min_replicas={self.min_replicas}, max_replicas='
          f'{self.max_replicas}: expected 1 <= min_replicas <= max_replicas')
    if problems:
      raise ValueError('Vertex AI deploy settings: ' + '; '.join(problems))

  @property
  def location(self) -> str:
    """The resource name of the project's region."""
    return f'projects/{self.project}/locations/{self.region}'

  @property
  def model_name(self) -> str:
    """The registry model's resource name."""
    return f'{self.location}/models/{self.model_id}'

  @property
  def api_endpoint(self) -> str:
    """The regional Vertex AI API host."""
    return f'{self.region}-aiplatform.googleapis.com'

  def to_json(self) -> str:
    return json.dumps(dataclasses.asdict(self), sort_keys=True)

  @classmethod
  def from_json(cls, text: str) -> 'DeploySettings':
    return cls(**json.loads(text))
