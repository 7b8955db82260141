"""CsvExampleGen with the block executor (same parameters and outputs)."""

from tfx.components import CsvExampleGen
from tfx.dsl.components.base import executor_spec

from pipeline.components.csv_example_gen import executor


class ArrowCsvExampleGen(CsvExampleGen):
  """TFX's CsvExampleGen, reading and encoding CSV in blocks with Arrow."""
  EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(executor.Executor)
