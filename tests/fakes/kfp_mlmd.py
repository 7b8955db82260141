"""The open-source KFP 2 backend's ML Metadata client, on a real store.

The store is a real ML Metadata store (the `ml_metadata` package, SQLite).

Each function mirrors one Go function of kubeflow/pipelines
`backend/src/v2/metadata/` (read at 7b70c7b9, a master commit after 2.17.0;
the same in 2.17.0), named in its docstring. Artifacts cross as RuntimeArtifact
JSON (protobuf's JSON mapping), the form they have in an ExecutorInput.
"""

import json
from typing import Dict, List

from google.protobuf import json_format
from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2
import yaml

# metadata/client.go: the execution types the driver creates.
CONTAINER_EXECUTION = 'system.ContainerExecution'
# What the launcher records as `store_session_info` for a GCS root with the
# pod's own credentials: json.Marshal(objectstore.SessionInfo).
GCS_SESSION_INFO = json.dumps({'Provider': 'gs',
                               'Params': {'fromEnv': 'true'}},
                              separators=(',', ':'))


class MetadataError(RuntimeError):
  """An error the Go client returns (its message kept)."""


def _set_struct(value: metadata_store_pb2.Value, fields: dict) -> None:
  """Sets value to a struct, an empty one too.

  ML Metadata aborts the process on a value with no kind.
  """
  value.struct_value.SetInParent()
  value.struct_value.update(fields)


def struct_value_to_mlmd_value(value) -> metadata_store_pb2.Value:
  """converter.go StructValueToMLMDValue: a metadata value as it is stored.

  Strings stay strings; every number becomes a double, a bool an int 1/0;
  a list is stored as the struct {"list": [...]}, a struct as
  {"struct": {...}}; null is an error.
  """
  result = metadata_store_pb2.Value()
  if isinstance(value, str):
    result.string_value = value
  elif isinstance(value, bool):
    result.int_value = int(value)
  elif isinstance(value, (int, float)):
    result.double_value = float(value)
  elif isinstance(value, list):
    _set_struct(result, {'list': value})
  elif isinstance(value, dict):
    _set_struct(result, {'struct': value})
  else:
    raise MetadataError(
        f'unknown/unsupported value type {type(value).__name__}')
  return result


def to_mlmd_artifact(runtime_artifact: dict) -> metadata_store_pb2.Artifact:
  """converter.go toMLMDArtifact: a runtime artifact for ML Metadata.

  The URI, and each metadata field as a custom property, except
  `_kfp_workspace`.
  """
  artifact = metadata_store_pb2.Artifact(uri=runtime_artifact.get('uri', ''))
  for key, value in (runtime_artifact.get('metadata') or {}).items():
    if key == '_kfp_workspace':
      continue
    try:
      artifact.custom_properties[key].CopyFrom(
          struct_value_to_mlmd_value(value))
    except MetadataError as e:
      raise MetadataError('failed to convert RuntimeArtifact to MLMD '
                          f'artifact: {e}') from e
  return artifact


def _metadata_value(value: metadata_store_pb2.Value):
  kind = value.WhichOneof('value')
  if kind == 'string_value':
    return value.string_value
  if kind == 'double_value':
    return value.double_value
  if kind == 'int_value':
    return float(value.int_value)
  if kind == 'struct_value':
    return json_format.MessageToDict(value.struct_value)
  raise MetadataError('failed to convert MLMD artifact to RuntimeArtifact: '
                      f'unknown property type in MLMD artifact: {kind}')


def to_runtime_artifact(artifact: metadata_store_pb2.Artifact) -> dict:
  """converter.go toRuntimeArtifact: an artifact named by its ML Metadata id.

  Properties, then custom properties, as metadata, every number a double,
  structs as stored.
  """
  metadata = {}
  for properties in (artifact.properties, artifact.custom_properties):
    for key, value in properties.items():
      metadata[key] = _metadata_value(value)
  return {'name': str(artifact.id), 'uri': artifact.uri, 'metadata': metadata}


def schema_to_artifact_type(schema: str) -> metadata_store_pb2.ArtifactType:
  """client.go SchemaToArtifactType: the type named by the schema's title.

  Nothing else of the schema is kept.
  """
  title = (yaml.safe_load(schema) or {}).get('title', '')
  if not title:
    raise MetadataError(f'artifact schema {schema!r} has no title')
  return metadata_store_pb2.ArtifactType(name=title)


def artifact_schema(artifact_type: dict) -> str:
  """launcher_v2.go getArtifactSchema: an artifact type's schema.

  A schema title becomes `title: <title>`; an instance schema is taken as it
  is.
  """
  if 'schemaTitle' in artifact_type:
    return f'title: {artifact_type["schemaTitle"]}'
  if 'instanceSchema' in artifact_type:
    return artifact_type['instanceSchema']
  raise MetadataError(f'SchemaUri is unsupported: {artifact_type}')


class Client:
  """metadata/client.go's Client over one SQLite ML Metadata store."""

  def __init__(self, path: str):
    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = path
    config.sqlite.connection_mode = (
        metadata_store_pb2.SqliteMetadataSourceConfig.READWRITE_OPENCREATE)
    self.store = metadata_store.MetadataStore(config)

  def record_artifact(self, output_name: str, schema: str,
                      runtime_artifact: dict,
                      session_info: str = GCS_SESSION_INFO) -> dict:
    """client.go RecordArtifact: a LIVE artifact of the schema's type.

    It has `display_name` (the output's name) and `store_session_info`
    unless the metadata holds them.

    Returns:
      The artifact as recorded, read back (toRuntimeArtifact form).
    """
    artifact = to_mlmd_artifact(runtime_artifact)
    artifact.type_id = self.store.put_artifact_type(
        schema_to_artifact_type(schema))
    artifact.state = metadata_store_pb2.Artifact.LIVE
    if 'display_name' not in artifact.custom_properties:
      artifact.custom_properties['display_name'].string_value = output_name
    if 'store_session_info' not in artifact.custom_properties:
      artifact.custom_properties['store_session_info'].string_value = (
          session_info)
    [artifact_id] = self.store.put_artifacts([artifact])
    [stored] = self.store.get_artifacts_by_id([artifact_id])
    return to_runtime_artifact(stored)

  def create_execution(self, task_name: str, parameters: dict,
                       input_artifacts: Dict[str, List[dict]],
                       fingerprint: str) -> int:
    """client.go CreateExecution (with GenerateExecutionConfig) for a task.

    A RUNNING execution of the task, its input parameters as the `inputs`
    struct, one INPUT event per input artifact, keyed by the input's name,
    whose id is parsed from the artifact's name.
    """
    execution = metadata_store_pb2.Execution(
        type_id=self.store.put_execution_type(
            metadata_store_pb2.ExecutionType(name=CONTAINER_EXECUTION)),
        last_known_state=metadata_store_pb2.Execution.RUNNING)
    execution.custom_properties['task_name'].string_value = task_name
    _set_struct(execution.custom_properties['inputs'], parameters)
    if fingerprint:
      execution.custom_properties['cache_fingerprint'].string_value = (
          fingerprint)
    [execution_id] = self.store.put_executions([execution])
    events = []
    for key, artifacts in input_artifacts.items():
      for artifact in artifacts:
        try:
          artifact_id = int(artifact['name'])
        except ValueError as e:
          raise MetadataError('unable to parse input artifact id from '
                              f'{artifact["name"]!r}') from e
        event = metadata_store_pb2.Event(
            artifact_id=artifact_id, execution_id=execution_id,
            type=metadata_store_pb2.Event.INPUT)
        event.path.steps.add().key = key
        events.append(event)
    self.store.put_events(events)
    return execution_id

  def publish_execution(self, execution_id: int, state: str,
                        output_parameters: dict,
                        output_artifacts: Dict[str, dict]) -> None:
    """client.go PublishExecution: an execution's state and outputs.

    The state (COMPLETE, CACHED, FAILED), the output parameters as the
    `outputs` struct, one OUTPUT event per output artifact, keyed by the
    output's name.
    """
    [execution] = self.store.get_executions_by_id([execution_id])
    execution.last_known_state = getattr(metadata_store_pb2.Execution, state)
    if output_parameters:
      _set_struct(execution.custom_properties['outputs'], output_parameters)
    self.store.put_executions([execution])
    events = []
    for key, artifact in output_artifacts.items():
      event = metadata_store_pb2.Event(
          artifact_id=int(artifact['name']), execution_id=execution_id,
          type=metadata_store_pb2.Event.OUTPUT)
      event.path.steps.add().key = key
      events.append(event)
    self.store.put_events(events)

  def output_parameters(self, execution_id: int) -> dict:
    """What resolveUpstreamParameters reads: the producer's `outputs`."""
    [execution] = self.store.get_executions_by_id([execution_id])
    if 'outputs' not in execution.custom_properties:
      return {}
    return json_format.MessageToDict(
        execution.custom_properties['outputs'].struct_value)

  def get_output_artifacts_by_execution_id(self,
                                           execution_id: int) -> Dict[str, dict]:
    """The execution's OUTPUT artifacts by event key.

    client.go GetOutputArtifactsByExecutionId, then
    OutputArtifact.ToRuntimeArtifact: each with the instance schema the Go
    code fills in: "".
    """
    events = [e for e in self.store.get_events_by_execution_ids([execution_id])
              if e.type == metadata_store_pb2.Event.OUTPUT]
    by_id = {a.id: a for a in self.store.get_artifacts_by_id(
        [e.artifact_id for e in events])}
    result = {}
    for event in events:
      artifact = to_runtime_artifact(by_id[event.artifact_id])
      artifact['type'] = {'instanceSchema': ''}
      result[event.path.steps[0].key] = artifact
    return result

