"""local/dag_runner.py on small real TFX pipelines.

Independent nodes run at the same time, a node waits for every node
upstream, and a failure stops what depends on it and is raised.
"""

import json
from pathlib import Path
import time

from ml_metadata.proto import metadata_store_pb2
import pytest
from tfx.dsl.component.experimental.annotations import OutputArtifact
from tfx.dsl.component.experimental.annotations import Parameter
from tfx.dsl.component.experimental.decorators import component
from tfx.orchestration import metadata
from tfx.orchestration import pipeline as tfx_pipeline
from tfx.types.standard_artifacts import String

from local import dag_runner
from local import metadata as local_metadata


# How long a step waits for its sibling to start before it fails.
_MEET_TIMEOUT_SECONDS = 120


@component
def Step(  # pylint: disable=invalid-name
    out: OutputArtifact[String], log: Parameter[str], meet: Parameter[str] = '',
    fail: Parameter[int] = 0):
  """Marks its start, waits for the step `meet` to start, logs its times."""
  started = time.time()
  log = Path(log)
  log.with_suffix('.started').touch()
  if meet:
    sibling = log.with_name(f'{meet}.started')
    while not sibling.exists():
      if time.time() - started > _MEET_TIMEOUT_SECONDS:
        raise TimeoutError(f'{log.stem}: {meet} did not start while it ran')
      time.sleep(0.01)
  if fail:
    raise RuntimeError(f'{log.stem} failed on purpose')
  with open(log, 'a') as f:
    f.write(json.dumps({'start': started, 'end': time.time()}) + '\n')
  out.value = 'done'


def _diamond(tmp_path: Path, fail=(), meet=True) -> tuple:
  """a -> (b, c) -> d; each node logs to its file.

  With meet, b and c each wait until the other has started: they finish
  only if they run at the same time.
  """
  def step(name, *upstream, meets=''):
    node = Step(log=str(tmp_path / f'{name}.jsonl'), meet=meets if meet else '',
                fail=int(name in fail)).with_id(name)
    for up in upstream:
      node.add_upstream_node(up)
    return node
  a = step('a')
  b = step('b', a, meets='c')
  c = step('c', a, meets='b')
  d = step('d', b, c)
  db = tmp_path / 'metadata.db'
  return tfx_pipeline.Pipeline(
      pipeline_name='diamond', pipeline_root=str(tmp_path / 'root'),
      components=[a, b, c, d], enable_cache=False,
      metadata_connection_config=metadata.sqlite_metadata_connection_config(
          str(db))), db


def _interval(tmp_path: Path, name: str):
  path = tmp_path / f'{name}.jsonl'
  if not path.exists():
    return None
  times = json.loads(path.read_text())
  return times['start'], times['end']


def _states(db: Path) -> list:
  store = local_metadata.read_only_store(str(db))
  return [metadata_store_pb2.Execution.State.Name(e.last_known_state)
          for e in store.get_executions()]


def test_independent_nodes_overlap_and_downstream_waits(tmp_path):
  pipeline, db = _diamond(tmp_path)
  dag_runner.ConcurrentDagRunner(max_parallel_nodes=2).run(pipeline)

  a, b, c, d = (_interval(tmp_path, n) for n in 'abcd')
  assert a[1] <= min(b[0], c[0])
  assert b[0] < c[1] and c[0] < b[1], 'b and c did not run at the same time'
  assert d[0] >= max(b[1], c[1])
  assert _states(db) == ['COMPLETE'] * 4


def test_one_node_at_a_time_when_asked(tmp_path):
  pipeline, _ = _diamond(tmp_path, meet=False)
  dag_runner.ConcurrentDagRunner(max_parallel_nodes=1).run(pipeline)

  b, c = _interval(tmp_path, 'b'), _interval(tmp_path, 'c')
  assert b[1] <= c[0] or c[1] <= b[0]


def test_a_failure_stops_its_dependents_and_is_raised(tmp_path):
  pipeline, db = _diamond(tmp_path, fail=('b',))
  with pytest.raises(RuntimeError, match='b failed on purpose'):
    dag_runner.ConcurrentDagRunner(max_parallel_nodes=2).run(pipeline)

  # c was already running: it finished and was recorded; d never started.
  assert _interval(tmp_path, 'c') is not None
  assert _interval(tmp_path, 'd') is None
  assert sorted(_states(db)) == ['COMPLETE', 'COMPLETE', 'FAILED']


def test_the_first_failure_in_pipeline_order_is_raised(tmp_path):
  pipeline, _ = _diamond(tmp_path, fail=('b', 'c'))
  with pytest.raises(RuntimeError, match='b failed on purpose'):
    dag_runner.ConcurrentDagRunner(max_parallel_nodes=2).run(pipeline)
