"""Every task's entrypoint against what KFP 2 and Vertex AI send.

Against the ExecutorInput the open-source KFP 2 driver sends, built here by
hand from its Go source (not by the stand-in backend), and against what
Vertex AI sends.
"""

import json
import subprocess
import sys

from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2
import pytest
import yaml
from tfx.orchestration.kubeflow.v2 import compiler_utils
from tfx.orchestration.kubeflow.v2.container import kubeflow_v2_entrypoint_utils as tfx_entrypoint
from tfx.types import standard_artifacts

import helpers
from pipeline import task_entrypoint

# metadata/converter.go toRuntimeArtifact and client.go
# OutputArtifact.ToRuntimeArtifact: an upstream output as the driver reads
# it back: its ML Metadata id as name, an empty instance schema, and its
# custom properties as metadata, numbers as doubles; RecordArtifact added
# display_name and store_session_info.
_SESSION_INFO = '{"Provider":"gs","Params":{"fromEnv":"true"}}'


def _driver_artifact(artifact_id: int, key: str, uri: str) -> dict:
  return {'name': str(artifact_id), 'type': {'instanceSchema': ''},
          'uri': uri,
          'metadata': {'display_name': key, 'span': 3.0, 'version': 0.0,
                       'split_names': '["train", "eval"]',
                       'store_session_info': _SESSION_INFO}}


def _driver_executor_input(component: dict, constants: dict) -> dict:
  """The ExecutorInput driver.go builds for a component.

  Resolved inputs, and outputs provisioned by provisionOutputs, the
  launcher's `executor-logs` among them.
  """
  inputs = component.get('inputDefinitions', {})
  outputs = component.get('outputDefinitions', {})
  return {
      'inputs': {
          'parameterValues': constants,
          'artifacts': {
              key: {'artifacts': [_driver_artifact(
                  40 + i, key, f'gs://bucket/root/run/up/{key}')]}
              for i, key in enumerate(inputs.get('artifacts', {}))}},
      'outputs': {
          'artifacts': {
              key: {'artifacts': [{'name': key, 'type': spec['artifactType'],
                                   'uri': f'gs://bucket/root/run/t/{key}'}]}
              for key, spec in {**outputs.get('artifacts', {}),
                                'executor-logs': {'artifactType': {
                                    'schemaTitle': 'system.Artifact'}}}.items()},
          'outputFile': 'gs://bucket/root/run/t/output_metadata.json'}}


def _declared_class(artifact_type: dict) -> str:
  title = yaml.safe_load(artifact_type['instanceSchema'])['title']
  return compiler_utils.TITLE_TO_CLASS_PATH.get(title, title)


def _full_name(cls) -> str:
  return f'{cls.__module__}.{cls.__qualname__}'


def _tfx_tasks(spec: dict):
  """Every task that runs TFX's executor, with the driver's ExecutorInput.

  As (task name, component, container args with the driver's
  ExecutorInput).
  """
  for name, task in spec['root']['dag']['tasks'].items():
    component = spec['components'][task['componentRef']['name']]
    container = spec['deploymentSpec']['executors'][
        component['executorLabel']]['container']
    if '--executor_class_path' not in container['args']:
      continue  # data-fingerprint: not TFX's
    constants = {k: v['runtimeValue']['constant'] for k, v in task.get(
        'inputs', {}).get('parameters', {}).items() if 'runtimeValue' in v}
    executor_input = json.dumps(_driver_executor_input(component, constants))
    yield name, component, container, [
        executor_input if a == '{{$}}' else a for a in container['args']]


def test_every_task_starts_through_this_projects_entrypoint(kfp_spec):
  for executor in kfp_spec['deploymentSpec']['executors'].values():
    command = executor['container']['command']
    assert command == task_entrypoint.COMMAND or (
        'data_fingerprint' in command[-1])


def test_every_task_reads_the_inputs_the_open_source_driver_sends(kfp_spec):
  tasks = list(_tfx_tasks(kfp_spec))
  with_inputs = [t for t in tasks if t[1].get('inputDefinitions', {}).get(
      'artifacts')]
  assert len(with_inputs) == 11
  for name, component, _, args in tasks:
    argv, _ = task_entrypoint.argv_for_tfx(args)
    executor_input = json.loads(
        argv[argv.index('--json_serialized_invocation_args') + 1])
    parsed = json_format.Parse(json.dumps(executor_input),
                               pipeline_spec_pb2.ExecutorInput())
    inputs = tfx_entrypoint.parse_raw_artifact_dict(parsed.inputs.artifacts)
    outputs = tfx_entrypoint.parse_raw_artifact_dict(parsed.outputs.artifacts)
    declared = component.get('inputDefinitions', {}).get('artifacts', {})
    assert {k: _full_name(type(v[0])) for k, v in inputs.items()} == {
        k: _declared_class(v['artifactType']) for k, v in declared.items()
    }, name
    for [artifact] in inputs.values():
      if isinstance(artifact, standard_artifacts.Examples):
        assert (artifact.span, artifact.split_names) == (
            3, '["train", "eval"]'), name
    assert set(outputs) == set(component['outputDefinitions']['artifacts'])


def test_tfx_alone_stops_at_the_first_untyped_input(kfp_spec):
  """The defect itself (tensorflow/tfx#7768), with the same ExecutorInput."""
  [(_, _, _, args)] = [t for t in _tfx_tasks(kfp_spec)
                       if t[0] == 'StatisticsGen']
  parsed = json_format.Parse(
      args[args.index('--json_serialized_invocation_args') + 1],
      pipeline_spec_pb2.ExecutorInput())
  with pytest.raises(AttributeError, match="'NoneType' object has no "
                     "attribute 'get'"):
    tfx_entrypoint.parse_raw_artifact_dict(parsed.inputs.artifacts)
  with pytest.raises(ImportError):  # `system.Artifact` is no class
    tfx_entrypoint.parse_raw_artifact_dict(parsed.outputs.artifacts)


def test_what_vertex_ai_sends_is_left_as_it_is():
  """Vertex AI names an input by its resource name and gives its type.

  The input is tfx's own test data for the V2 entrypoint,
  executor_invocation.json.
  """
  examples = {
      'name': 'projects/123/locations/us-central1/metadataStores/default/'
              'artifacts/9', 'uri': 'gs://bucket/examples',
      'type': {'instanceSchema': 'title: tfx.Examples\ntype: object\n'},
      'metadata': {'span': 9000.0}}
  executor_input = {'inputs': {'artifacts': {'examples': {
      'artifacts': [examples]}}}, 'outputs': {'artifacts': {}}}
  assert task_entrypoint.executor_input_for_tfx(executor_input, {}) == (
      executor_input)


def test_an_input_with_no_type_anywhere_is_one_line_naming_it(tmp_path):
  executor_input = {'inputs': {'artifacts': {'examples': {'artifacts': [
      {'name': '12', 'type': {'instanceSchema': ''}, 'uri': 'gs://b/e'}]}}},
                    'outputs': {'artifacts': {}, 'outputFile': str(
                        tmp_path / 'out.json')}}
  result = subprocess.run(
      [sys.executable, '-m', 'pipeline.task_entrypoint',
       '--executor_class_path', 'tfx.components.statistics_gen.executor.'
       'Executor', '--json_serialized_invocation_args',
       json.dumps(executor_input)],
      cwd=helpers.configs.PROJECT_ROOT, capture_output=True, text=True,
      timeout=60)
  assert result.returncode == 1
  assert result.stderr.splitlines() == [
      "error: input artifact 'examples' (name '12') arrived without a type, "
      'and the task names no declared type for it '
      "(--json_serialized_inputs_spec_args is missing or lacks 'examples')"]


def test_flags_written_with_an_equals_sign_are_read_too():
  spec = {'artifacts': {'examples': {'artifactType': {
      'instanceSchema': 'title: tfx.Examples\n'}}}}
  executor_input = {'inputs': {'artifacts': {'examples': {'artifacts': [
      {'name': '3', 'type': {'instanceSchema': ''}}]}}}}
  argv, _ = task_entrypoint.argv_for_tfx([
      f'--json_serialized_invocation_args={json.dumps(executor_input)}',
      f'--json_serialized_inputs_spec_args={json.dumps(spec)}',
      '--direct_num_workers=1'])
  typed = json.loads(argv[1])
  assert typed['inputs']['artifacts']['examples']['artifacts'][0][
      'type'] == spec['artifacts']['examples']['artifactType']
  assert argv[-1] == '--direct_num_workers=1'
