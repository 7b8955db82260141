"""The open-source KFP 2 driver of a container task.

The ExecutorInput it builds and the cache key it computes.

Each function mirrors a Go function of kubeflow/pipelines
`backend/src/v2/` (read at 7b70c7b9, a master commit after 2.17.0; the functions used here
are the same in 2.17.0), named in its docstring; docs/kubeflow.md tabulates every
ExecutorInput field. Inputs come only from ML Metadata (kfp_mlmd.Client), as
the driver reads them: an upstream artifact arrives named by its id, with an
empty instance schema and its properties as metadata, numbers as doubles.
"""

import decimal
import hashlib
import json
import uuid
from typing import Dict

from fakes import kfp_mlmd

# driver.go provisionOutputs, with the driver's publish_logs flag at its
# default ("true", cmd/driver/main.go): the launcher tees the task's log
# into this artifact.
EXECUTOR_LOGS = 'executor-logs'
EXECUTOR_LOGS_TYPE = {'schemaTitle': 'system.Artifact'}
# driver.go provisionOutputs: each declared output parameter's file is
# /tmp/kfp/outputs/<name>, in the pod's own /tmp.
_OUTPUT_PARAMETER_DIR = 'kfp/outputs'
_NUMBER_TYPES = ('NUMBER_DOUBLE', 'NUMBER_INTEGER')
_KIND_OF = {str: 'string', bool: 'bool', list: 'list', dict: 'struct'}


class DriverError(RuntimeError):
  """The driver failed the task (its message as the Go code words it)."""


def _go_number(value: float) -> str:
  """strconv.FormatFloat(f, 'f', -1, 64): the shortest digits.

  Never an exponent.
  """
  text = format(decimal.Decimal(repr(float(value))), 'f')
  return text[:-2] if text.endswith('.0') else text


def _go_json(value) -> str:
  """encoding/json over protojson: a value as the Go code encodes it.

  Compact, keys sorted, numbers as Go prints them, <, > and & escaped.
  """
  if isinstance(value, bool) or value is None:
    return json.dumps(value)
  if isinstance(value, (int, float)):
    return _go_number(value)
  if isinstance(value, str):
    return (json.dumps(value, ensure_ascii=False).replace('<', '\\u003c')
            .replace('>', '\\u003e').replace('&', '\\u0026'))
  if isinstance(value, list):
    return '[' + ','.join(_go_json(v) for v in value) + ']'
  return '{' + ','.join(f'{_go_json(k)}:{_go_json(value[k])}'
                        for k in sorted(value)) + '}'


def pb_value_to_text(value) -> str:
  """metadata/converter.go PbValueToText: a value as text.

  How a non-string value becomes a STRING parameter.
  """
  if value is None:
    return ''
  if isinstance(value, str):
    return value
  if isinstance(value, bool):
    return 'true' if value else 'false'
  if isinstance(value, (int, float)):
    return _go_number(value)
  return _go_json(value)


def check_parameters(values: dict, component: dict) -> dict:
  """resolve.go resolveInputs' handleParamTypeValidationAndConversion.

  Only parameters the component declares are checked (others pass as they
  are). A declared parameter without a value fails the task unless it is
  optional or has a default (neither is filled in here: the launcher fills
  defaults). A STRING parameter given any other kind becomes its text; any
  other type must match its kind (a number serves NUMBER_INTEGER and
  NUMBER_DOUBLE, integral or not).

  Returns:
    The values, converted.

  Raises:
    DriverError: as the driver words it.
  """
  values = dict(values)
  for name, spec in component.get('inputDefinitions', {}).get(
      'parameters', {}).items():
    if name not in values:
      if spec.get('isOptional'):
        continue
      if 'defaultValue' not in spec:
        raise DriverError('neither value nor default value provided for '
                          f'non-optional parameter "{name}"')
      values[name] = None  # the Go code goes on with a nil value
    value, wanted = values[name], spec.get('parameterType')
    if wanted == 'STRING':
      if not isinstance(value, str):
        values[name] = pb_value_to_text(value)
      continue
    if value is None:
      raise DriverError(f'got null for input parameter "{name}"')
    kind = ('number' if isinstance(value, (int, float)) and
            not isinstance(value, bool) else _KIND_OF[type(value)])
    allowed = {'number': _NUMBER_TYPES, 'string': ('STRING',),
               'bool': ('BOOLEAN',), 'list': ('LIST',),
               'struct': ('STRUCT', 'TASK_FINAL_STATUS', 'TASK_CONFIG')}[kind]
    if wanted not in allowed:
      raise DriverError(f'input parameter "{name}" type mismatch: expect '
                        f'{wanted}, got {kind}')
  return values


def resolve_inputs(task: dict, component: dict, producers: Dict[str, int],
                   mlmd: kfp_mlmd.Client) -> dict:
  """resolve.go resolveInputs: ExecutorInput.inputs.

  Parameters: a constant as the package holds it (resolveInputParameter);
  an upstream output from the producer's `outputs` in ML Metadata
  (resolveUpstreamParameters: a missing one resolves to nothing). Artifacts
  from the producer's OUTPUT events (resolveUpstreamArtifacts,
  GetOutputArtifactsByExecutionId, ToRuntimeArtifact).

  Args:
    task: the task's entry in the root DAG.
    component: its component spec.
    producers: task name -> ML Metadata execution id, for this run.
    mlmd: the store.

  Returns:
    {'parameterValues': ..., 'artifacts': ...} as protobuf's JSON mapping.

  Raises:
    DriverError: a parameter the driver refuses, or an input kind it does
      not resolve here.
  """
  values = {}
  for name, spec in task.get('inputs', {}).get('parameters', {}).items():
    if 'taskOutputParameter' in spec:
      source = spec['taskOutputParameter']
      outputs = mlmd.output_parameters(producers[source['producerTask']])
      if source['outputParameterKey'] in outputs:
        values[name] = outputs[source['outputParameterKey']]
    elif 'constant' in spec.get('runtimeValue', {}):
      values[name] = spec['runtimeValue']['constant']
    else:
      raise DriverError(f'parameter {name}: {sorted(spec)} is not resolved '
                        'by this stand-in (constants and task outputs only)')
  try:
    values = check_parameters(values, component)
  except DriverError as e:
    raise DriverError(f'failed to resolve inputs: {e}') from e
  artifacts = {}
  for name, spec in task.get('inputs', {}).get('artifacts', {}).items():
    if 'taskOutputArtifact' not in spec:
      raise DriverError(f'artifact {name}: {sorted(spec)} is not resolved by '
                        'this stand-in (task outputs only)')
    source = spec['taskOutputArtifact']
    produced = mlmd.get_output_artifacts_by_execution_id(
        producers[source['producerTask']])
    artifacts[name] = {'artifacts': [produced[source['outputArtifactKey']]]}
  return {'parameterValues': values, 'artifacts': artifacts}


def generate_output_uri(root: str, *paths: str) -> str:
  """metadata/client.go GenerateOutputURI: the root and paths joined.

  The root without its trailing slash, then the paths joined (query strings
  are not modelled).
  """
  return root.rstrip('/') + '/' + '/'.join(p.strip('/') for p in paths)


def provision_outputs(run_root: str, task_name: str, component: dict,
                      pod_tmp: str, publish_logs: bool = True) -> dict:
  """driver.go provisionOutputs.

  Each declared output artifact (and `executor-logs`) named by its key, of
  its declared type and metadata, at <run root>/<task>/<uuid>/<key>; each
  declared output parameter's file in the pod's /tmp/kfp/outputs; the
  executor output file at the task root's local path (LocalPathForURI, the
  identity for this stand-in's local roots; /gcs/<bucket>/... for gs://).

  Args:
    run_root: <pipeline root>/<pipeline name>/<run id> (root driver,
      client.go GetPipeline).
    task_name: the task's key.
    component: its component spec.
    pod_tmp: the local folder standing in for the pod's /tmp.
    publish_logs: the driver's --publish_logs.

  Returns:
    ExecutorInput.outputs.
  """
  task_root = generate_output_uri(run_root, task_name, str(uuid.uuid4()))
  declared = dict(component.get('outputDefinitions', {}).get('artifacts', {}))
  if publish_logs:
    declared[EXECUTOR_LOGS] = {'artifactType': EXECUTOR_LOGS_TYPE}
  artifacts = {}
  for name, spec in declared.items():
    artifact = {'name': name, 'type': spec['artifactType'],
                'uri': generate_output_uri(task_root, name)}
    if 'metadata' in spec:
      artifact['metadata'] = spec['metadata']
    artifacts[name] = {'artifacts': [artifact]}
  parameters = {
      name: {'outputFile': f'{pod_tmp}/{_OUTPUT_PARAMETER_DIR}/{name}'}
      for name in component.get('outputDefinitions', {}).get('parameters', {})
  }
  outputs = {'artifacts': artifacts,
             'outputFile': generate_output_uri(task_root,
                                               'output_metadata.json')}
  if parameters:
    outputs['parameters'] = parameters
  return outputs


def pod_env(container: dict) -> Dict[str, str]:
  """initPodSpecPatch (driver.go): the container spec's env on the pod.

  Set on the pod's main container, over the image's variables (a component
  without task config passthroughs, as TFX compiles them).
  """
  return {var['name']: var.get('value', '') for var in
          container.get('env', [])}


def cache_fingerprint(executor_input: dict, component: dict,
                      container: dict) -> str:
  """cacheutils/cache.go GenerateCacheKey and GenerateFingerPrint.

  The key: input artifacts' names (their ML Metadata ids), input parameter
  values (after the driver's conversion, without the launcher's defaults),
  output artifacts without their URIs, output parameters' types, and the
  container's image and command + args with their placeholders; not env,
  resources or paths. The fingerprint: sha256 of its JSON, compact with
  sorted keys.
  """
  inputs, outputs = executor_input['inputs'], executor_input['outputs']
  key = {
      'inputArtifactNames': {
          name: {'artifactNames': [a['name'] for a in listed['artifacts']]}
          for name, listed in inputs.get('artifacts', {}).items()},
      'inputParameterValues': inputs.get('parameterValues', {}),
      'outputArtifactsSpec': {
          name: {k: v for k, v in listed['artifacts'][0].items() if k != 'uri'}
          for name, listed in outputs.get('artifacts', {}).items()},
      'outputParametersSpec': {
          name: spec['parameterType'] for name, spec in component.get(
              'outputDefinitions', {}).get('parameters', {}).items()},
      'containerSpec': {
          'image': container['image'],
          'cmdArgs': [*container.get('command', []),
                      *container.get('args', [])]},
  }
  return hashlib.sha256(_go_json(key).encode()).hexdigest()
