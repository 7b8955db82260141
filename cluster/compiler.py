"""Compiles the pipeline into a Kubeflow Pipelines 2.x or Vertex AI package."""

from pathlib import Path

from cluster import settings as cluster_settings


def build_pipeline(settings: cluster_settings.KubeflowSettings):
  """The one DAG of pipeline/pipeline.py, with cluster paths and resources.

  Args:
    settings: where and how the pipeline runs on the cluster.

  Returns:
    The tfx Pipeline, each container component with its resource limits.

  Raises:
    ValueError: the pipeline name or the resource table is invalid.
  """
  from kfp.pipeline_spec import pipeline_spec_pb2
  from tfx.dsl.components.base.base_component import BaseComponent
  from pipeline import configs
  from pipeline import pipeline as pipeline_lib

  tfx_pipeline = pipeline_lib.create_pipeline(
      pipeline_name=cluster_settings.check_kubeflow_pipeline_name(
          configs.PIPELINE_NAME),
      pipeline_root=settings.pipeline_root,
      data_root=settings.data_path,
      bigquery_query=settings.bigquery_query or None,
      serving_model_dir=settings.serving_model_dir,
      schema_path=str(cluster_settings.CONTAINER_SCHEMA_PATH),
      # Neither backend runs our ML Metadata query
      # (pipeline/components/baseline/).
      baseline='latest_pushed',
      beam_pipeline_args=settings.beam_pipeline_args())
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
      spec.accelerator.type = wanted.gpu_type
      spec.accelerator.count = wanted.gpus
    component.with_platform_config(spec)
  return tfx_pipeline


def compile_package(settings: cluster_settings.KubeflowSettings,
                    output_dir: Path) -> Path:
  """Writes the package for settings.target.

  Args:
    settings: where and how the pipeline runs on the cluster.
    output_dir: the folder to write it in (the TFX CLI may redirect it).

  Returns:
    The package written: a PipelineSpec YAML for KFP, a PipelineJob JSON
    (which carries the pipeline root) for Vertex AI.
  """
  from tfx.orchestration.kubeflow.v2 import kubeflow_v2_dag_runner
  from pipeline import configs

  suffix = 'yaml' if settings.target == 'kfp' else 'json'
  package = output_dir / f'{configs.PIPELINE_NAME}-{settings.target}.{suffix}'
  output_dir.mkdir(parents=True, exist_ok=True)
  runner = kubeflow_v2_dag_runner.KubeflowV2DagRunner(
      config=kubeflow_v2_dag_runner.KubeflowV2DagRunnerConfig(
          default_image=settings.image_name,
          # Schema 2.1 writes constants as `constant`; the open-source KFP
          # driver rejects 2.0's `constantValue` ("not implemented").
          use_pipeline_spec_2_1=settings.target == 'kfp'),
      output_dir=str(output_dir),
      output_filename=package.name)
  runner.run(build_pipeline(settings))
  # The TFX CLI redirects the output into its own folder while run() runs.
  return Path(runner._output_dir) / runner._output_filename  # pylint: disable=protected-access
