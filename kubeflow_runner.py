"""Compiles the taxi-tips pipeline for Kubeflow Pipelines 2.x or Vertex AI.

    python kubeflow_runner.py compile [--target kfp|vertex] [--output-dir DIR]

writes the package and prints its path as the last line. Settings (project,
storage root, image, data source, Beam on Dataflow) come from pipeline/configs.py
and the environment variables listed in configs.KUBEFLOW_ENV.

With no command it compiles for Vertex AI: that is what
`tfx pipeline create --engine=vertex --pipeline_path=kubeflow_runner.py`
runs (the CLI's `--engine=kubeflow` is broken in TFX 1.16).
"""

import os

# TFT and TFMA need Keras 2; this must be set before TensorFlow first loads.
os.environ.setdefault('TF_USE_LEGACY_KERAS', '1')
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

import argparse
import dataclasses
from pathlib import Path
import sys

from pipeline import configs

# Open-source KFP cannot run the resolver executors a TFX Resolver compiles
# to; Vertex AI can.
_BASELINE_BY_TARGET = {'kfp': 'latest_pushed', 'vertex': 'resolver'}


def build_pipeline(settings: configs.KubeflowSettings):
  """The one DAG of pipeline/pipeline.py, with cluster paths and resources."""
  from tfx import v1 as tfx
  from kfp.pipeline_spec import pipeline_spec_pb2
  from pipeline import pipeline as pipeline_lib

  tfx_pipeline = pipeline_lib.create_pipeline(
      pipeline_name=configs.check_kubeflow_pipeline_name(
          configs.PIPELINE_NAME),
      pipeline_root=settings.pipeline_root,
      data_root=settings.data_path,
      bigquery_query=settings.bigquery_query or None,
      serving_model_dir=settings.serving_model_dir,
      schema_path=str(configs.CONTAINER_SCHEMA_PATH),
      code_in_image=True,
      baseline=_BASELINE_BY_TARGET[settings.target],
      beam_pipeline_args=settings.beam_pipeline_args())
  resource_spec = (
      pipeline_spec_pb2.PipelineDeploymentConfig.PipelineContainerSpec)
  for component in tfx_pipeline.components:
    if not isinstance(component, tfx.types.BaseComponent):
      continue  # a Resolver runs no container
    wanted = configs.COMPONENT_RESOURCES.get(component.id,
                                             configs.DEFAULT_RESOURCES)
    spec = resource_spec.ResourceSpec(
        cpu_limit=wanted.cpu, memory_limit=wanted.memory_gb)
    if wanted.gpus:
      spec.accelerator.type = wanted.gpu_type
      spec.accelerator.count = wanted.gpus
    component.with_platform_config(spec)
  return tfx_pipeline


def compile_package(settings: configs.KubeflowSettings,
                    output_dir: Path) -> Path:
  """Writes the package: a PipelineSpec YAML for KFP, a PipelineJob JSON
  (which carries the pipeline root) for Vertex AI."""
  from tfx import v1 as tfx

  suffix = 'yaml' if settings.target == 'kfp' else 'json'
  package = output_dir / f'{configs.PIPELINE_NAME}-{settings.target}.{suffix}'
  output_dir.mkdir(parents=True, exist_ok=True)
  runner = tfx.orchestration.experimental.KubeflowV2DagRunner(
      config=tfx.orchestration.experimental.KubeflowV2DagRunnerConfig(
          default_image=settings.image_name,
          # Schema 2.1 writes constants as `constant`; the open-source KFP
          # driver rejects 2.0's `constantValue` ("not implemented").
          use_pipeline_spec_2_1=settings.target == 'kfp'),
      output_dir=str(output_dir),
      output_filename=package.name)
  runner.run(build_pipeline(settings))
  # The TFX CLI redirects the output into its own folder while run() runs.
  return Path(runner._output_dir) / runner._output_filename  # pylint: disable=protected-access


def _parse_args(argv):
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  commands = parser.add_subparsers(dest='command')
  compile_cmd = commands.add_parser('compile', help='write the package')
  compile_cmd.add_argument(
      '--target',
      choices=configs.KUBEFLOW_TARGETS,
      help=f'default: ${configs.KUBEFLOW_ENV["target"]} or kfp')
  compile_cmd.add_argument(
      '--output-dir',
      type=Path,
      default=configs.output_dir_from_env() / 'kubeflow',
      help='default: <OUTPUT_DIR>/kubeflow')
  return parser.parse_args(argv)


def main(argv=None) -> int:
  args = _parse_args(argv)
  try:
    settings = configs.kubeflow_settings_from_env()
  except ValueError as e:
    print(f'error: {e}', file=sys.stderr)
    return 2
  if args.command is None:  # as the TFX CLI (Vertex engine) runs it
    args = _parse_args(['compile', '--target', 'vertex'])
  if args.target:
    settings = dataclasses.replace(settings, target=args.target)
  print(compile_package(settings, args.output_dir.resolve()))
  return 0


if __name__ == '__main__':
  sys.exit(main())
