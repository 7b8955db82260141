"""A local gRPC stand-in for the Vertex AI API calls VertexDeploy makes.

It serves google.cloud.aiplatform.v1's ModelService (GetModel, UploadModel)
and EndpointService (ListEndpoints, CreateEndpoint, DeployModel,
UndeployModel) in memory, on 127.0.0.1, over real gRPC: requests and
answers go through aiplatform_v1's own messages and the GAPIC clients'
transports, so every method path, field name and type on the wire is the
published API's. Each RPC follows the API reference (the field docs of
aiplatform_v1's messages, quoted where a rule comes from):

- a missing resource is NOT_FOUND; a malformed or missing required field
  is INVALID_ARGUMENT; a second model with the same ID, ALREADY_EXISTS;
- model versions count up from 1 under one model; "a default version alias
  will be created for the first version of the model, and there must be
  exactly one default version alias", so an alias given to a new version
  leaves the version that had it;
- DeployModel's traffic_split, when not empty, replaces the endpoint's;
  "0" names the model being deployed; the values "must add up to 100"; a
  model not in the split gets no traffic; an empty split leaves it as is;
- UndeployModel removes a deployed model "only if it doesn't have any
  traffic assigned to it" (else FAILED_PRECONDITION).

What it does not do: long-running operations come back done (no polling,
no Operations service); no authentication, quotas, IAM, regions' own
endpoints or serving; reads of the artifact, the image or the machine type
(any non-empty name is taken); list filters other than display name;
paging.
"""

from concurrent import futures
import itertools
import re
import threading
from typing import Dict, List

from google.cloud import aiplatform_v1
from google.cloud.aiplatform_v1.services.endpoint_service.transports import grpc as endpoint_grpc
from google.cloud.aiplatform_v1.services.model_service.transports import grpc as model_grpc
from google.longrunning import operations_pb2
from google.protobuf import any_pb2
import grpc

from pipeline.components.vertex_deploy.component import Clients

_LOCATION = re.compile(r'projects/[^/]+/locations/[^/]+')
_MODEL_ID = re.compile(r'[a-z_][a-z0-9_-]{0,62}')
_ALIAS = re.compile(r'[a-z][a-zA-Z0-9-]{0,126}[a-z0-9]')
_DISPLAY_NAME_FILTER = re.compile(r'(display_name|displayName)="([^"]*)"')
_DEFAULT = 'default'


class _Abort(Exception):

  def __init__(self, code: grpc.StatusCode, message: str):
    super().__init__(message)
    self.code = code


def _require(condition: bool, message: str,
             code=grpc.StatusCode.INVALID_ARGUMENT) -> None:
  if not condition:
    raise _Abort(code, message)


class FakeVertexAI:
  """The state and the RPCs; start() serves them."""

  def __init__(self):
    # model resource name -> its versions, oldest first
    self.models: Dict[str, List[aiplatform_v1.Model]] = {}
    self.endpoints: Dict[str, aiplatform_v1.Endpoint] = {}
    self.calls: List[str] = []
    self._ids = itertools.count(1)
    self._lock = threading.Lock()
    self._server = None
    self._channel = None

  # --- ModelService ---------------------------------------------------------
  def _version(self, name: str) -> aiplatform_v1.Model:
    """`<model>`, `<model>@<version id>` or `<model>@<alias>`."""
    model, _, wanted = name.partition('@')
    versions = self.models.get(model)
    _require(versions is not None, f'Model {model} not found',
             grpc.StatusCode.NOT_FOUND)
    wanted = wanted or _DEFAULT
    for version in versions:
      if wanted == version.version_id or wanted in version.version_aliases:
        return version
    raise _Abort(grpc.StatusCode.NOT_FOUND, f'Model {name} not found')

  def get_model(self, request: aiplatform_v1.GetModelRequest):
    return self._version(request.name)

  def upload_model(self, request: aiplatform_v1.UploadModelRequest):
    _require(_LOCATION.fullmatch(request.parent), f'parent {request.parent!r}')
    model = request.model
    _require(model.display_name, 'model.display_name is required')
    _require(model.artifact_uri.startswith('gs://'),
             f'model.artifact_uri {model.artifact_uri!r}: not in Cloud Storage')
    _require(model.container_spec.image_uri,
             'model.container_spec.image_uri is required')
    for alias in model.version_aliases:
      _require(_ALIAS.fullmatch(alias), f'version alias {alias!r}')
    if request.parent_model:
      name = request.parent_model
      _require(name in self.models, f'Model {name} not found',
               grpc.StatusCode.NOT_FOUND)
    else:
      model_id = request.model_id or str(next(self._ids))
      _require(_MODEL_ID.fullmatch(model_id), f'model_id {model_id!r}')
      name = f'{request.parent}/models/{model_id}'
      _require(name not in self.models, f'Model {name} already exists',
               grpc.StatusCode.ALREADY_EXISTS)
      self.models[name] = []
    versions = self.models[name]
    for version in versions:  # an alias names one version of a model
      version.version_aliases = [a for a in version.version_aliases
                                 if a not in model.version_aliases]
    stored = aiplatform_v1.Model(model, name=name,
                                 version_id=str(len(versions) + 1))
    if not versions and _DEFAULT not in stored.version_aliases:
      stored.version_aliases.append(_DEFAULT)
    versions.append(stored)
    return aiplatform_v1.UploadModelResponse(
        model=name, model_version_id=stored.version_id)

  # --- EndpointService ------------------------------------------------------
  def _endpoint(self, name: str) -> aiplatform_v1.Endpoint:
    _require(name in self.endpoints, f'Endpoint {name} not found',
             grpc.StatusCode.NOT_FOUND)
    return self.endpoints[name]

  def list_endpoints(self, request: aiplatform_v1.ListEndpointsRequest):
    _require(_LOCATION.fullmatch(request.parent), f'parent {request.parent!r}')
    wanted = _DISPLAY_NAME_FILTER.fullmatch(request.filter)
    _require(not request.filter or wanted,
             f'filter {request.filter!r}: the fake reads display_name only')
    return aiplatform_v1.ListEndpointsResponse(endpoints=[
        e for name, e in self.endpoints.items()
        if name.startswith(request.parent + '/')
        and (not wanted or e.display_name == wanted.group(2))])

  def create_endpoint(self, request: aiplatform_v1.CreateEndpointRequest):
    _require(_LOCATION.fullmatch(request.parent), f'parent {request.parent!r}')
    _require(request.endpoint.display_name,
             'endpoint.display_name is required')
    name = f'{request.parent}/endpoints/{next(self._ids)}'
    self.endpoints[name] = aiplatform_v1.Endpoint(request.endpoint, name=name)
    return self.endpoints[name]

  def deploy_model(self, request: aiplatform_v1.DeployModelRequest):
    endpoint = self._endpoint(request.endpoint)
    deployed = aiplatform_v1.DeployedModel(request.deployed_model)
    version = self._version(deployed.model)
    resources = deployed.dedicated_resources
    _require(resources.machine_spec.machine_type,
             'dedicated_resources.machine_spec.machine_type is required')
    _require(resources.min_replica_count >= 1,
             'dedicated_resources.min_replica_count must be at least 1')
    # 0: as many as the minimum.
    _require(resources.max_replica_count == 0 or
             resources.max_replica_count >= resources.min_replica_count,
             'dedicated_resources.max_replica_count is below the minimum')
    split = dict(request.traffic_split)
    known = {m.id for m in endpoint.deployed_models}
    if split:
      _require(sum(split.values()) == 100,
               f'traffic_split {split}: the percentages must add up to 100')
      unknown = set(split) - known - {'0'}
      _require(not unknown, f'traffic_split names no deployed model: '
               f'{sorted(unknown)}')
    deployed.id = str(next(self._ids))
    deployed.model_version_id = version.version_id
    endpoint.deployed_models.append(deployed)
    if split:
      endpoint.traffic_split.clear()
      endpoint.traffic_split.update(
          {deployed.id if k == '0' else k: v for k, v in split.items()})
    return aiplatform_v1.DeployModelResponse(deployed_model=deployed)

  def undeploy_model(self, request: aiplatform_v1.UndeployModelRequest):
    endpoint = self._endpoint(request.endpoint)
    ids = [m.id for m in endpoint.deployed_models]
    _require(request.deployed_model_id in ids,
             f'DeployedModel {request.deployed_model_id} not found',
             grpc.StatusCode.NOT_FOUND)
    if request.traffic_split:
      endpoint.traffic_split.clear()
      endpoint.traffic_split.update(dict(request.traffic_split))
    _require(not endpoint.traffic_split.get(request.deployed_model_id),
             f'DeployedModel {request.deployed_model_id} still has traffic',
             grpc.StatusCode.FAILED_PRECONDITION)
    del endpoint.deployed_models[ids.index(request.deployed_model_id)]
    if not endpoint.deployed_models:
      endpoint.traffic_split.clear()
    return aiplatform_v1.UndeployModelResponse()

  # --- serving --------------------------------------------------------------
  def _handler(self, method, request_type, response_type, operation: bool):
    """A gRPC method handler: decode, call under the lock, encode."""

    def handle(request, context):
      self.calls.append(method.__name__)
      try:
        with self._lock:
          answer = method(request)
      except _Abort as e:
        context.abort(e.code, str(e))
      if not operation:
        return answer
      packed = any_pb2.Any()
      packed.Pack(response_type.pb(answer))
      return operations_pb2.Operation(
          name=f'operations/{next(self._ids)}', done=True, response=packed)

    return grpc.unary_unary_rpc_method_handler(
        handle, request_deserializer=request_type.deserialize,
        response_serializer=(operations_pb2.Operation.SerializeToString
                             if operation else response_type.serialize))

  def start(self) -> Clients:
    """Serves on a free port; returns GAPIC clients connected to it."""
    v1 = aiplatform_v1
    services = {
        'ModelService': {
            'GetModel': (self.get_model, v1.GetModelRequest, v1.Model, False),
            'UploadModel': (self.upload_model, v1.UploadModelRequest,
                            v1.UploadModelResponse, True)},
        'EndpointService': {
            'ListEndpoints': (self.list_endpoints, v1.ListEndpointsRequest,
                              v1.ListEndpointsResponse, False),
            'CreateEndpoint': (self.create_endpoint, v1.CreateEndpointRequest,
                               v1.Endpoint, True),
            'DeployModel': (self.deploy_model, v1.DeployModelRequest,
                            v1.DeployModelResponse, True),
            'UndeployModel': (self.undeploy_model, v1.UndeployModelRequest,
                              v1.UndeployModelResponse, True)},
    }
    self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    for service, methods in services.items():
      self._server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler(
          f'google.cloud.aiplatform.v1.{service}',
          {name: self._handler(*spec) for name, spec in methods.items()})])
    port = self._server.add_insecure_port('127.0.0.1:0')
    self._server.start()
    self._channel = grpc.insecure_channel(f'127.0.0.1:{port}')
    return Clients(
        v1.ModelServiceClient(transport=model_grpc.ModelServiceGrpcTransport(
            channel=self._channel)),
        v1.EndpointServiceClient(
            transport=endpoint_grpc.EndpointServiceGrpcTransport(
                channel=self._channel)))

  def stop(self) -> None:
    self._channel.close()
    self._server.stop(grace=None)
