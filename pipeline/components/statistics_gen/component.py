"""StatisticsGen computing TFDV's statistics in-process, without Beam."""

from tfx.components import StatisticsGen
from tfx.dsl.components.base import executor_spec

from pipeline.components.statistics_gen import executor


class InMemoryStatisticsGen(StatisticsGen):
  """TFX's StatisticsGen (same inputs, outputs and files), running TFDV's
  combiners over record batches in its own process instead of a Beam
  pipeline."""
  EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(executor.Executor)
