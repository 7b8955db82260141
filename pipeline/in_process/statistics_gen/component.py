"""StatisticsGen computing TFDV's statistics in-process, without Beam."""

from tfx import types
from tfx.components import StatisticsGen
from tfx.dsl.components.base import executor_spec

from pipeline.in_process.statistics_gen import executor


class InMemoryStatisticsGen(StatisticsGen):
  """TFX's StatisticsGen (same input, output and files), without Beam.

  It runs TFDV's combiners over record batches in its own process instead of
  a Beam pipeline.
  """
  EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(executor.Executor)

  def __init__(self, examples: types.BaseChannel):
    """Constructs the component.

    Args:
      examples: the Examples; every split gets TFDV's default statistics
        (StatisticsGen's schema, stats_options and exclude_splits are not
        taken).
    """
    super().__init__(examples=examples)
