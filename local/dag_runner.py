"""TFX's LocalDagRunner, running independent nodes at the same time.

LocalDagRunner launches one node after another, so one of this machine's
cores idles for most of a run. This runner launches each node once every node
it depends on has finished, in threads (the heavy work of the steps that run
side by side here, the Evaluator's model and the serving check's fresh
process, leaves the interpreter). A failed node stops anything new from
starting; the nodes already running finish, and the run raises the error of
the failed node that comes first in the pipeline's order. What a finished
node freed goes back to the system before its dependents start (heap.py).
"""

import concurrent.futures
import datetime
import os
import threading
from typing import Dict, Optional

from absl import logging
from tfx.dsl.compiler import constants
from tfx.orchestration import metadata
from tfx.orchestration.local import runner_utils
from tfx.orchestration.local.local_dag_runner import LocalDagRunner
from tfx.orchestration.portable import launcher
from tfx.orchestration.portable import runtime_parameter_utils
from tfx.proto.orchestration import pipeline_pb2

from local import heap


class _SerializedMetadata(metadata.Metadata):
  """An ML Metadata connection that one node at a time uses.

  Every node's connection opens the same SQLite file, and the launcher's
  steps that read and write it are short next to the executors, which run
  unlocked.
  """

  _lock = threading.RLock()

  def __enter__(self):
    self._lock.acquire()
    try:
      return super().__enter__()
    except BaseException:
      self._lock.release()
      raise

  def __exit__(self, *exc):
    try:
      super().__exit__(*exc)
    finally:
      self._lock.release()


class ConcurrentDagRunner(LocalDagRunner):
  """LocalDagRunner launching each node as soon as its upstream nodes end.

  Args:
    max_parallel_nodes: how many nodes may run at once (default: the cores).
  """

  def __init__(self, max_parallel_nodes: Optional[int] = None):
    super().__init__()
    self._max_parallel_nodes = max_parallel_nodes or os.cpu_count() or 1

  def run_with_ir(self, pipeline: pipeline_pb2.Pipeline,
                  run_options: Optional[pipeline_pb2.RunOptions] = None):
    """Runs the pipeline IR.

    Args:
      pipeline: the compiled pipeline.
      run_options: partial runs are LocalDagRunner's, one node at a time.

    Raises:
      Exception: the first failed node's error, in the pipeline's order.
    """
    if run_options:
      return super().run_with_ir(pipeline, run_options)
    runtime_parameter_utils.substitute_runtime_parameter(
        pipeline, {constants.PIPELINE_RUN_ID_PARAMETER_NAME:
                   datetime.datetime.now().isoformat()})
    deployment_config = runner_utils.extract_local_deployment_config(pipeline)
    connection_config = getattr(
        deployment_config.metadata_connection_config,
        deployment_config.metadata_connection_config.WhichOneof(
            'connection_config'))
    nodes = {node.pipeline_node.node_info.id: node.pipeline_node
             for node in pipeline.nodes
             if not node.pipeline_node.execution_options.HasField('skip')}

    def launch(node_id: str):
      node = nodes[node_id]
      logging.info('Component %s is running.', node_id)
      launcher.Launcher(
          pipeline_node=node,
          mlmd_connection=_SerializedMetadata(connection_config),
          pipeline_info=pipeline.pipeline_info,
          pipeline_runtime_spec=pipeline.runtime_spec,
          executor_spec=runner_utils.extract_executor_spec(
              deployment_config, node_id),
          custom_driver_spec=runner_utils.extract_custom_driver_spec(
              deployment_config, node_id)).launch()
      logging.info('Component %s is finished.', node_id)
      heap.release_freed_memory()

    pending = list(nodes)  # in the pipeline's order
    done, failed = set(), {}
    running: Dict[concurrent.futures.Future, str] = {}
    with concurrent.futures.ThreadPoolExecutor(
        self._max_parallel_nodes, thread_name_prefix='node') as pool:
      while True:
        ready = [] if failed else [
            node_id for node_id in pending
            if all(upstream in done or upstream not in nodes
                   for upstream in nodes[node_id].upstream_nodes)]
        for node_id in ready:
          pending.remove(node_id)
          running[pool.submit(launch, node_id)] = node_id
        if not running:
          break
        finished, _ = concurrent.futures.wait(
            running, return_when=concurrent.futures.FIRST_COMPLETED)
        for future in finished:
          node_id = running.pop(future)
          if future.exception() is None:
            done.add(node_id)
          else:
            failed[node_id] = future.exception()
    if failed:
      raise next(failed[node_id] for node_id in nodes if node_id in failed)
