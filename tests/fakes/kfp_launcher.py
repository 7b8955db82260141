"""Runs a compiled KFP package's tasks on this machine the way the open-source
KFP 2 launcher starts their containers.

For each task, in dependency order: the container's command and args, with
`{{$}}` replaced by the ExecutorInput JSON (parameter values from the task's
constants, input artifacts from upstream outputs, output artifact URIs under a
local pipeline root, the executor output file). Output artifacts' metadata
written by the executor is passed downstream, as the launcher does via ML
Metadata. Lifecycle hooks (`preCacheCheck`) are not run: the open-source
backend does not implement them. A package that breaks one of the backend's
rules (kfp_backend_rules.py) is refused before any task runs, as CreateRun
refuses it.
"""

import json
from pathlib import Path
import subprocess
from typing import Dict, List

import yaml

from fakes import kfp_backend_rules

EXECUTOR_INPUT_PLACEHOLDER = '{{$}}'


class UnsupportedTask(RuntimeError):
  pass


def load_pipeline_spec(package: Path) -> dict:
  with open(package) as f:
    return yaml.safe_load(f)


def task_order(spec: dict) -> List[str]:
  """Task names, every task after the tasks it depends on."""
  tasks = spec['root']['dag']['tasks']
  order, done = [], set()
  while len(order) < len(tasks):
    ready = sorted(
        name for name, task in tasks.items() if name not in done and
        set(task.get('dependentTasks', [])) <= done)
    if not ready:
      raise UnsupportedTask('the task graph has a cycle')
    order += ready
    done.update(ready)
  return order


def executor_container(spec: dict, task_name: str) -> dict:
  task = spec['root']['dag']['tasks'][task_name]
  component = spec['components'][task['componentRef']['name']]
  executor = spec['deploymentSpec']['executors'][component['executorLabel']]
  if 'container' not in executor:
    raise UnsupportedTask(
        f'{task_name}: executor kind {sorted(executor)} is not a container')
  return executor['container']


# The JSON types each declared parameter type takes. Constants travel as
# protobuf Values, whose numbers are doubles: an integer is any integral
# number (the compiler writes 6 as 6.0); bool is no number.
_PARAMETER_TYPES = {'STRING': (str,), 'NUMBER_INTEGER': (int, float),
                    'NUMBER_DOUBLE': (int, float), 'BOOLEAN': (bool,),
                    'LIST': (list,), 'STRUCT': (dict,)}


def _type_ok(value, wanted: str) -> bool:
  if wanted not in _PARAMETER_TYPES or (
      isinstance(value, bool) != (wanted == 'BOOLEAN')):
    return False
  if wanted == 'NUMBER_INTEGER' and isinstance(value, float):
    return value.is_integer()
  return isinstance(value, _PARAMETER_TYPES[wanted])


def _parameter_values(task_name: str, task: dict, component: dict) -> dict:
  """The task's constants, each checked against the component's declared
  parameter type."""
  declared = component.get('inputDefinitions', {}).get('parameters', {})
  values = {}
  for name, parameter in task.get('inputs', {}).get('parameters', {}).items():
    runtime_value = parameter.get('runtimeValue', {})
    if 'constant' not in runtime_value:
      raise UnsupportedTask(f'{task_name}.{name}: only runtimeValue.constant '
                            f'is implemented, got {parameter}')
    value = runtime_value['constant']
    wanted = declared.get(name, {}).get('parameterType')
    if not _type_ok(value, wanted):
      raise UnsupportedTask(f'{task_name}.{name}: {value!r} is not a '
                            f'{wanted}')
    values[name] = value
  return values


def _artifact_type(definition: dict) -> dict:
  artifact_type = definition['artifactType']
  if 'schemaTitle' in artifact_type:
    return {'schemaTitle': artifact_type['schemaTitle']}
  return {'instanceSchema': artifact_type['instanceSchema']}


def run_package(package: Path, pipeline_root: Path, env: Dict[str, str],
                log_dir: Path, workdir: Path,
                run_id: str = 'run-1') -> Dict[str, dict]:
  """Runs every task in workdir (the image's WORKDIR) with only `env`, its
  outputs under pipeline_root / run_id; returns task -> output key ->
  artifact (with the metadata its executor wrote). Raises
  CalledProcessError on a failed task."""
  spec = load_pipeline_spec(package)
  problems = kfp_backend_rules.package_problems(spec)
  if problems:
    raise UnsupportedTask('; '.join(problems))
  tasks = spec['root']['dag']['tasks']
  parameters = {
      name: _parameter_values(
          name, task, spec['components'][task['componentRef']['name']])
      for name, task in tasks.items()}
  produced: Dict[str, dict] = {}
  for task_name in task_order(spec):
    task = tasks[task_name]
    container = executor_container(spec, task_name)
    component = spec['components'][task['componentRef']['name']]
    task_dir = pipeline_root / run_id / task_name
    task_dir.mkdir(parents=True, exist_ok=True)

    inputs = {}
    for name, artifact_input in task.get('inputs', {}).get('artifacts',
                                                           {}).items():
      source = artifact_input['taskOutputArtifact']
      inputs[name] = {
          'artifacts': [
              produced[source['producerTask']][source['outputArtifactKey']]
          ]
      }
    outputs = {}
    for name, definition in component.get('outputDefinitions',
                                          {}).get('artifacts', {}).items():
      outputs[name] = {
          'artifacts': [{
              'name': name,
              'type': _artifact_type(definition),
              'uri': str(task_dir / name),
              'metadata': {},
          }]
      }
    output_file = task_dir / 'executor_output.json'
    executor_input = {
        'inputs': {
            'parameterValues': parameters[task_name],
            'artifacts': inputs,
        },
        'outputs': {
            'artifacts': outputs,
            'outputFile': str(output_file),
        },
    }
    argv = [*container.get('command', []), *container.get('args', [])]
    argv = [
        json.dumps(executor_input) if a == EXECUTOR_INPUT_PLACEHOLDER else a
        for a in argv
    ]
    with open(log_dir / f'{task_name}.log', 'w') as log:
      subprocess.run(argv, env=env, cwd=workdir, stdout=log,
                     stderr=subprocess.STDOUT, check=True, timeout=1800)

    written = {}
    if output_file.exists():
      written = json.loads(output_file.read_text()).get('artifacts', {})
    produced[task_name] = {}
    for name, declared in outputs.items():
      [artifact] = declared['artifacts']
      updates = written.get(name, {}).get('artifacts', [{}])[0]
      artifact['metadata'].update(updates.get('metadata', {}))
      artifact['uri'] = updates.get('uri') or artifact['uri']
      produced[task_name][name] = artifact
  return produced
