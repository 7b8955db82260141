"""Runs a compiled KFP package locally as the open-source KFP 2 backend does.

Argo's task order, and for each task the driver (kfp_driver.py), the
launcher (this module) and ML Metadata (kfp_mlmd.py, a real SQLite store
kept across runs with the cache).

The launcher's steps around the command mirror kubeflow/pipelines
`backend/src/v2/component/launcher_v2.go` function by function
(kfp_launcher_steps.py); the command's output goes to the task's log and
the `executor-logs` artifact (getLogWriter), and the execution is
published.

Each container runs as its pod would, a process in the image's folder
with the pod's environment (container_process.py: forked from a server
with TensorFlow and TFX loaded; KFP_TWIN_FRESH_PROCESSES=1 for a new
process each).

A package that breaks one of the backend's rules (kfp_backend_rules.py) is
refused before any task runs, as CreateRun refuses it. What is not modelled
(docs/kubeflow.md lists it): object-store copies of input artifacts
(downloadArtifacts: the URIs here are local paths), DAG and importer tasks,
ParallelFor, retries, placeholders other than `{{$}}`.
"""

from concurrent import futures
import dataclasses
import json
from pathlib import Path
from typing import Dict, List, Optional

import yaml

from fakes import container_process
from fakes import kfp_backend_rules
from fakes import kfp_driver
from fakes import kfp_launcher_steps as steps
from fakes import kfp_mlmd

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


@dataclasses.dataclass
class Cache:
  """The cluster's state kept across runs: ML Metadata and KFP's cache.

  Its ML Metadata store and KFP's cache (fingerprint -> the execution that
  made the outputs; the API server's task table, looked up by fingerprint).
  """
  metadata_path: Optional[Path] = None
  entries: Dict[str, int] = dataclasses.field(default_factory=dict)
  _client: Optional[kfp_mlmd.Client] = None

  def client(self, default_path: Path) -> kfp_mlmd.Client:
    if self._client is None:
      self.metadata_path = self.metadata_path or default_path
      self.metadata_path.parent.mkdir(parents=True, exist_ok=True)
      self._client = kfp_mlmd.Client(str(self.metadata_path))
    return self._client


@dataclasses.dataclass
class Run:
  """What a run produced and which tasks' containers ran."""
  # task -> output key -> the artifact as the driver reads it downstream.
  outputs: Dict[str, dict]
  parameters: Dict[str, dict]  # task -> output parameter -> value
  executed: List[str]  # the rest were served from the cache
  failed: List[str] = dataclasses.field(default_factory=list)
  # Not run because a task they depend on failed (or was itself skipped).
  skipped: List[str] = dataclasses.field(default_factory=list)
  # task -> the ExecutorInput the driver built (before the launcher's
  # additions).
  executor_inputs: Dict[str, dict] = dataclasses.field(default_factory=dict)


def _execute(container: dict, executor_input: dict, env: Dict[str, str],
             workdir: Path, log: Path) -> bool:
  """Runs the container's command with `{{$}}` replaced; True if it exited 0.

  Its environment is the image's (env) and the container spec's.

  Its output goes to the log and to the executor-logs artifact
  (getLogWriter).
  """
  argv = [*container.get('command', []), *container.get('args', [])]
  for arg in argv:
    if '{{$' in arg and arg != EXECUTOR_INPUT_PLACEHOLDER:
      raise UnsupportedTask(f'placeholder {arg!r} is not modelled')
  argv = [json.dumps(executor_input) if a == EXECUTOR_INPUT_PLACEHOLDER
          else a for a in argv]
  status, output = container_process.run(
      argv, {**env, **kfp_driver.pod_env(container)}, workdir, timeout=1800)
  with open(log, 'ab') as f:
    f.write(output)
  logs = executor_input['outputs']['artifacts'].get(kfp_driver.EXECUTOR_LOGS)
  if logs:
    Path(logs['artifacts'][0]['uri']).write_bytes(output)
  return status == 0


@dataclasses.dataclass
class _Launch:
  """A task the driver decided to run: what its container is given."""
  task_name: str
  component: dict
  container: dict
  executor_input: dict  # with the launcher's additions
  execution_id: int
  fingerprint: str
  log: Path


def _drive(task_name: str, spec: dict, run: Run, producers: Dict[str, int],
           cache: Cache, mlmd: kfp_mlmd.Client, run_root: Path,
           log_dir: Path) -> Optional[_Launch]:
  """The driver: the task's ExecutorInput, its execution, and the cache.

  Returns:
    What to launch, or None: the task failed in the driver (Run.failed) or
    took a cached execution's outputs.
  """
  task = spec['root']['dag']['tasks'][task_name]
  component = spec['components'][task['componentRef']['name']]
  container = executor_container(spec, task_name)
  log = log_dir / f'{task_name}.log'
  try:
    inputs = kfp_driver.resolve_inputs(task, component, producers, mlmd)
  except kfp_driver.DriverError as e:
    log.write_text(f'driver: {e}\n')
    run.failed.append(task_name)
    return None
  executor_input = {'inputs': inputs, 'outputs': kfp_driver.provision_outputs(
      str(run_root), task_name, component, str(log_dir / task_name / 'tmp'))}
  run.executor_inputs[task_name] = executor_input
  caching = task.get('cachingOptions', {}).get('enableCache', False)
  fingerprint = (kfp_driver.cache_fingerprint(executor_input, component,
                                              container) if caching else '')
  execution_id = mlmd.create_execution(task_name, inputs['parameterValues'],
                                       {k: v['artifacts'] for k, v in
                                        inputs['artifacts'].items()},
                                       fingerprint)
  producers[task_name] = execution_id
  if fingerprint not in cache.entries:
    launched = steps.with_defaults(executor_input, component)
    steps.prepare_output_folders(launched)
    return _Launch(task_name, component, container, launched, execution_id,
                   fingerprint, log)
  cached = cache.entries[fingerprint]  # driver/cache.go reuseCachedOutputs
  mlmd.publish_execution(execution_id, 'CACHED',
                         mlmd.output_parameters(cached),
                         mlmd.get_output_artifacts_by_execution_id(cached))
  _record_in_run(run, task_name, execution_id, mlmd)
  return None


def _record_in_run(run: Run, task_name: str, execution_id: int,
                   mlmd: kfp_mlmd.Client) -> None:
  run.parameters[task_name] = mlmd.output_parameters(execution_id)
  run.outputs[task_name] = mlmd.get_output_artifacts_by_execution_id(
      execution_id)


def _finish(launch: _Launch, exited_zero: bool, run: Run, cache: Cache,
            mlmd: kfp_mlmd.Client) -> bool:
  """The launcher after the container; True if the task succeeded.

  The outputs are recorded and the execution published.
  """
  try:
    if not exited_zero:
      raise steps.LauncherError(f'failed to execute component: '
                                f'{launch.task_name} exited non-zero')
    written = steps.executor_output(
        Path(launch.executor_input['outputs']['outputFile']))
    parameters = steps.collect_output_parameters(launch.executor_input,
                                                 written, launch.component)
    recorded = steps.record_outputs(launch.executor_input, written, mlmd)
  except steps.LauncherError as e:
    with open(launch.log, 'a') as f:
      f.write(f'launcher: {e}\n')
    mlmd.publish_execution(launch.execution_id, 'FAILED', {}, {})
    run.failed.append(launch.task_name)
    return False
  mlmd.publish_execution(launch.execution_id, 'COMPLETE', parameters,
                         recorded)
  run.executed.append(launch.task_name)
  if launch.fingerprint:
    cache.entries[launch.fingerprint] = launch.execution_id
  _record_in_run(run, launch.task_name, launch.execution_id, mlmd)
  return True


def run_package(package: Path, pipeline_root: Path, env: Dict[str, str],
                log_dir: Path, workdir: Path, run_id: str = 'run-1',
                cache: Optional[Cache] = None, parallelism: int = 2,
                until: Optional[str] = None) -> Run:
  """Runs every task in workdir (the image's WORKDIR) with only `env`.

  Outputs go under pipeline_root / <pipeline name> / run_id; ML Metadata
  and the cache live in `cache` (a new one beside pipeline_root if None). A
  task whose caching is on and whose fingerprint is in the cache is not run
  but takes the cached execution's outputs. Up to `parallelism` containers
  run at once, each as soon as the tasks it depends on succeeded. A task
  whose driver or launcher fails is recorded in Run.failed with the reason
  in its log; as Argo does, the tasks that depend on it are not run
  (Run.skipped) and the others are. With `until`, only that task and the
  tasks it depends on, directly or not, are run.

  Raises:
    UnsupportedTask: the package breaks a backend rule, or uses what this
      stand-in does not model.
  """
  spec = load_pipeline_spec(package)
  problems = kfp_backend_rules.package_problems(spec)
  if problems:
    raise UnsupportedTask('; '.join(problems))
  cache = cache or Cache()
  mlmd = cache.client(pipeline_root.parent / 'mlmd.sqlite')
  run_root = pipeline_root / spec['pipelineInfo']['name'] / run_id
  run, producers = Run({}, {}, []), {}
  tasks = spec['root']['dag']['tasks']
  pending, done, running = task_order(spec), set(), {}
  if until:
    wanted, edge = set(), [until]
    while edge:
      wanted.update(edge)
      edge = [d for t in edge for d in tasks[t].get('dependentTasks', [])]
    pending = [t for t in pending if t in wanted]
  # As Argo: each task starts once every task it depends on has succeeded,
  # up to `parallelism` containers at a time; the driver's and the
  # launcher's ML Metadata work stays in this thread.
  with futures.ThreadPoolExecutor(parallelism) as pool:
    while pending or running:
      before = len(pending)
      for task_name in list(pending):
        needs = set(tasks[task_name].get('dependentTasks', []))
        if needs & {*run.failed, *run.skipped}:
          pending.remove(task_name)
          run.skipped.append(task_name)
        elif needs <= done and len(running) < parallelism:
          pending.remove(task_name)
          launch = _drive(task_name, spec, run, producers, cache, mlmd,
                          run_root, log_dir)
          if launch:
            running[pool.submit(_execute, launch.container,
                                launch.executor_input, env, workdir,
                                launch.log)] = launch
          elif task_name not in run.failed:
            done.add(task_name)
      if not running:
        if len(pending) == before:
          raise UnsupportedTask(f'{pending[0]} can never start')
        continue
      finished, _ = futures.wait(running, return_when=futures.FIRST_COMPLETED)
      for future in finished:
        launch = running.pop(future)
        if _finish(launch, future.result(), run, cache, mlmd):
          done.add(launch.task_name)
  return run
