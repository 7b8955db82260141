"""The rules the open-source Kubeflow Pipelines 2 backend applies to a package.

It applies them before and while it runs the package; they are read from
its source (kubeflow/pipelines `backend/src/v2`) and Argo's.

`package_problems(spec, target)` lists every rule a compiled PipelineSpec
breaks, one line each; an empty list means CreateRun would accept it and the
driver would start its pods as configured. What it does not model: RBAC,
object-store credentials, image pulls, and anything a cluster decides at run
time (scheduling, quotas, OOM kills).
"""

import re
from typing import List

# Argo's workflowFieldNameFmt: the argo compiler names each DAG task after
# the task key, and its driver `<task>-driver`
# (backend/src/v2/compiler/argocompiler/dag.go); CreateRun validates them.
_ARGO_NAME = re.compile(r'[a-zA-Z0-9][-a-zA-Z0-9]*')
_ARGO_NAME_MAX = 128
# The executors the argo compiler implements: `resolver` is refused
# ("resolver not implemented yet", argocompiler/argo.go).
_RUNNABLE_EXECUTORS = {'container', 'importer'}
# The driver takes the accelerator type as the Kubernetes resource name
# (backend/src/v2/driver/driver.go); Vertex AI takes its machine names.
ACCELERATOR_TYPES = {'kfp': re.compile(r'[a-z0-9.-]+/gpu'),
                     'vertex': re.compile(r'NVIDIA_[A-Z0-9_]+|TPU_[A-Z0-9_]+')}
# Beam's DirectRunner: 0 workers means one per CPU of the node, not the pod.
_WORKERS_FLAG = re.compile(r'--direct_num_workers=(\d+)')
# The minio:// default of the kfp-launcher ConfigMap, which TFX cannot write
# (backend/src/v2/config/env.go).
_WRITABLE_ROOT = re.compile(r'(gs://|/).+')


def _task_names(spec: dict) -> List[str]:
  return list(spec['root']['dag']['tasks'])


def _executor(spec: dict, task: dict) -> dict:
  component = spec['components'][task['componentRef']['name']]
  return spec['deploymentSpec']['executors'][component['executorLabel']]


def _name_problems(spec: dict) -> List[str]:
  problems = []
  for task in _task_names(spec):
    for name in (task, f'{task}-driver'):
      if not _ARGO_NAME.fullmatch(name) or len(name) > _ARGO_NAME_MAX:
        problems.append(f'task {task!r}: Argo rejects the DAG task name '
                        f'{name!r} (letters, digits and "-", at most '
                        f'{_ARGO_NAME_MAX} characters)')
  return problems


def _executor_problems(name: str, executor: dict, target: str) -> List[str]:
  kinds = set(executor)
  if not kinds <= _RUNNABLE_EXECUTORS:
    return [f'task {name!r}: executor {sorted(kinds)} is not one the '
            'backend runs (container, importer)']
  if 'container' not in executor:
    return []
  container = executor['container']
  problems = []
  resources = container.get('resources', {})
  for limit in ('cpuLimit', 'memoryLimit'):
    if not resources.get(limit):
      problems.append(f'task {name!r}: no {limit}: the pod may take the '
                      'whole node')
  accelerator = resources.get('accelerator', {}).get('type')
  if accelerator and not ACCELERATOR_TYPES[target].fullmatch(accelerator):
    problems.append(f'task {name!r}: accelerator {accelerator!r} is not a '
                    f'{target} accelerator name')
  for arg in container.get('args', []):
    workers = _WORKERS_FLAG.fullmatch(str(arg))
    if workers and not 1 <= int(workers.group(1)) <= resources.get(
        'cpuLimit', 0):
      problems.append(f'task {name!r}: {arg} does not fit its CPU limit '
                      f'{resources.get("cpuLimit")}')
  return problems


def _reads_outside_data(executor: dict) -> bool:
  """Whether the executor reads data from outside: an ExampleGen.

  The backend never runs the preCacheCheck hook that fingerprints its input
  (nothing under backend/src/v2 reads it).
  """
  container = executor.get('container', {})
  return 'lifecycle' in container or any(
      'example_gen' in str(arg) for arg in container.get('args', []))


def _keyed_by_an_uncached_task(spec: dict, task: dict) -> bool:
  """Whether a parameter of the task comes from a task that always runs.

  Then its cache key can change from run to run.
  """
  tasks = spec['root']['dag']['tasks']
  return any(
      not tasks[value['taskOutputParameter']['producerTask']].get(
          'cachingOptions', {}).get('enableCache')
      for value in task.get('inputs', {}).get('parameters', {}).values()
      if 'taskOutputParameter' in value)


def package_problems(spec: dict, target: str = 'kfp') -> List[str]:
  """Every rule of the backend the PipelineSpec breaks.

  Args:
    spec: the PipelineSpec (for Vertex AI, the job's `pipelineSpec`).
    target: 'kfp' or 'vertex'.

  Returns:
    One line per problem; empty if the backend would run it as compiled.
  """
  problems = []
  if target == 'kfp' and spec.get('schemaVersion') != '2.1.0':
    problems.append(f'schemaVersion {spec.get("schemaVersion")}: the '
                    'driver reads 2.1.0 constants only')
  if target == 'kfp' and not _WRITABLE_ROOT.fullmatch(
      spec.get('defaultPipelineRoot', '')):
    problems.append('no defaultPipelineRoot: a dashboard run gets the '
                    'kfp-launcher default, minio://, which TFX cannot write')
  problems += _name_problems(spec)
  for name, task in spec['root']['dag']['tasks'].items():
    executor = _executor(spec, task)
    problems += _executor_problems(name, executor, target)
    if _reads_outside_data(executor) and task.get('cachingOptions', {}).get(
        'enableCache') and not _keyed_by_an_uncached_task(spec, task):
      problems.append(f'task {name!r}: cached, yet its cache key holds no '
                      'trace of the data it reads: later runs get the first '
                      "run's examples")
    for parameter, value in task.get('inputs', {}).get('parameters',
                                                         {}).items():
      if target == 'kfp' and 'taskOutputParameter' not in value and set(
          value.get('runtimeValue', {})) != {'constant'}:
        problems.append(f'task {name!r}: parameter {parameter} is not a 2.1 '
                        'constant')
  return problems

