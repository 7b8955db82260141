"""Re-runs one step of a finished local run, alone, as ML Metadata recorded it.

    python -m bench.step_rerun METADATA_DB STEP OUTPUT_DIR

STEP is the end of the step's component class name (`Evaluator` finds
InMemoryEvaluator). Its executor is given the input artifacts and execution
properties of the newest run's execution of the step, and the pipeline's
Beam arguments, in a process set up as local_runner.py's; it writes its
outputs under OUTPUT_DIR. Printed: one JSON line with the executor's wall,
user CPU and system CPU seconds.
"""

import argparse
import importlib
import json
import os
from pathlib import Path
import resource
import sys
import time

os.environ.setdefault('TF_USE_LEGACY_KERAS', '1')
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

from local import heap  # pylint: disable=g-import-not-at-top


def _execution(store, step: str):
  runs = store.get_contexts_by_type('pipeline_run')
  if not runs:
    raise SystemExit('error: the store holds no pipeline run')
  newest = max(runs, key=lambda context: context.create_time_since_epoch)
  found = [e for e in store.get_executions_by_context(newest.id)
           if e.type.rsplit('.', 1)[-1].endswith(step)]
  if len(found) != 1:
    names = sorted(e.type.rsplit('.', 1)[-1]
                   for e in store.get_executions_by_context(newest.id))
    raise SystemExit(f'error: {len(found)} steps of the newest run end with '
                     f'"{step}"; its steps: {", ".join(names)}')
  return found[0]


def _artifacts(store, execution, output_dir: Path):
  """(inputs, outputs) by key; each output's URI a new folder of output_dir."""
  # pylint: disable=g-import-not-at-top
  from ml_metadata.proto import metadata_store_pb2
  from tfx.types import artifact_utils
  # pylint: enable=g-import-not-at-top
  inputs, outputs = {}, {}
  for event in store.get_events_by_execution_ids([execution.id]):
    key = event.path.steps[0].key
    [stored] = store.get_artifacts_by_id([event.artifact_id])
    [artifact_type] = store.get_artifact_types_by_id([stored.type_id])
    artifact = artifact_utils.deserialize_artifact(artifact_type, stored)
    if event.type == metadata_store_pb2.Event.INPUT:
      inputs.setdefault(key, []).append(artifact)
    elif event.type == metadata_store_pb2.Event.OUTPUT:
      artifact.uri = str(output_dir / key / str(len(outputs.get(key, []))))
      Path(artifact.uri).mkdir(parents=True)
      outputs.setdefault(key, []).append(artifact)
  return inputs, outputs


def prepare(metadata_db: Path, step: str, output_dir: Path):
  """The step's executor and what it was given, outputs moved to output_dir.

  Args:
    metadata_db: the run's SQLite ML Metadata store.
    step: the end of the step's component class name.
    output_dir: an empty or missing folder for the outputs.

  Returns:
    (executor, input_dict, output_dict, exec_properties) for executor.Do.

  Raises:
    SystemExit: no run in the store, or not one step that STEP names.
  """
  # pylint: disable=g-import-not-at-top
  from tfx.dsl.components.base import base_beam_executor
  from tfx.orchestration import data_types_utils
  from local import metadata
  from pipeline import configs
  # pylint: enable=g-import-not-at-top
  store = metadata.read_only_store(metadata_db)
  execution = _execution(store, step)
  module, name = execution.type.rsplit('.', 1)
  component = getattr(importlib.import_module(module), name)
  inputs, outputs = _artifacts(store, execution, output_dir)
  properties = {
      key: value for key, value in data_types_utils.build_value_dict(
          execution.custom_properties).items()
      if not key.startswith('__')}  # TFX's own bookkeeping
  executor = component.EXECUTOR_SPEC.executor_class(
      base_beam_executor.BaseBeamExecutor.Context(
          beam_pipeline_args=configs.BEAM_PIPELINE_ARGS,
          tmp_dir=str(output_dir / '.temp'), unique_id=str(execution.id)))
  return executor, inputs, outputs, properties


def timed(executor, inputs, outputs, properties) -> dict:
  """{'wall_seconds', 'user_seconds', 'system_seconds'} of executor.Do."""
  before, started = resource.getrusage(resource.RUSAGE_SELF), time.monotonic()
  executor.Do(inputs, outputs, properties)
  wall = time.monotonic() - started
  after = resource.getrusage(resource.RUSAGE_SELF)
  return {'wall_seconds': wall,
          'user_seconds': after.ru_utime - before.ru_utime,
          'system_seconds': after.ru_stime - before.ru_stime}


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('metadata_db', type=Path)
  parser.add_argument('step')
  parser.add_argument('output_dir', type=Path)
  args = parser.parse_args(argv)
  heap.limit_malloc_arenas()
  with heap.long_lived():  # as local_runner.py imports
    prepared = prepare(args.metadata_db, args.step, args.output_dir)
  print(json.dumps(timed(*prepared)))
  return 0


if __name__ == '__main__':
  sys.exit(main())
