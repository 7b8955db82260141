"""Runs a compiled KFP package's tasks on this machine the way the open-source
KFP 2 driver and launcher start their containers.

For each task, in dependency order: the container's command and args, with
`{{$}}` replaced by the ExecutorInput JSON (parameter values from the task's
constants, each checked against its declared type, and from upstream output
parameters; input artifacts from upstream outputs; output artifact URIs
under a local pipeline root and run id; the executor output file). Output
artifacts' metadata and URIs written by the executor are passed downstream,
as the launcher does via ML Metadata. A task whose caching is on and whose
cache key (computed as the backend computes it) is in the Cache is not run:
it takes the outputs of the run that made them. Lifecycle hooks
(`preCacheCheck`) are not run: the open-source backend does not implement
them. A package that breaks one of the backend's rules
(kfp_backend_rules.py) is refused before any task runs, as CreateRun
refuses it.
"""

import dataclasses
import itertools
import json
from pathlib import Path
import subprocess
from typing import Dict, Iterator, List, Optional

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
  """The task's constant parameters, each checked against the component's
  declared type."""
  declared = component.get('inputDefinitions', {}).get('parameters', {})
  values = {}
  for name, parameter in task.get('inputs', {}).get('parameters', {}).items():
    if 'taskOutputParameter' in parameter:
      continue  # known when the producer has run
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


@dataclasses.dataclass
class Cache:
  """KFP's execution cache, kept across runs: cache key -> task outputs."""
  entries: Dict[str, dict] = dataclasses.field(default_factory=dict)
  artifact_ids: Iterator[int] = dataclasses.field(
      default_factory=lambda: itertools.count(1))  # ML Metadata's ids
  execution_ids: Iterator[int] = dataclasses.field(
      default_factory=lambda: itertools.count(1))


@dataclasses.dataclass
class Run:
  """What a run produced and which tasks' containers ran."""
  outputs: Dict[str, dict]  # task -> output key -> artifact
  parameters: Dict[str, dict]  # task -> output parameter -> value
  executed: List[str]  # the rest were served from the cache
  failed: List[str] = dataclasses.field(default_factory=list)
  # Not run because a task they depend on failed (or was itself skipped).
  skipped: List[str] = dataclasses.field(default_factory=list)


def _cache_key(inputs: dict, outputs: dict, component: dict,
               container: dict) -> str:
  """As backend/src/v2/cacheutils/cache.go builds it: input parameter
  values, input artifact names (their ML Metadata ids), output artifacts without their URIs, output
  parameter types, image, command and args."""
  return json.dumps([
      inputs['parameterValues'],
      {k: [a['name'] for a in v['artifacts']] for k, v in
       inputs['artifacts'].items()},
      {k: {f: a[f] for f in ('name', 'type', 'metadata')} for k, v in
       outputs.items() for a in v['artifacts']},
      component.get('outputDefinitions', {}).get('parameters', {}),
      container['image'], container.get('command', []),
      container.get('args', [])], sort_keys=True)


def _execute(container: dict, inputs: dict, outputs: dict, task_dir: Path,
             env: Dict[str, str], workdir: Path, log: Path) -> Optional[dict]:
  """Runs the container; returns its executor output (artifact updates and
  output parameters), or None if it failed."""
  # Where the launcher of KFP 2.4 puts it, /tmp/kfp_outputs/
  # output_metadata.json, in the pod's own /tmp (OutputMetadataFilepath in
  # backend/src/v2/component/launcher_v2.go; the newest releases put it under
  # the task root). TFX takes its temp folder and task id from the folder.
  output_file = task_dir / 'pod-tmp' / 'kfp_outputs' / 'output_metadata.json'
  output_file.parent.mkdir(parents=True)
  executor_input = json.dumps({
      'inputs': inputs,
      'outputs': {'artifacts': outputs, 'outputFile': str(output_file)}})
  argv = [executor_input if a == EXECUTOR_INPUT_PLACEHOLDER else a
          for a in [*container.get('command', []), *container.get('args', [])]]
  with open(log, 'w') as f:
    if subprocess.run(argv, env=env, cwd=workdir, stdout=f,
                      stderr=subprocess.STDOUT, timeout=1800).returncode:
      return None
  return json.loads(output_file.read_text()) if output_file.exists() else {}


def _resolve_inputs(task: dict, constants: dict, run: Run) -> dict:
  """The task's ExecutorInput inputs: its constants, and the upstream output
  parameters and artifacts it names."""
  parameters = dict(constants)
  artifacts = {}
  for name, value in task.get('inputs', {}).get('parameters', {}).items():
    if 'taskOutputParameter' in value:
      source = value['taskOutputParameter']
      parameters[name] = run.parameters[source['producerTask']][
          source['outputParameterKey']]
  for name, value in task.get('inputs', {}).get('artifacts', {}).items():
    source = value['taskOutputArtifact']
    artifacts[name] = {'artifacts': [
        run.outputs[source['producerTask']][source['outputArtifactKey']]]}
  return {'parameterValues': parameters, 'artifacts': artifacts}


def run_package(package: Path, pipeline_root: Path, env: Dict[str, str],
                log_dir: Path, workdir: Path, run_id: str = 'run-1',
                cache: Optional[Cache] = None) -> Run:
  """Runs every task in workdir (the image's WORKDIR) with only `env`, its
  outputs under pipeline_root / <pipeline name> / run_id; a task whose caching is on and
  whose key is in `cache` is not run but takes the cached outputs. A task
  that fails is recorded in Run.failed; as Argo does, the tasks that depend
  on it are not run (Run.skipped) and the others are."""
  spec = load_pipeline_spec(package)
  problems = kfp_backend_rules.package_problems(spec)
  if problems:
    raise UnsupportedTask('; '.join(problems))
  cache = cache or Cache()
  tasks = spec['root']['dag']['tasks']
  constants = {name: _parameter_values(
      name, task, spec['components'][task['componentRef']['name']])
               for name, task in tasks.items()}
  run = Run({}, {}, [])
  for task_name in task_order(spec):
    task = tasks[task_name]
    if set(task.get('dependentTasks', [])) & {*run.failed, *run.skipped}:
      run.skipped.append(task_name)
      continue
    container = executor_container(spec, task_name)
    component = spec['components'][task['componentRef']['name']]
    # <root>/<pipeline>/<run id>/<task>/<salt>/<key>, as KFP 2.4's driver
    # and metadata client build it (GenerateOutputURI).
    task_dir = (pipeline_root / spec['pipelineInfo']['name'] / run_id /
                task_name / str(next(cache.execution_ids)))
    task_dir.mkdir(parents=True)
    inputs = _resolve_inputs(task, constants[task_name], run)
    outputs = {name: {'artifacts': [{
        'name': name, 'type': _artifact_type(definition),
        'uri': str(task_dir / name), 'metadata': {}}]}
               for name, definition in component.get(
                   'outputDefinitions', {}).get('artifacts', {}).items()}
    key = _cache_key(inputs, outputs, component, container)
    cached = task.get('cachingOptions', {}).get('enableCache') and (
        cache.entries.get(key))
    if not cached:
      written = _execute(container, inputs, outputs, task_dir, env, workdir,
                         log_dir / f'{task_name}.log')
      if written is None:
        run.failed.append(task_name)
        continue
      cached = {'artifacts': {}, 'parameters': written.get(
          'parameterValues', {})}
      for name, declared in outputs.items():
        [artifact] = declared['artifacts']
        update = written.get('artifacts', {}).get(name, {}).get(
            'artifacts', [{}])[0]
        artifact['metadata'].update(update.get('metadata', {}))
        artifact['uri'] = update.get('uri') or artifact['uri']
        # Downstream it is its ML Metadata record: named by its id, its key
        # as display_name (metadata/converter.go, client.go RecordArtifact).
        artifact['name'] = str(next(cache.artifact_ids))
        artifact['metadata'].setdefault('display_name', name)
        cached['artifacts'][name] = artifact
      run.executed.append(task_name)
      if task.get('cachingOptions', {}).get('enableCache'):
        cache.entries[key] = cached
    run.outputs[task_name] = cached['artifacts']
    run.parameters[task_name] = cached['parameters']
  return run
