"""What the client reports of a run."""

import dataclasses
import datetime
from typing import List, Optional


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
