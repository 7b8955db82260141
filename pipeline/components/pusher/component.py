"""TFX's Pusher with an executor that never pushes the serving model again."""

from tfx.components.pusher import component as pusher_component
from tfx.dsl.components.base import executor_spec

from pipeline.components.pusher import executor


class Pusher(pusher_component.Pusher):
  """TFX's Pusher (same parameters and outputs), minus duplicate versions."""
  EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(executor.Executor)
