"""What the client reports of a run."""

import dataclasses
import datetime
from typing import Dict, List, Optional


@dataclasses.dataclass(frozen=True)
class TaskState:
  """A task of a run and its state."""
  name: str
  state: str


@dataclasses.dataclass(frozen=True)
class RunInfo:
  """A run: its state, dashboard link and tasks."""
  run_id: str
  name: str
  state: str
  created_at: Optional[datetime.datetime]
  link: str
  tasks: List[TaskState] = dataclasses.field(default_factory=list)

  @classmethod
  def from_api(cls, run, link: str) -> 'RunInfo':
    """A kfp_server_api V2beta1Run, with its dashboard link."""
    details = run.run_details.task_details if run.run_details else None
    tasks = [TaskState(task.display_name, task.state or 'UNKNOWN')
             for task in details or []]
    return cls(run_id=run.run_id, name=run.display_name,
               state=run.state or 'UNKNOWN', created_at=run.created_at,
               link=link, tasks=tasks)


def dependency_order(tasks: Dict[str, dict]) -> Optional[List[str]]:
  """A PipelineSpec DAG's task names, each after the tasks it depends on.

  Args:
    tasks: task name -> task spec (with `dependentTasks`).

  Returns:
    The names, ties in alphabetical order; None if the graph has a cycle.
  """
  ordered = []
  while len(ordered) < len(tasks):
    ready = [name for name, task in tasks.items() if name not in ordered
             and set(task.get('dependentTasks', [])) <= set(ordered)]
    if not ready:
      return None
    ordered.extend(sorted(ready))
  return ordered
