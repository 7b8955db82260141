"""The TFX DAG for taxi tips; runners supply where it reads and writes."""

import dataclasses
import hashlib
import json
from typing import List, Optional

from ml_metadata.proto import metadata_store_pb2
# The components by module, not `from tfx import v1 as tfx`: v1 also loads
# every extension (Vertex AI, BigQuery, KFP clients), ~3 s of each local run.
from tfx.components import Evaluator
from tfx.components import ExampleValidator
from tfx.components import SchemaGen
from tfx.components import StatisticsGen
from tfx.components import Trainer
from tfx.components import Transform
from tfx.components.schema_gen.import_schema_gen.component import ImportSchemaGen
from tfx.dsl.components.common.resolver import Resolver
from tfx.orchestration import pipeline as tfx_pipeline
from tfx.proto import example_gen_pb2
from tfx.proto import pusher_pb2
from tfx.proto import trainer_pb2
from tfx.types import Channel
from tfx.types import standard_artifacts

from models import features
from pipeline import configs
from pipeline.components.baseline.component import LatestPushedModel
from pipeline.components.baseline.strategy import PreviousBlessedModelStrategy
from pipeline.components.csv_example_gen.component import ArrowCsvExampleGen
from pipeline.components.data_gate import component as data_gate_lib
from pipeline.components.eval_schema.component import EvalSchema
from pipeline.components.evaluator.component import InMemoryEvaluator
from pipeline.components.pusher.component import Pusher
from pipeline.components.run_report.component import RunReport
from pipeline.components.serving_check.component import ServingCheck
from pipeline.components.statistics_gen.component import InMemoryStatisticsGen
from pipeline.components.transform.component import InMemoryTransform
from pipeline.metrics.eval_config import create_eval_config

# Node ids, also the names ML Metadata records executions under.
RESOLVER_ID = 'latest_blessed_model_resolver'
LATEST_PUSHED_ID = 'latest-pushed-model'
BASELINES = ('resolver', 'latest_pushed')


def model_code_fingerprint() -> str:
  """A hash of models/*.py.

  Transform and Trainer take it as a parameter, so an edit there re-runs
  them and everything downstream, and nothing upstream: the cache cannot see
  inside code imported by name.

  Returns:
    16 hex digits.
  """
  digest = hashlib.sha256()
  for source in sorted(configs.MODEL_CODE_DIR.glob('*.py')):
    digest.update(source.name.encode() + b'\0' + source.read_bytes())
  return digest.hexdigest()[:16]


def _example_gen(data_root: str, data_pattern: str,
                 bigquery_query: Optional[str], schema_path: Optional[str],
                 window_spans: int, newest_span: Optional[int]):
  """CSV files of a window of spans, typed by the schema (or a BigQuery
  query), split into train and eval by hash."""
  split = example_gen_pb2.Output(
      split_config=example_gen_pb2.SplitConfig(splits=[
          example_gen_pb2.SplitConfig.Split(
              name=configs.TRAIN_SPLIT, hash_buckets=configs.TRAIN_BUCKETS),
          example_gen_pb2.SplitConfig.Split(
              name=configs.EVAL_SPLIT, hash_buckets=configs.EVAL_BUCKETS),
      ]))
  if bigquery_query:
    from tfx.extensions.google_cloud_big_query.example_gen.component import BigQueryExampleGen  # pylint: disable=g-import-not-at-top
    return BigQueryExampleGen(query=bigquery_query, output_config=split)
  return ArrowCsvExampleGen(
      input_base=data_root,
      input_config=example_gen_pb2.Input(splits=[
          example_gen_pb2.Input.Split(name='single_split', pattern=data_pattern)
      ]),
      output_config=split,
      schema_file=schema_path,
      window_spans=window_spans,
      newest_span=newest_span).with_id('CsvExampleGen')


def _baseline(baseline: str, candidate: Channel, serving_model_dir: str):
  """(the node finding the last blessed model, its model channel).

  'resolver' queries ML Metadata (local runs); 'latest_pushed' copies the
  newest version at the push destination (Kubeflow Pipelines, Vertex AI).
  """
  if baseline not in BASELINES:
    raise ValueError(f'baseline={baseline!r}: expected one of {BASELINES}')
  if baseline == 'resolver':
    node = Resolver(
        strategy_class=PreviousBlessedModelStrategy,
        config={'push_destination': serving_model_dir},
        model=Channel(type=standard_artifacts.Model),
        model_blessing=Channel(type=standard_artifacts.ModelBlessing),
        candidate=candidate).with_id(RESOLVER_ID)
    return node, node.outputs['model']
  node = LatestPushedModel(
      candidate=candidate,
      push_destination=serving_model_dir).with_id(LATEST_PUSHED_ID)
  return node, node.outputs['baseline']


def _transform_and_trainer(example_gen, schema_gen, train_steps: int,
                           eval_steps: int, hparams: dict,
                           code_fingerprint: str, warm_start_from: Optional[str],
                           without_beam: bool):
  """Transform and Trainer running the model code of models/; the code's
  fingerprint is part of both components' parameters, so a models/ edit
  re-runs them."""
  transform_inputs = dict(
      examples=example_gen.outputs['examples'],
      schema=schema_gen.outputs['schema'],
      preprocessing_fn=configs.PREPROCESSING_FN,
      custom_config={'code_fingerprint': code_fingerprint})
  # StatisticsGen already describes the raw data and nothing reads statistics
  # of the transformed data: computing both would double Transform's time.
  # No analyzer cache either: each run analyzes its whole span anyway. No
  # transformed examples: the Trainer applies the transform graph as it reads
  # (models/trainer.py). InMemoryTransform does only that.
  transform = (InMemoryTransform(**transform_inputs) if without_beam else
               Transform(**transform_inputs, disable_statistics=True,
                         disable_analyzer_cache=True, materialize=False,
                         force_tf_compat_v1=configs.TRANSFORM_TF_COMPAT_V1)
              ).with_id('Transform')

  trainer = Trainer(
      run_fn=configs.RUN_FN,
      examples=example_gen.outputs['examples'],
      transform_graph=transform.outputs['transform_graph'],
      schema=schema_gen.outputs['schema'],
      train_args=trainer_pb2.TrainArgs(num_steps=train_steps),
      eval_args=trainer_pb2.EvalArgs(num_steps=eval_steps),
      custom_config={'hparams': hparams,
                     'code_fingerprint': code_fingerprint,
                     'warm_start_from': warm_start_from})
  return transform, trainer


def create_pipeline(
    pipeline_name: str,
    pipeline_root: str,
    data_root: str,
    serving_model_dir: str,
    *,
    data_pattern: str = '*.csv',
    window_spans: int = configs.WINDOW_SPANS,
    newest_span: Optional[int] = None,
    bigquery_query: Optional[str] = None,
    schema_path: Optional[str] = str(configs.SCHEMA_PATH),
    baseline: str = 'resolver',
    train_steps: int = configs.TRAIN_STEPS,
    eval_steps: int = configs.EVAL_STEPS,
    hparams: Optional[dict] = None,
    warm_start: bool = configs.WARM_START,
    eval_thresholds: configs.EvalThresholds = configs.EVAL_THRESHOLDS,
    data_gate: configs.DataGateThresholds = configs.DATA_GATE,
    metadata_connection_config: Optional[metadata_store_pb2.ConnectionConfig] = None,
    beam_pipeline_args: Optional[List[str]] = None,
    without_beam: bool = False,
    enable_cache: bool = True,
    image: Optional[str] = None,
    run_report: bool = False,
) -> tfx_pipeline.Pipeline:
  """The taxi-tips DAG: ExampleGen -> ... -> Trainer -> the Evaluator and
  the ServingCheck -> Pusher.

  Args:
    pipeline_name: the name ML Metadata and Kubeflow record runs under.
    pipeline_root: where every component writes its artifacts.
    data_root: the folder of CSV files to read.
    serving_model_dir: the push destination (TF Serving's versioned layout).
    data_pattern: which files under data_root to read (`span-*/*.csv` for
      span folders: pipeline/spans.py).
    window_spans: how many of the newest spans to train on.
    newest_span: the newest span to train on (a backfill); None: the newest
      there is when ExampleGen runs.
    bigquery_query: a query to read the rows from instead (CSV's columns).
    schema_path: the curated schema; None makes SchemaGen infer one.
    baseline: where the Evaluator's baseline comes from: one of BASELINES
      (pipeline/components/baseline/).
    train_steps: Trainer steps.
    eval_steps: Trainer validation steps.
    hparams: run_fn's hyperparameters (default: configs.HPARAMS).
    warm_start: start training from the serving model's weights.
    eval_thresholds: what the Evaluator requires before it blesses a model.
    data_gate: how far new data may drift before the run stops ahead of
      Transform and Trainer (pipeline/components/data_gate/).
    metadata_connection_config: the ML Metadata store (local runs).
    beam_pipeline_args: Beam options (default: configs.BEAM_PIPELINE_ARGS).
    without_beam: StatisticsGen, Transform and the Evaluator compute in their
      own process, without a Beam pipeline (pipeline/components/
      statistics_gen/, transform/ and evaluator/), and the ServingCheck
      waits for the Evaluator (local runs).
    enable_cache: reuse the outputs of executions with the same inputs.
    image: the container image the tasks run (cluster runs), recorded with
      each pushed version.
    run_report: end with the RunReport step (cluster runs; the local runner
      writes its report itself, from ML Metadata).

  Returns:
    The tfx Pipeline.

  Raises:
    ValueError: baseline is not one of BASELINES.
  """
  data = bigquery_query or f'{data_root}/{data_pattern}'
  example_gen = _example_gen(data_root, data_pattern, bigquery_query,
                             schema_path, window_spans, newest_span)
  statistics_gen = (
      InMemoryStatisticsGen if without_beam else StatisticsGen)(
          examples=example_gen.outputs['examples']).with_id('StatisticsGen')
  # With no curated schema, SchemaGen infers one from the statistics.
  schema_gen = (
      ImportSchemaGen(schema_file=schema_path) if schema_path else SchemaGen(
          statistics=statistics_gen.outputs['statistics'],
          infer_feature_shape=False))
  example_validator = ExampleValidator(
      statistics=statistics_gen.outputs['statistics'],
      schema=schema_gen.outputs['schema'])
  gate = data_gate_lib.DataGate(
      statistics=statistics_gen.outputs['statistics'],
      anomalies=example_validator.outputs['anomalies'],
      schema=schema_gen.outputs['schema'],
      push_destination=serving_model_dir,
      thresholds=data_gate_lib.thresholds_parameter(data_gate))

  code_fingerprint = model_code_fingerprint()
  hparams = hparams or configs.HPARAMS
  transform, trainer = _transform_and_trainer(
      example_gen, schema_gen, train_steps, eval_steps, hparams,
      code_fingerprint, serving_model_dir if warm_start else None,
      without_beam)
  # Nothing is trained on data the gate stopped.
  transform.add_upstream_node(gate)
  trainer.add_upstream_node(gate)
  baseline_node, baseline_model = _baseline(
      baseline, trainer.outputs['model'], serving_model_dir)
  eval_schema = EvalSchema(schema=schema_gen.outputs['schema'],
                           columns=','.join(features.SLICE_FEATURE_KEYS))
  evaluator = (InMemoryEvaluator if without_beam else Evaluator)(
      examples=example_gen.outputs['examples'],
      model=trainer.outputs['model'],
      baseline_model=baseline_model,
      schema=eval_schema.outputs['eval_schema'],
      eval_config=create_eval_config(
          eval_thresholds, features.SLICE_FEATURE_KEYS)).with_id('Evaluator')
  serving_check = ServingCheck(
      model=trainer.outputs['model'],
      examples=example_gen.outputs['examples'],
      rows=configs.SERVING_CHECK_ROWS)
  if without_beam:
    # One machine: the Evaluator's models and the check's fresh process
    # would otherwise be in memory at once (docs/benchmarks.md).
    serving_check.add_upstream_node(evaluator)
  pusher = Pusher(
      model=trainer.outputs['model'],
      model_blessing=evaluator.outputs['blessing'],
      infra_blessing=serving_check.outputs['infra_blessing'],
      push_destination=pusher_pb2.PushDestination(
          filesystem={'base_directory': serving_model_dir}),
      statistics=statistics_gen.outputs['statistics'],
      model_evaluation=evaluator.outputs['evaluation'],
      examples=example_gen.outputs['examples'],
      record={'code_fingerprint': code_fingerprint, 'image': image,
              'data': data})
  components = [example_gen, statistics_gen, schema_gen, example_validator,
                gate, transform, trainer, baseline_node, eval_schema,
                evaluator, serving_check, pusher]
  if run_report:
    components.append(RunReport(
        examples=example_gen.outputs['examples'],
        statistics=statistics_gen.outputs['statistics'],
        gate_decision=gate.outputs['decision'],
        model_run=trainer.outputs['model_run'],
        evaluation=evaluator.outputs['evaluation'],
        blessing=evaluator.outputs['blessing'],
        infra_blessing=serving_check.outputs['infra_blessing'],
        pushed_model=pusher.outputs['pushed_model'],
        data=data,
        push_destination=serving_model_dir,
        trainer_config=json.dumps({'hparams': hparams,
                                   'code_fingerprint': code_fingerprint}),
        eval_thresholds=json.dumps(dataclasses.asdict(eval_thresholds))))

  return tfx_pipeline.Pipeline(
      pipeline_name=pipeline_name,
      pipeline_root=pipeline_root,
      components=components,
      enable_cache=enable_cache,
      metadata_connection_config=metadata_connection_config,
      beam_pipeline_args=beam_pipeline_args or configs.BEAM_PIPELINE_ARGS)
