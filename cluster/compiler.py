"""Compiles the pipeline into a Kubeflow Pipelines 2.x or Vertex AI package."""

import json
from pathlib import Path
from typing import List, Optional

from google.protobuf import json_format
import yaml

from cluster import dataflow
from cluster import settings as cluster_settings

FINGERPRINT_TASK = 'data-fingerprint'
# ExampleGen's parameter holding the fingerprint: the exec property TFX's
# ExampleGen driver would set; the executor does not read it.
FINGERPRINT_PARAMETER = 'input_fingerprint'


def build_pipeline(settings: cluster_settings.KubeflowSettings,
                   newest_span: Optional[int] = None):
  """The one DAG of pipeline/pipeline.py, with cluster paths and resources.

  Args:
    settings: where and how the pipeline runs on the cluster.
    newest_span: train with this span as the newest (a backfill); None: the
      newest there is when the run reads the data.

  Returns:
    The tfx Pipeline, each container component with its resource limits,
    each Beam component with its runner's options.

  Raises:
    ValueError: the pipeline name, the resource table or the Dataflow table
      is invalid.
  """
  from kfp.pipeline_spec import pipeline_spec_pb2
  from tfx.dsl.components.base.base_beam_component import BaseBeamComponent
  from tfx.dsl.components.base.base_component import BaseComponent
  from pipeline import configs
  from pipeline import pipeline as pipeline_lib
  from pipeline.components.vertex_deploy.settings import DeploySettings

  tfx_pipeline = pipeline_lib.create_pipeline(
      pipeline_name=cluster_settings.check_kubeflow_pipeline_name(
          configs.PIPELINE_NAME),
      pipeline_root=settings.pipeline_root,
      data_root=settings.data_path,
      newest_span=newest_span,
      bigquery_table=settings.bigquery_table or None,
      train_epochs=settings.train_epochs or None,
      serving_model_dir=settings.serving_model_dir,
      schema_path=str(cluster_settings.CONTAINER_SCHEMA_PATH),
      # Neither backend runs our ML Metadata query
      # (pipeline/components/baseline/).
      baseline='latest_pushed',
      beam_pipeline_args=settings.beam_pipeline_args(),
      image=settings.image_name,
      run_report=True,
      vertex_deploy=(DeploySettings(project=settings.project,
                                    region=settings.region)
                     if settings.target == 'vertex' else None))
  containers = [c for c in tfx_pipeline.components
                if isinstance(c, BaseComponent)]  # a Resolver runs none
  resources = cluster_settings.resources_by_component(c.id for c in containers)
  resource_spec = (
      pipeline_spec_pb2.PipelineDeploymentConfig.PipelineContainerSpec)
  for component in containers:
    wanted = resources[component.id]
    spec = resource_spec.ResourceSpec(
        cpu_limit=wanted.cpu, memory_limit=wanted.memory_gb)
    if wanted.gpus:
      spec.accelerator.type = wanted.accelerator_type(settings.target)
      spec.accelerator.count = wanted.gpus
    component.with_platform_config(spec)
  beam_ids = [c.id for c in containers if isinstance(c, BaseBeamComponent)]
  if settings.beam_on_dataflow:
    dataflow.check_components(beam_ids)
  for component in containers:
    if component.id in beam_ids:
      component.with_beam_pipeline_args(
          dataflow.beam_args(component.id, settings.region,
                             settings.dataflow_image_name)
          if settings.beam_on_dataflow else
          cluster_settings.direct_runner_args(resources[component.id]))
  return tfx_pipeline


def _complete(spec: dict, tfx_pipeline, settings) -> None:
  """Adds to a compiled PipelineSpec what TFX 1.16's compiler leaves out.

  Its step builder drops platform_config for file-based ExampleGens, so
  CsvExampleGen would run without limits; and it writes no
  defaultPipelineRoot, which the KFP dashboard's "Create run" form offers
  (without one a run falls back to the kfp-launcher ConfigMap's minio://
  root, which TFX cannot write).

  KFP's cache key of ExampleGen holds no trace of the input data (TFX
  fingerprints it in a preCacheCheck hook, which the open-source backend
  never runs), so a cached ExampleGen would hand every later run the first
  run's examples. A CSV or spanned BigQuery ExampleGen on KFP gets the
  fingerprint from an uncached task instead (_fingerprint_input); any other
  is never cached.

  Each container gets TensorFlow's thread pools sized to its CPU limit, in
  its env (TFX has no such option).
  """
  from tfx.components.example_gen.component import FileBasedExampleGen
  from tfx.components.example_gen.component import QueryBasedExampleGen
  from pipeline.components.bigquery_example_gen.component import SpannedBigQueryExampleGen

  executors = spec['deploymentSpec']['executors']
  tasks = spec['root']['dag']['tasks']
  for component in tfx_pipeline.components:
    if isinstance(component, (FileBasedExampleGen, SpannedBigQueryExampleGen)
                  ) and settings.target == 'kfp':
      _fingerprint_input(spec, component.id, settings.project)
    elif isinstance(component, (FileBasedExampleGen, QueryBasedExampleGen)):
      tasks[component.id]['cachingOptions'] = {'enableCache': False}
    executor = executors.get(f'{component.id}_executor', {})
    container = executor.get('container')
    if container is None or not component.platform_config:
      continue
    if 'resources' not in container:
      container['resources'] = json_format.MessageToDict(
          component.platform_config)
    container['env'] = [{'name': name, 'value': value} for name, value in
                        cluster_settings.tensorflow_thread_env(
                            component.platform_config.cpu_limit).items()]
  spec['defaultPipelineRoot'] = settings.pipeline_root


def _probe_args(parameters: dict, project: str) -> List[str]:
  """The data-fingerprint task's probe and its arguments, from ExampleGen's.

  A spanned BigQuery ExampleGen's probe query, or a file-based one's folder
  and pattern.
  """
  from pipeline.components.bigquery_example_gen import executor

  def constant(name):
    return parameters[name]['runtimeValue']['constant']

  if executor.PROBE_QUERY_KEY in parameters:
    return ['bigquery', constant(executor.PROBE_QUERY_KEY), project]
  [split] = json.loads(constant('input_config'))['splits']
  return ['files', constant('input_base'), split['pattern']]


def _fingerprint_input(spec: dict, example_gen_id: str, project: str) -> None:
  """Keys ExampleGen's cache on its data with the data-fingerprint task.

  Adds the uncached data-fingerprint task and makes its output a parameter
  of ExampleGen, so ExampleGen's cache key changes with the data
  (pipeline/components/data_fingerprint.py).
  """
  from pipeline.components import data_fingerprint

  tasks = spec['root']['dag']['tasks']
  task = tasks[example_gen_id]
  component = spec['components'][task['componentRef']['name']]
  container = spec['deploymentSpec']['executors'][component['executorLabel']][
      'container']
  parameters = task['inputs']['parameters']
  spec['components'][FINGERPRINT_TASK] = {
      'executorLabel': f'{FINGERPRINT_TASK}_executor',
      'outputDefinitions': {'parameters': {
          data_fingerprint.OUTPUT_KEY: {'parameterType': 'STRING'}}}}
  spec['deploymentSpec']['executors'][f'{FINGERPRINT_TASK}_executor'] = {
      'container': {
          'image': container['image'],
          'command': ['python', '-m', data_fingerprint.__name__],
          'args': ['{{$}}', *_probe_args(parameters, project)],
          'resources': {
              'cpuLimit': cluster_settings.DEFAULT_RESOURCES.cpu,
              'memoryLimit': cluster_settings.DEFAULT_RESOURCES.memory_gb}}}
  tasks[FINGERPRINT_TASK] = {
      'componentRef': {'name': FINGERPRINT_TASK},
      'taskInfo': {'name': FINGERPRINT_TASK},
      'cachingOptions': {'enableCache': False}}
  component['inputDefinitions']['parameters'][FINGERPRINT_PARAMETER] = {
      'parameterType': 'STRING'}
  parameters[FINGERPRINT_PARAMETER] = {'taskOutputParameter': {
      'producerTask': FINGERPRINT_TASK,
      'outputParameterKey': data_fingerprint.OUTPUT_KEY}}
  task['dependentTasks'] = sorted(
      set(task.get('dependentTasks', [])) | {FINGERPRINT_TASK})
  # TFX's entrypoint reads the parameters' types from this argument.
  inputs_spec = json.dumps(component['inputDefinitions'], indent=2,
                           sort_keys=True)
  for args in (container['args'],
               container.get('lifecycle', {}).get('preCacheCheck', {}).get(
                   'args', [])):
    if '--json_serialized_inputs_spec_args' in args:
      args[args.index('--json_serialized_inputs_spec_args') + 1] = inputs_spec


def compile_package(settings: cluster_settings.KubeflowSettings,
                    output_dir: Path, newest_span: Optional[int] = None) -> Path:
  """Writes the package for settings.target.

  Runtime parameters are broken in TFX 1.16's V2 runner (tensorflow/tfx#7733),
  so a backfill is a package of its own, the span compiled in.

  Args:
    settings: where and how the pipeline runs on the cluster.
    output_dir: the folder to write it in (the TFX CLI may redirect it).
    newest_span: compile a backfill with this span as the newest (its file
      name says so); None: the scheduled pipeline, reading the newest span.

  Returns:
    The package written: a PipelineSpec YAML for KFP, a PipelineJob JSON
    (which carries the pipeline root) for Vertex AI.
  """
  from tfx.orchestration.kubeflow.v2 import kubeflow_v2_dag_runner
  from pipeline import configs
  from pipeline import task_entrypoint

  suffix = 'yaml' if settings.target == 'kfp' else 'json'
  backfill = '' if newest_span is None else f'-span-{newest_span}'
  package = (output_dir /
             f'{configs.PIPELINE_NAME}-{settings.target}{backfill}.{suffix}')
  output_dir.mkdir(parents=True, exist_ok=True)
  runner = kubeflow_v2_dag_runner.KubeflowV2DagRunner(
      config=kubeflow_v2_dag_runner.KubeflowV2DagRunnerConfig(
          default_image=settings.image_name,
          # Ours, which hands over to TFX's once the ExecutorInput is one
          # TFX reads (pipeline/task_entrypoint.py).
          default_commands=task_entrypoint.COMMAND,
          # Schema 2.1 writes constants as `constant`; the open-source KFP
          # driver rejects 2.0's `constantValue` ("not implemented").
          use_pipeline_spec_2_1=settings.target == 'kfp'),
      output_dir=str(output_dir),
      output_filename=package.name)
  tfx_pipeline = build_pipeline(settings, newest_span)
  runner.run(tfx_pipeline)
  # The TFX CLI redirects the output into its own folder while run() runs.
  written = Path(runner._output_dir) / runner._output_filename  # pylint: disable=protected-access
  if written.exists():  # not when the TFX CLI only inspects the pipeline
    _rewrite(written, lambda spec: _complete(spec, tfx_pipeline, settings))
  return written


def task_names(package: Path) -> List[str]:
  """A KFP package's tasks, each after the tasks it depends on."""
  from cluster.kfp_client import run_info
  spec = yaml.safe_load(package.read_text())
  return run_info.dependency_order(spec['root']['dag']['tasks'])


def _rewrite(package: Path, change) -> None:
  """Applies change to the PipelineSpec in a compiled package.

  The package is a YAML (KFP) or JSON (Vertex AI PipelineJob) file.
  """
  if package.suffix == '.json':
    job = json.loads(package.read_text())
    change(job['pipelineSpec'])
    package.write_text(json.dumps(job, indent=2, sort_keys=True))
  else:
    spec = yaml.safe_load(package.read_text())
    change(spec)
    package.write_text(yaml.safe_dump(spec, sort_keys=True))
