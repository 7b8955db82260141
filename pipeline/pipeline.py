"""The TFX DAG for taxi tips; runners supply where it reads and writes."""

from typing import List, Optional

from ml_metadata.proto import metadata_store_pb2
from tfx import v1 as tfx

from pipeline import configs
from pipeline.eval_config import create_eval_config

# Node ids, also the names ML Metadata records executions under.
RESOLVER_ID = 'latest_blessed_model_resolver'


def create_pipeline(
    pipeline_name: str,
    pipeline_root: str,
    data_root: str,
    serving_model_dir: str,
    *,
    data_pattern: str = '*.csv',
    schema_path: Optional[str] = str(configs.SCHEMA_PATH),
    preprocessing_module: str = str(configs.PREPROCESSING_MODULE),
    trainer_module: str = str(configs.TRAINER_MODULE),
    train_steps: int = configs.TRAIN_STEPS,
    eval_steps: int = configs.EVAL_STEPS,
    hparams: Optional[dict] = None,
    eval_thresholds: configs.EvalThresholds = configs.EVAL_THRESHOLDS,
    metadata_connection_config: Optional[
        metadata_store_pb2.ConnectionConfig] = None,
    beam_pipeline_args: Optional[List[str]] = None,
    enable_cache: bool = True,
) -> tfx.dsl.Pipeline:
  """ExampleGen -> ... -> Pusher; schema_path=None infers the schema instead."""
  example_gen = tfx.components.CsvExampleGen(
      input_base=data_root,
      input_config=tfx.proto.Input(splits=[
          tfx.proto.Input.Split(name='single_split', pattern=data_pattern)
      ]),
      output_config=tfx.proto.Output(
          split_config=tfx.proto.SplitConfig(splits=[
              tfx.proto.SplitConfig.Split(
                  name='train', hash_buckets=configs.TRAIN_BUCKETS),
              tfx.proto.SplitConfig.Split(
                  name='eval', hash_buckets=configs.EVAL_BUCKETS),
          ])))

  statistics_gen = tfx.components.StatisticsGen(
      examples=example_gen.outputs['examples'])

  if schema_path is None:
    schema_gen = tfx.components.SchemaGen(
        statistics=statistics_gen.outputs['statistics'],
        infer_feature_shape=False)
  else:
    schema_gen = tfx.components.ImportSchemaGen(schema_file=schema_path)

  example_validator = tfx.components.ExampleValidator(
      statistics=statistics_gen.outputs['statistics'],
      schema=schema_gen.outputs['schema'])

  transform = tfx.components.Transform(
      examples=example_gen.outputs['examples'],
      schema=schema_gen.outputs['schema'],
      module_file=preprocessing_module)

  trainer = tfx.components.Trainer(
      module_file=trainer_module,
      examples=transform.outputs['transformed_examples'],
      transform_graph=transform.outputs['transform_graph'],
      schema=schema_gen.outputs['schema'],
      train_args=tfx.proto.TrainArgs(num_steps=train_steps),
      eval_args=tfx.proto.EvalArgs(num_steps=eval_steps),
      custom_config={'hparams': hparams or configs.HPARAMS})

  model_resolver = tfx.dsl.Resolver(
      strategy_class=tfx.dsl.experimental.LatestBlessedModelStrategy,
      model=tfx.dsl.Channel(type=tfx.types.standard_artifacts.Model),
      model_blessing=tfx.dsl.Channel(
          type=tfx.types.standard_artifacts.ModelBlessing)).with_id(RESOLVER_ID)

  evaluator = tfx.components.Evaluator(
      examples=example_gen.outputs['examples'],
      model=trainer.outputs['model'],
      baseline_model=model_resolver.outputs['model'],
      eval_config=create_eval_config(eval_thresholds, configs.SLICE_FEATURES))

  pusher = tfx.components.Pusher(
      model=trainer.outputs['model'],
      model_blessing=evaluator.outputs['blessing'],
      push_destination=tfx.proto.PushDestination(
          filesystem=tfx.proto.PushDestination.Filesystem(
              base_directory=serving_model_dir)))

  return tfx.dsl.Pipeline(
      pipeline_name=pipeline_name,
      pipeline_root=pipeline_root,
      components=[
          example_gen, statistics_gen, schema_gen, example_validator,
          transform, trainer, model_resolver, evaluator, pusher
      ],
      enable_cache=enable_cache,
      metadata_connection_config=metadata_connection_config,
      beam_pipeline_args=beam_pipeline_args or configs.BEAM_PIPELINE_ARGS)
