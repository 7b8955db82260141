"""How each node of the DAG is built.

The pieces create_pipeline(...) (pipeline.py) puts together.
"""

import dataclasses
import hashlib
import json
from typing import Optional

from tfx.components import Evaluator
from tfx.components import ExampleValidator
from tfx.components import SchemaGen
from tfx.components import StatisticsGen
from tfx.components import Transform
from tfx.components.schema_gen.import_schema_gen.component import ImportSchemaGen
from tfx.dsl.components.common.resolver import Resolver
from tfx.proto import example_gen_pb2
from tfx.proto import pusher_pb2
from tfx.proto import trainer_pb2
from tfx.types import Channel
from tfx.types import standard_artifacts

from pipeline import configs
from pipeline.components.baseline.component import LatestPushedModel
from pipeline.components.baseline.strategy import PreviousBlessedModelStrategy
from pipeline.components.csv_example_gen.component import ArrowCsvExampleGen
from pipeline.components.data_gate import component as data_gate_lib
from pipeline.components.pusher.component import Pusher
from pipeline.components.run_report.component import RunReport
from pipeline.in_process.evaluator.component import InMemoryEvaluator
from pipeline.in_process.statistics_gen.component import InMemoryStatisticsGen
from pipeline.in_process.transform.component import InMemoryTransform

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


def example_gen(data_root: str, data_pattern: str,
                 bigquery_table: Optional[str], schema_path: Optional[str],
                 window_spans: int, newest_span: Optional[int]):
  """ExampleGen over a window of spans: of CSV files, or of a BigQuery table.

  The CSV files are typed by the schema; a table's spans are periods of the
  trips' start (pipeline/query_spans.py). The rows are split into train and
  eval by hash.
  """
  split = example_gen_pb2.Output(
      split_config=example_gen_pb2.SplitConfig(splits=[
          example_gen_pb2.SplitConfig.Split(
              name=configs.TRAIN_SPLIT, hash_buckets=configs.TRAIN_BUCKETS),
          example_gen_pb2.SplitConfig.Split(
              name=configs.EVAL_SPLIT, hash_buckets=configs.EVAL_BUCKETS),
      ]))
  if bigquery_table:
    from pipeline.components.bigquery_example_gen.component import SpannedBigQueryExampleGen  # pylint: disable=g-import-not-at-top
    return SpannedBigQueryExampleGen(
        bigquery_table, output_config=split, window_spans=window_spans,
        newest_span=newest_span).with_id('BigQueryExampleGen')
  return ArrowCsvExampleGen(
      input_base=data_root,
      input_config=example_gen_pb2.Input(splits=[
          example_gen_pb2.Input.Split(name='single_split', pattern=data_pattern)
      ]),
      output_config=split,
      schema_file=schema_path,
      window_spans=window_spans,
      newest_span=newest_span).with_id('CsvExampleGen')


def data_checks(examples: Channel, statistics_gen_class,
                schema_path: Optional[str], serving_model_dir: str,
                thresholds: configs.DataGateThresholds):
  """StatisticsGen, SchemaGen, ExampleValidator and the DataGate, in order.

  Returns:
    The four nodes.
  """
  # TFDV's statistics of each split.
  statistics_gen = statistics_gen_class(examples=examples).with_id(
      'StatisticsGen')
  statistics = statistics_gen.outputs['statistics']
  # The curated schema; without one, a schema inferred from the statistics.
  schema_gen = (ImportSchemaGen(schema_file=schema_path) if schema_path else
                SchemaGen(statistics=statistics, infer_feature_shape=False))
  # TFDV's anomalies: the statistics against the schema.
  example_validator = ExampleValidator(
      statistics=statistics, schema=schema_gen.outputs['schema'])
  # Stops the run ahead of training on bad or drifted data
  # (docs/data_gate.md).
  gate = data_gate_lib.DataGate(
      statistics=statistics,
      anomalies=example_validator.outputs['anomalies'],
      schema=schema_gen.outputs['schema'],
      push_destination=serving_model_dir,
      thresholds=data_gate_lib.thresholds_parameter(thresholds))
  return statistics_gen, schema_gen, example_validator, gate


def _beam_transform(**inputs) -> Transform:
  """TFX's Transform writing only the transform graph.

  StatisticsGen already describes the raw data and nothing reads statistics
  of the transformed data: computing both would double Transform's time. No
  analyzer cache either: each run analyzes its whole window anyway. No
  transformed examples: the Trainer applies the graph as it reads
  (models/trainer.py). InMemoryTransform does only this.
  """
  return Transform(**inputs, disable_statistics=True,
                   disable_analyzer_cache=True, materialize=False,
                   force_tf_compat_v1=configs.TRANSFORM_TF_COMPAT_V1)


def beam_steps(without_beam: bool):
  """The classes of StatisticsGen, Transform and the Evaluator.

  TFX's own, each a Beam pipeline, or the same steps computed in the step's
  own process (pipeline/in_process/, local runs).
  """
  if without_beam:
    return InMemoryStatisticsGen, InMemoryTransform, InMemoryEvaluator
  return StatisticsGen, _beam_transform, Evaluator


def train_args(train_steps: int,
               train_epochs: Optional[int]) -> trainer_pb2.TrainArgs:
  """The Trainer's steps: fixed, or none with train_epochs.

  Without steps, run_fn passes train_epochs times over the train split
  (models/trainer.py).
  """
  if train_epochs is None:
    return trainer_pb2.TrainArgs(num_steps=train_steps)
  if train_epochs < 1:
    raise ValueError(f'train_epochs={train_epochs}: expected 1 or more '
                     'passes over the train split')
  return trainer_pb2.TrainArgs()


def baseline(baseline: str, candidate: Channel, serving_model_dir: str):
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


def pusher(model: Channel, examples: Channel, statistics_gen, evaluator,
           serving_check, serving_model_dir: str, record: dict) -> Pusher:
  """The Pusher of a model both blessings passed.

  The model becomes the newest version at the push destination, with its
  record and the statistics of its train split.
  """
  return Pusher(
      model=model, examples=examples,
      model_blessing=evaluator.outputs['blessing'],
      infra_blessing=serving_check.outputs['infra_blessing'],
      push_destination=pusher_pb2.PushDestination(
          filesystem={'base_directory': serving_model_dir}),
      statistics=statistics_gen.outputs['statistics'],
      model_evaluation=evaluator.outputs['evaluation'],
      record=record)


def vertex_deploy(pusher, settings):
  """The VertexDeploy step: each pushed version served on Vertex AI."""
  from pipeline.components.vertex_deploy.component import VertexDeploy  # pylint: disable=g-import-not-at-top
  return VertexDeploy(pushed_model=pusher.outputs['pushed_model'],
                      settings=settings.to_json())


def run_report(example_gen, statistics_gen, gate, trainer, evaluator,
                serving_check, pusher, data: str, serving_model_dir: str,
                trainer_config: dict, eval_thresholds) -> RunReport:
  """The run's report page, from every step's outputs."""
  return RunReport(
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
      trainer_config=json.dumps(trainer_config),
      eval_thresholds=json.dumps(dataclasses.asdict(eval_thresholds)))
