"""The data gate: stops the run when new data is not fit to train on.

It stops the run before Transform and Trainer when the new data is not fit
to train the next serving model.

ExampleValidator only records anomalies; nothing reads them, and a span with
no labels or with most fares blank would be trained on, evaluated on equally
bad data and pushed. This step fails the run instead, with one line per
problem, on every target: locally the runner prints the lines, on Kubeflow
the task fails with them in its log and nothing downstream runs.

The data the serving model was trained on is its training statistics, which
the Pusher stores with each version (push_destination.py): the same file
locally and on a cluster. Before the first push, and for a backfill (data
older than the serving model's: pipeline/spans.py), only the checks that
need no comparison run.

Its decision (data_gate.json: what it compared with, each problem, passed or
not) is written before it fails, for the run report (pipeline/report/).
"""

import dataclasses
import json
import os

from absl import logging
from tfx.components.example_validator import executor as validator_executor
from tfx.components.statistics_gen import stats_artifact_utils
from tfx.dsl.component.experimental.annotations import InputArtifact
from tfx.dsl.component.experimental.annotations import OutputArtifact
from tfx.dsl.component.experimental.annotations import Parameter
from tfx.dsl.component.experimental.decorators import component
from tfx.dsl.io import fileio
from tfx.types import artifact_utils
from tfx.types.experimental.simple_artifacts import File
from tfx.types.standard_artifacts import ExampleAnomalies
from tfx.types.standard_artifacts import ExampleStatistics
from tfx.types.standard_artifacts import Schema
from tfx.utils import io_utils
from tensorflow_metadata.proto.v0 import anomalies_pb2
from tensorflow_metadata.proto.v0 import schema_pb2
from tensorflow_metadata.proto.v0 import statistics_pb2

from pipeline import configs
from pipeline import spans
from models import push_destination as destination
from pipeline.components.data_errors import DataError
from pipeline.components.data_gate import checks

DECISION_FILE = 'data_gate.json'


def read_decision(uri: str):
  """The decision a gate wrote under uri, or None if there is none.

  Args:
    uri: the folder of the gate's `decision` output.

  Returns:
    {'compared_with': str, 'baseline': the version folder compared with or
    None, 'problems' and 'tolerated': checks.Problem lists as printed,
    'passed': bool}.
  """
  path = os.path.join(uri, DECISION_FILE)
  if not fileio.exists(path):
    return None
  return json.loads(io_utils.read_string_file(path))


HOW_TO_ACCEPT = (
    'If a change is real, accept it: add its "feature:check" to '
    'DataGateThresholds.allowed in pipeline/configs.py, or update the curated '
    'schema (pipeline/schema/, README "Schema").')


def thresholds_parameter(thresholds: configs.DataGateThresholds) -> str:
  """The thresholds as the gate's parameter (JSON)."""
  return json.dumps(dataclasses.asdict(thresholds), sort_keys=True)


def _anomalies(artifact, split: str) -> anomalies_pb2.Anomalies:
  path = os.path.join(artifact_utils.get_split_uri([artifact], split),
                      validator_executor.DEFAULT_FILE_NAME)
  return anomalies_pb2.Anomalies.FromString(io_utils.read_bytes_file(path))


def split_statistics(statistics,
                     split: str) -> statistics_pb2.DatasetFeatureStatistics:
  """One split's statistics from an ExampleStatistics artifact."""
  return stats_artifact_utils.load_statistics(
      statistics, split).proto().datasets[0]


def find_problems(statistics, anomalies, schema: schema_pb2.Schema,
                  baseline_statistics,
                  limits: configs.DataGateThresholds) -> list:
  """Every check's problems.

  Args:
    statistics: the ExampleStatistics artifact of the new data.
    anomalies: ExampleValidator's ExampleAnomalies artifact.
    schema: the schema the data was validated against.
    baseline_statistics: the serving model's training statistics, or None.
    limits: the thresholds.

  Returns:
    checks.Problem list, schema anomalies first.
  """
  found = []
  for split in artifact_utils.decode_split_names(anomalies.split_names):
    found += checks.schema_problems(_anomalies(anomalies, split), split)
  by_split = {split: split_statistics(statistics, split)
              for split in (configs.TRAIN_SPLIT, configs.EVAL_SPLIT)}
  return found + statistics_problems(by_split, schema, baseline_statistics,
                                     limits)


def statistics_problems(by_split: dict, schema: schema_pb2.Schema,
                        baseline_statistics,
                        limits: configs.DataGateThresholds) -> list:
  """The problems the gate's own checks find in the new data's statistics.

  Args:
    by_split: split name -> its DatasetFeatureStatistics, train and eval.
    schema: the schema the data was validated against.
    baseline_statistics: the serving model's training statistics, or None.
    limits: the thresholds.

  Returns:
    checks.Problem list.
  """
  found = []
  for split, stats in by_split.items():
    found += checks.nonfinite_problems(stats, split)
  train = by_split[configs.TRAIN_SPLIT]
  found += checks.row_problems(train, limits)
  found += checks.label_problems(train, limits)
  if baseline_statistics is not None:
    for check in (checks.missing_problems, checks.vanished_problems,
                  checks.drift_problems):
      found += check(train, baseline_statistics, schema, limits)
  return found


@component
def DataGate(  # pylint: disable=invalid-name
    statistics: InputArtifact[ExampleStatistics],
    anomalies: InputArtifact[ExampleAnomalies],
    schema: InputArtifact[Schema],
    push_destination: Parameter[str],
    thresholds: Parameter[str],
    decision: OutputArtifact[File],
):
  """Fails the run if the new data is not fit to train on.

  Args:
    statistics: StatisticsGen's statistics of the new data.
    anomalies: ExampleValidator's anomalies.
    schema: the schema the data was validated against.
    push_destination: the Pusher's destination, where the serving model's
      training statistics are.
    thresholds: configs.DataGateThresholds as thresholds_parameter writes it.
    decision: a folder where it writes DECISION_FILE, also when it fails the
      run.

  Raises:
    DataError: one line per problem, and how to accept a real change.
  """
  limits = configs.DataGateThresholds(**json.loads(thresholds))
  serving = destination.latest_version_dir(push_destination)
  baseline = destination.training_statistics(serving) if serving else None
  compared = (f'the training data of the serving model {serving}' if baseline
              else 'no earlier data (no pushed model with training statistics)')
  serving_span = (spans.newest_trained(destination.version_record(serving))
                  if serving else None)
  if baseline and serving_span is not None and statistics.span < serving_span:
    # A backfill: its data is older than the serving model's, by design.
    baseline = None
    compared = (f'no earlier data: a backfill of span {statistics.span}, '
                f'older than the serving model\'s (span {serving_span})')
  problems, tolerated = checks.split_tolerated(
      find_problems(statistics, anomalies,
                    io_utils.SchemaReader().read(
                        io_utils.get_only_uri_in_dir(schema.uri)),
                    baseline, limits), limits)
  for problem in tolerated:
    logging.warning('Data gate: tolerated (allowed): %s', problem)
  io_utils.write_string_file(
      os.path.join(decision.uri, DECISION_FILE),
      json.dumps({'compared_with': compared,
                  'baseline': serving if baseline else None,
                  'problems': [str(p) for p in problems],
                  'tolerated': [str(p) for p in tolerated],
                  'passed': not problems}))
  if problems:
    raise DataError('\n'.join([
        f'The data gate stopped the run before training: {len(problems)} '
        f'problem(s) in the new data, compared with {compared}:',
        *(f'  {problem}' for problem in problems), HOW_TO_ACCEPT]))
  logging.info('Data gate: the new data passed, compared with %s.', compared)
