"""The KFP 2 launcher's steps around a task's command, function by function.

They mirror kubeflow/pipelines `backend/src/v2/component/launcher_v2.go`
(read at 7b70c7b9): the ExecutorInput handed to `{{$}}` gets the
component's defaults (addDefaultParams) and the retry suffix of the logs
artifact (qualifyExecutorLogsURI); output folders are made
(prepareOutputFolders); the executor output file is parsed strictly
(getExecutorOutputFile); output parameters come from it or from their files
(collectOutputParameters); every provisioned output artifact, merged with
what the executor wrote, is recorded in ML Metadata (uploadOutputArtifacts,
mergeRuntimeArtifacts, RecordArtifact). kfp_launcher.py runs them.
"""

import copy
import json
from pathlib import Path
from typing import Dict

from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2

from fakes import kfp_driver
from fakes import kfp_mlmd

# launcher_v2.go qualifyExecutorLogsForRetry: the first attempt's index.
_RETRY_INDEX = '0'


class LauncherError(RuntimeError):
  """The launcher failed the task (its message as the Go code words it)."""


def with_defaults(executor_input: dict, component: dict) -> dict:
  """launcher_v2.go addDefaultParams and qualifyExecutorLogsForRetry.

  On a copy: what `{{$}}` carries (neither ML Metadata nor the cache key
  sees these).
  """
  result = copy.deepcopy(executor_input)
  values = result['inputs'].setdefault('parameterValues', {})
  for name, spec in component.get('inputDefinitions', {}).get(
      'parameters', {}).items():
    if name not in values and 'defaultValue' in spec:
      values[name] = spec['defaultValue']
  logs = result['outputs']['artifacts'].get(kfp_driver.EXECUTOR_LOGS)
  if logs:
    logs['artifacts'][0]['uri'] += f'-{_RETRY_INDEX}'
  return result


def prepare_output_folders(executor_input: dict) -> None:
  """launcher_v2.go prepareOutputFolders: makes the output folders.

  The parent folder of every output parameter file and output artifact.
  """
  outputs = executor_input['outputs']
  for parameter in outputs.get('parameters', {}).values():
    Path(parameter['outputFile']).parent.mkdir(parents=True, exist_ok=True)
  for listed in outputs['artifacts'].values():
    Path(listed['artifacts'][0]['uri']).parent.mkdir(parents=True,
                                                     exist_ok=True)


def executor_output(path: Path) -> dict:
  """launcher_v2.go getExecutorOutputFile: the executor output, parsed.

  {} if the file is missing; an error for anything protojson would not
  parse as an ExecutorOutput.
  """
  if not path.exists():
    return {}
  text = path.read_text()
  try:
    json_format.Parse(text, pipeline_spec_pb2.ExecutorOutput())
  except json_format.ParseError as e:
    raise LauncherError(
        f'failed to unmarshall ExecutorOutput in file "{path}": {e}') from e
  return json.loads(text)


def text_to_pb_value(text: str, wanted: str):
  """metadata/converter.go TextToPbValue."""
  def failed(reason):
    return LauncherError(f'TextToPbValue(text="{text}", type="{wanted}") '
                         f'failed: {reason}')
  if wanted == 'STRING':
    return text
  if wanted in ('NUMBER_INTEGER', 'NUMBER_DOUBLE'):
    try:
      return float(int(text.strip()) if wanted == 'NUMBER_INTEGER' else
                   float(text.strip()))
    except ValueError as e:
      raise failed(e) from e
  if wanted == 'BOOLEAN':
    words = {'1': True, 't': True, 'T': True, 'TRUE': True, 'true': True,
             'True': True, '0': False, 'f': False, 'F': False,
             'FALSE': False, 'false': False, 'False': False}
    if text.strip() not in words:
      raise failed(f'parsing "{text.strip()}": invalid syntax')
    return words[text.strip()]
  kind = {'LIST': list, 'STRUCT': dict}.get(wanted)
  if kind is None:
    raise failed('unknown type. Expected STRING, NUMBER_INTEGER, '
                 'NUMBER_DOUBLE, BOOLEAN, LIST or STRUCT')
  value = json.loads(text)
  if not isinstance(value, kind):
    raise failed('unexpected type')
  return value


def collect_output_parameters(executor_input: dict, written: dict,
                              component: dict) -> dict:
  """launcher_v2.go collectOutputParameters: a task's output parameters.

  The executor output's values first (undeclared ones kept), then each
  declared parameter's file.
  """
  values = dict(written.get('parameterValues', {}))
  declared = component.get('outputDefinitions', {}).get('parameters', {})
  for name, parameter in executor_input['outputs'].get('parameters',
                                                       {}).items():
    if name in values:
      continue
    wanted = declared[name]['parameterType']
    path = Path(parameter['outputFile'])
    if not path.exists():
      raise LauncherError(
          f'failed to read output parameter name="{name}" type="{wanted}" '
          f'path="{path}": open {path}: no such file or directory')
    values[name] = text_to_pb_value(path.read_text(), wanted)
  return values


def record_outputs(executor_input: dict, written: dict,
                   mlmd: kfp_mlmd.Client) -> Dict[str, dict]:
  """launcher_v2.go uploadOutputArtifacts: output artifacts into ML Metadata.

  Every provisioned output artifact (undeclared ones the executor wrote are
  ignored), its URI and metadata merged from the executor output's first
  artifact of that name (mergeRuntimeArtifacts: a URI replaces, metadata
  fields add; name and type are not merged), recorded LIVE under its
  declared type.
  """
  recorded = {}
  for name, listed in executor_input['outputs']['artifacts'].items():
    artifact = copy.deepcopy(listed['artifacts'][0])
    update = (written.get('artifacts', {}).get(name, {}).get('artifacts')
              or [{}])[0]
    if update.get('uri'):
      artifact['uri'] = update['uri']
    if update.get('metadata'):
      artifact.setdefault('metadata', {}).update(update['metadata'])
    try:
      recorded[name] = mlmd.record_artifact(
          name, kfp_mlmd.artifact_schema(artifact['type']), artifact)
    except kfp_mlmd.MetadataError as e:
      raise LauncherError(
          f'unable to produce MLMD artifact for output "{name}": {e}') from e
  return recorded
