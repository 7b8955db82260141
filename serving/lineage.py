"""Where a pushed version came from, read from a local run's ML Metadata.

The chain: data -> examples -> transform graph -> model -> evaluation ->
push.
"""

import os
from typing import Dict, List, Optional

from ml_metadata.proto import metadata_store_pb2

from local import metadata

_Event = metadata_store_pb2.Event


def _producer(store, artifact) -> Optional[metadata_store_pb2.Execution]:
  for event in store.get_events_by_artifact_ids([artifact.id]):
    if event.type == _Event.OUTPUT:
      return store.get_executions_by_id([event.execution_id])[0]
  return None


def _inputs(store, execution) -> Dict[str, metadata_store_pb2.Artifact]:
  found = {}
  for event in store.get_events_by_execution_ids([execution.id]):
    if event.type == _Event.INPUT and event.path.steps:
      [artifact] = store.get_artifacts_by_id([event.artifact_id])
      found[event.path.steps[0].key] = artifact
  return found


def _kind(execution) -> str:
  return execution.type.rsplit('.', 1)[-1] if execution else '?'


def lineage(metadata_path: str, version_dir: str) -> List[str]:
  """The chain of artifacts behind a pushed version.

  Args:
    metadata_path: a local run's SQLite ML Metadata store.
    version_dir: the version folder as the Pusher recorded it.

  Returns:
    One line per step, data first; [] if the store holds no push to
    version_dir (a version pushed by another store's runs, or a rollback).
  """
  if not os.path.exists(metadata_path):
    return []
  store = metadata.read_only_store(metadata_path)
  pushes = [
      a for a in store.get_artifacts_by_type('PushedModel')
      if a.custom_properties['pushed_destination'].string_value == version_dir
  ]
  if not pushes:
    return []
  pusher = _producer(store, pushes[0])
  pushed = _inputs(store, pusher)
  model = pushed['model']
  trainer = _producer(store, model)
  trained = _inputs(store, trainer)
  examples = trained['examples']
  example_gen = _producer(store, examples)
  source = example_gen.custom_properties.get('input_base') if example_gen else None
  lines = [f'data        {source.string_value if source else "?"}']
  lines.append(f'examples    {examples.uri}  ({_kind(example_gen)})')
  if 'transform_graph' in trained:
    lines.append(f'transform   {trained["transform_graph"].uri}  (Transform)')
  lines.append(f'model       {model.uri}  ({_kind(trainer)})')
  if 'model_evaluation' in pushed:
    blessing = pushed.get('model_blessing')
    blessed = (blessing.custom_properties['blessed'].int_value == 1
               if blessing else None)
    lines.append(f'evaluation  {pushed["model_evaluation"].uri}  '
                 f'(Evaluator, blessed: {"yes" if blessed else "no"})')
  lines.append(f'push        {version_dir}  (Pusher, execution {pusher.id})')
  return lines
