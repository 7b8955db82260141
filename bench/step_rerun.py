"""Re-runs one step of a finished local run, alone, as ML Metadata recorded it.

    python -m bench.step_rerun METADATA_DB STEP OUTPUT_DIR [--times N]

STEP is the end of the step's component class name (`Evaluator` finds
InMemoryEvaluator). Its executor is given the input artifacts and execution
properties of the step's newest completed execution, and the pipeline's
Beam arguments, in a process set up as local_runner.py's; it writes its
outputs under OUTPUT_DIR. With --times N it runs N times in a row, each
from scratch but the imports. Printed: one JSON line, a list with each
run's executor wall, user CPU and system CPU seconds.
"""

import argparse
import contextlib
import importlib
import json
import os
from pathlib import Path
import resource
import shutil
import sys
import time

os.environ.setdefault('TF_USE_LEGACY_KERAS', '1')
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

from local import heap  # pylint: disable=g-import-not-at-top


def newest_execution(store, step: str):
  """The newest completed execution of the step (not one a cache stood for).

  Raises:
    SystemExit: no completed execution's type ends with step.
  """
  from ml_metadata.proto import metadata_store_pb2  # pylint: disable=g-import-not-at-top
  done = [e for e in store.get_executions()
          if e.last_known_state == metadata_store_pb2.Execution.COMPLETE]
  found = [e for e in done if e.type.rsplit('.', 1)[-1].endswith(step)]
  if not found:
    names = sorted({e.type.rsplit('.', 1)[-1] for e in done})
    raise SystemExit(f'error: no step ending with "{step}" ran to completion '
                     f'in this store; its steps: {", ".join(names)}')
  return max(found, key=lambda e: e.create_time_since_epoch)


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
    SystemExit: no completed execution of the step in the store.
  """
  # pylint: disable=g-import-not-at-top
  from tfx.dsl.components.base import base_beam_executor
  from tfx.orchestration import data_types_utils
  from local import metadata
  from pipeline import configs
  # pylint: enable=g-import-not-at-top
  store = metadata.read_only_store(metadata_db)
  execution = newest_execution(store, step)
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
  parser.add_argument('--times', type=int, default=1,
                      help='runs one after another; the last one\'s outputs '
                      'are kept')
  args = parser.parse_args(argv)
  if not args.metadata_db.is_file():
    parser.error(f'no ML Metadata store at {args.metadata_db}')
  if args.times < 1:
    parser.error(f'--times must be at least 1, not {args.times}')
  if args.output_dir.exists() and (not args.output_dir.is_dir() or
                                   any(args.output_dir.iterdir())):
    parser.error(f'{args.output_dir} is not an empty folder: the outputs '
                 'go to an empty or new one')
  heap.limit_malloc_arenas()
  runs = []
  for index in range(args.times):
    if index:
      shutil.rmtree(args.output_dir)  # the run before's outputs
    # The first run's imports are kept out of collections, as local_runner.py's.
    with heap.long_lived() if index == 0 else contextlib.nullcontext():
      prepared = prepare(args.metadata_db, args.step, args.output_dir)
    runs.append(timed(*prepared))
    heap.release_freed_memory()
  print(json.dumps(runs))
  return 0


if __name__ == '__main__':
  sys.exit(main())
