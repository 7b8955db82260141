"""The TFX DAG for taxi tips; runners supply where it reads and writes.

create_pipeline(...) reads top-down, one comment per node; how each node is
configured is in nodes.py.
"""

from typing import List, Optional

from ml_metadata.proto import metadata_store_pb2
# The components by module, not `from tfx import v1 as tfx`: v1 also loads
# every extension (Vertex AI, BigQuery, KFP clients), ~3 s of each local run.
from tfx.components import Trainer
from tfx.orchestration import pipeline as tfx_pipeline
from tfx.proto import trainer_pb2

from models import features
from pipeline import configs
from pipeline import nodes
from pipeline.components.eval_schema.component import EvalSchema
from pipeline.components.serving_check.component import ServingCheck
from pipeline.components.vertex_deploy.settings import DeploySettings
from pipeline.metrics.eval_config import create_eval_config
from pipeline.nodes import BASELINES  # pylint: disable=unused-import
from pipeline.nodes import LATEST_PUSHED_ID  # pylint: disable=unused-import
from pipeline.nodes import RESOLVER_ID  # pylint: disable=unused-import


def create_pipeline(
    pipeline_name: str,
    pipeline_root: str,
    data_root: str,
    serving_model_dir: str,
    *,
    data_pattern: str = '*.csv',
    window_spans: int = configs.WINDOW_SPANS,
    newest_span: Optional[int] = None,
    bigquery_table: Optional[str] = None,
    schema_path: Optional[str] = str(configs.SCHEMA_PATH),
    baseline: str = 'resolver',
    train_steps: int = configs.TRAIN_STEPS,
    train_epochs: Optional[int] = None,
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
    vertex_deploy: Optional[DeploySettings] = None,
) -> tfx_pipeline.Pipeline:
  """The taxi-tips DAG, from ExampleGen to the Pusher.

  ExampleGen -> ... -> Trainer -> the Evaluator and the ServingCheck ->
  Pusher, top-down below, one comment per node.

  On Kubeflow Pipelines, cluster/compiler.py adds one task before
  ExampleGen, `data-fingerprint`, whose output keys ExampleGen's cache on
  the data it reads, and completes the package (cache options, resource
  limits, the default pipeline root, the task entrypoint).

  Args:
    pipeline_name: the name ML Metadata and Kubeflow record runs under.
    pipeline_root: where every component writes its artifacts.
    data_root: the folder of CSV files to read, unless bigquery_table.
    serving_model_dir: the push destination (TF Serving's versioned layout).
    data_pattern: which files under data_root to read (`span-*/*.csv` for
      span folders: pipeline/spans.py).
    window_spans: how many of the newest spans to train on.
    newest_span: the newest span to train on (a backfill); None: the newest
      there is when ExampleGen runs.
    bigquery_table: a BigQuery table to read spans of instead
      (`project.dataset.table` with the Chicago taxi trips columns:
      pipeline/query_spans.py).
    schema_path: the curated schema; None makes SchemaGen infer one.
    baseline: where the Evaluator's baseline comes from: one of BASELINES
      (pipeline/components/baseline/).
    train_steps: Trainer steps.
    train_epochs: passes over the train split instead of train_steps, so a
      window whose size varies (a table's months) is trained on whole.
    eval_steps: Trainer validation steps.
    hparams: run_fn's hyperparameters (default: configs.HPARAMS).
    warm_start: start training from the serving model's weights.
    eval_thresholds: what the Evaluator requires before it blesses a model.
    data_gate: how far new data may drift before the run stops ahead of
      Transform and Trainer (pipeline/components/data_gate/).
    metadata_connection_config: the ML Metadata store (local runs).
    beam_pipeline_args: Beam options (default: configs.BEAM_PIPELINE_ARGS).
    without_beam: StatisticsGen, Transform and the Evaluator compute in their
      own process, without a Beam pipeline (pipeline/in_process/), and the
      ServingCheck waits for the Evaluator (local runs; `local_runner.py
      --with-beam` sets it False).
    enable_cache: reuse the outputs of executions with the same inputs.
    image: the container image the tasks run (cluster runs), recorded with
      each pushed version.
    run_report: end with the RunReport step (cluster runs; the local runner
      writes its report itself, from ML Metadata).
    vertex_deploy: serve each pushed version from this Vertex AI endpoint
      (the VertexDeploy step after the Pusher; Vertex AI runs only).

  Returns:
    The tfx Pipeline.

  Raises:
    ValueError: baseline is not one of BASELINES, or train_epochs is below 1.
  """
  data = bigquery_table or f'{data_root}/{data_pattern}'
  code_fingerprint = nodes.model_code_fingerprint()
  hparams = hparams or configs.HPARAMS
  statistics_gen_class, transform_class, evaluator_class = nodes.beam_steps(
      without_beam)

  # The newest window of spans, typed by the schema, split train / eval.
  example_gen = nodes.example_gen(data_root, data_pattern, bigquery_table,
                                  schema_path, window_spans, newest_span)
  examples = example_gen.outputs['examples']
  # StatisticsGen, SchemaGen (or the curated schema), ExampleValidator and
  # the DataGate, which stops bad or drifted data before training.
  statistics_gen, schema_gen, example_validator, gate = nodes.data_checks(
      examples, statistics_gen_class, schema_path, serving_model_dir,
      data_gate)
  schema = schema_gen.outputs['schema']
  # models/preprocessing.py's analysis: vocabularies and scales. The code's
  # fingerprint is a parameter here and in the Trainer, so an edit of
  # models/ re-runs both.
  transform = transform_class(
      examples=examples, schema=schema,
      preprocessing_fn=configs.PREPROCESSING_FN,
      custom_config={'code_fingerprint': code_fingerprint}).with_id('Transform')
  # models/trainer.py's run_fn, from the serving model's weights if
  # warm_start.
  trainer = Trainer(
      run_fn=configs.RUN_FN, examples=examples, schema=schema,
      transform_graph=transform.outputs['transform_graph'],
      train_args=nodes.train_args(train_steps, train_epochs),
      eval_args=trainer_pb2.EvalArgs(num_steps=eval_steps),
      custom_config={'hparams': hparams, 'code_fingerprint': code_fingerprint,
                     'train_epochs': train_epochs,
                     'warm_start_from': serving_model_dir if warm_start
                                        else None})
  # Nothing is trained on data the gate stopped.
  for node in (transform, trainer):
    node.add_upstream_node(gate)
  model = trainer.outputs['model']
  # The last blessed model: the Evaluator's baseline.
  baseline_node, baseline_model = nodes.baseline(baseline, model,
                                                 serving_model_dir)
  # The schema's slicing columns, which the Evaluator decodes.
  eval_schema = EvalSchema(schema=schema,
                           columns=','.join(features.SLICE_FEATURE_KEYS))
  # Blesses a candidate that meets the thresholds, no worse than the baseline.
  evaluator = evaluator_class(
      examples=examples, model=model, baseline_model=baseline_model,
      schema=eval_schema.outputs['eval_schema'],
      eval_config=create_eval_config(
          eval_thresholds, features.SLICE_FEATURE_KEYS)).with_id('Evaluator')
  # Loads the candidate in a fresh process; scores raw rows as a client would.
  serving_check = ServingCheck(model=model, examples=examples,
                               rows=configs.SERVING_CHECK_ROWS)
  if without_beam:
    # One machine: the Evaluator's models and the check's process would
    # otherwise be in memory at once (docs/performance.md, "The serving
    # check after the Evaluator").
    serving_check.add_upstream_node(evaluator)
  # A model both blessings passed becomes the newest version at the push
  # destination, with its record and training statistics.
  pusher = nodes.pusher(
      model, examples, statistics_gen, evaluator, serving_check,
      serving_model_dir, record={'code_fingerprint': code_fingerprint,
                                 'image': image, 'data': data})
  components = [example_gen, statistics_gen, schema_gen, example_validator,
                gate, transform, trainer, baseline_node, eval_schema,
                evaluator, serving_check, pusher]
  if vertex_deploy:
    components.append(nodes.vertex_deploy(pusher, vertex_deploy))
  if run_report:  # the local runner writes its report from ML Metadata
    components.append(nodes.run_report(
        example_gen, statistics_gen, gate, trainer, evaluator, serving_check,
        pusher, data, serving_model_dir,
        {'hparams': hparams, 'code_fingerprint': code_fingerprint},
        eval_thresholds))
  return tfx_pipeline.Pipeline(
      pipeline_name=pipeline_name, pipeline_root=pipeline_root,
      components=components, enable_cache=enable_cache,
      metadata_connection_config=metadata_connection_config,
      beam_pipeline_args=beam_pipeline_args or configs.BEAM_PIPELINE_ARGS)
