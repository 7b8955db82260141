"""What a finished local run did, read back from ML Metadata."""

import dataclasses
import json
import os
from typing import Dict, List, Optional

from ml_metadata.proto import metadata_store_pb2

from local import metadata
from pipeline import spans
from pipeline.components.csv_example_gen import executor as csv_executor
from pipeline.components.serving_check import component as serving_check
from pipeline.metrics import eval_results

_State = metadata_store_pb2.Execution.State
# The DataGate's output (a File artifact) holding its decision.
DECISION_KEY = 'decision'


@dataclasses.dataclass
class RunSummary:
  run_id: str
  node_states: Dict[str, str]  # node id -> COMPLETE / CACHED / FAILED / ...
  node_seconds: Dict[str, float]  # node id -> wall time of its execution
  execution_ids: Dict[str, int]  # node id -> its execution in this run
  pushed_model: Optional[str] = None  # the version directory, if pushed
  blessed: Optional[bool] = None  # None if the Evaluator did not run
  trained_model: Optional[str] = None  # URI of the model evaluated
  baseline_model: Optional[str] = None  # what the Evaluator compared against
  evaluation: Optional[str] = None  # URI of the Evaluator's TFMA output
  serving_check: Optional[str] = None  # URI of the ServingCheck's verdict
  statistics: Optional[str] = None  # URI of StatisticsGen's output
  gate_decision: Optional[str] = None  # URI of the DataGate's decision
  model_run: Optional[str] = None  # URI of the Trainer's TensorBoard logs
  trainer_config: Optional[dict] = None  # the Trainer's custom_config
  data: Optional[str] = None  # the files ExampleGen read
  spans: Optional[List[int]] = None  # the spans it read, the last evaluated on


def _node_id(store, execution) -> str:
  for context in store.get_contexts_by_execution(execution.id):
    if context.type == 'node':
      return context.name.split('.', 1)[1]  # '<pipeline>.<node id>'
  return execution.type


def latest_run(metadata_path: str, since: float = 0.,
               run_id: Optional[str] = None) -> Optional[RunSummary]:
  """What the newest run (or a given one) did, read back from ML Metadata.

  Args:
    metadata_path: the SQLite ML Metadata store.
    since: only runs started at or after this (epoch seconds).
    run_id: this run instead of the newest.

  Returns:
    The run's summary, or None if there is no such run.
  """
  if not os.path.exists(metadata_path):
    return None
  store = metadata.read_only_store(metadata_path)
  runs = [
      c for c in store.get_contexts_by_type('pipeline_run')
      if c.create_time_since_epoch >= since * 1000 and
      run_id in (None, c.name)
  ]
  if not runs:
    return None
  run = max(runs, key=lambda c: c.create_time_since_epoch)
  # Ids grow with creation, so this is the order the nodes ran in.
  executions = sorted(
      store.get_executions_by_context(run.id), key=lambda e: e.id)
  nodes = [_node_id(store, e) for e in executions]
  summary = RunSummary(
      run.name,
      {n: _State.Name(e.last_known_state) for n, e in zip(nodes, executions)},
      {n: (e.last_update_time_since_epoch - e.create_time_since_epoch) / 1000
       for n, e in zip(nodes, executions)},
      {n: e.id for n, e in zip(nodes, executions)})
  for execution in executions:
    props = execution.custom_properties
    if 'run_fn' in props and 'custom_config' in props:  # the Trainer
      summary.trainer_config = json.loads(props['custom_config'].string_value)
    elif 'input_base' in props:  # ExampleGen
      splits = json.loads(props['input_config'].string_value)['splits']
      summary.data = ', '.join(
          os.path.join(props['input_base'].string_value, split['pattern'])
          for split in splits)
  # A cached Pusher's output records the push of an earlier run.
  cached = {e.id for e in executions if e.last_known_state == _State.CACHED}
  for event in store.get_events_by_execution_ids([e.id for e in executions]):
    [artifact] = store.get_artifacts_by_id([event.artifact_id])
    key = event.path.steps[0].key if event.path.steps else ''
    if event.type == metadata_store_pb2.Event.INTERNAL_OUTPUT:
      # The resolver's pick (its other output, 'candidate', is the Trainer's).
      if key == 'model':
        summary.baseline_model = artifact.uri
      continue
    if event.type == metadata_store_pb2.Event.INPUT:
      # Evaluator and Pusher inputs: the candidate and the baseline.
      if key == 'model':
        summary.trained_model = artifact.uri
      elif key == 'baseline_model':
        summary.baseline_model = artifact.uri
      continue
    props = artifact.custom_properties
    if artifact.type == 'Examples':
      summary.spans = spans.parse_list(
          props[csv_executor.SPANS_PROPERTY].string_value
          if csv_executor.SPANS_PROPERTY in props else '')
    elif artifact.type == 'ExampleStatistics':
      summary.statistics = artifact.uri
    elif key == DECISION_KEY:
      summary.gate_decision = artifact.uri
    elif artifact.type == 'ModelRun':
      summary.model_run = artifact.uri
    elif artifact.type == 'ModelEvaluation':
      summary.evaluation = artifact.uri
    elif artifact.type == 'InfraBlessing':
      summary.serving_check = artifact.uri
    elif artifact.type == 'ModelBlessing':
      summary.blessed = props['blessed'].int_value == 1
    elif (artifact.type == 'PushedModel' and props['pushed'].int_value == 1
          and event.execution_id not in cached):
      summary.pushed_model = props['pushed_destination'].string_value
  return summary


def _evaluation_lines(evaluation_uri: str) -> List[str]:
  lines = ['Evaluation on the eval split:']
  models = eval_results.overall_metrics(evaluation_uri)
  # The candidate ('' when it had no baseline) first.
  for model, metrics in sorted(models.items(), key=lambda m: m[0] == 'baseline'):
    values = '  '.join(f'{label} {metrics[name]:.3f}'
                       for name, label in eval_results.REPORTED_METRICS.items()
                       if name in metrics)
    lines.append(f'  {model or "model":10} {values}')
  return lines


def _serving_check_lines(uri: str) -> List[str]:
  result = serving_check.read_result(uri)
  if result is None:
    return []
  lines = [f'Serving check: {"passed" if result["passed"] else "FAILED"}: '
           f'{result["reason"]}']
  for signature, latencies in result['latency'].items():
    lines.append(f'  {signature:16} ' + '  '.join(
        f'{size}: p50 {l["p50_ms"]:.1f} ms, p99 {l["p99_ms"]:.1f} ms'
        for size, l in latencies.items()))
  return lines


def format_summary(summary: RunSummary) -> str:
  """The report printed at the end of a local run.

  Args:
    summary: what latest_run read.

  Returns:
    Lines: each node's state, the evaluation, and what was pushed or why not.
  """
  lines: List[str] = ['Pipeline run:']
  lines += [f'  {node:32} {state}' for node, state in summary.node_states.items()]
  read = spans.trained_and_evaluated(summary.spans)
  if read:
    lines.append(read)
  if summary.baseline_model:
    lines.append(f'Baseline (the served model): {summary.baseline_model}')
  if summary.evaluation:
    lines += _evaluation_lines(summary.evaluation)
  if summary.serving_check:
    lines += _serving_check_lines(summary.serving_check)
  if summary.pushed_model:
    lines.append(f'Pushed model: {summary.pushed_model}')
  elif summary.blessed is False:
    lines.append('The Evaluator did not bless the model: nothing was pushed.')
    if summary.evaluation:
      lines += [f'  {check}'
                for check in eval_results.failed_checks(summary.evaluation)]
  else:
    lines.append('No model was pushed in this run.')
  return '\n'.join(lines)

