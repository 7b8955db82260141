"""The Evaluator computing its metrics in-process, without Beam."""

from typing import List, Optional

import tensorflow_model_analysis as tfma
from tfx import types
from tfx.components import Evaluator
from tfx.dsl.components.base import executor_spec

from pipeline.in_process.evaluator import evaluation
from pipeline.in_process.evaluator import executor


class InMemoryEvaluator(Evaluator):
  """TFX's Evaluator (same inputs, outputs and files), without Beam.

  It computes the histogram metrics of pipeline/metrics over record batches
  in its own process instead of TFMA's Beam pipeline.
  """
  EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(executor.Executor)

  def __init__(self, examples: types.BaseChannel, model: types.BaseChannel,
               eval_config: tfma.EvalConfig,
               baseline_model: Optional[types.BaseChannel] = None,
               schema: Optional[types.BaseChannel] = None,
               example_splits: Optional[List[str]] = None):
    """Constructs the component.

    Args:
      examples: the Examples to evaluate on.
      model: the candidate Model.
      eval_config: TFMA's EvalConfig, using only what evaluation.py
        supports.
      baseline_model: the Model to compare with, if any.
      schema: the columns to decode for slicing.
      example_splits: the splits to evaluate on; default ['eval'].

    Raises:
      ValueError: the EvalConfig asks for what evaluation.py does not
        compute.
    """
    evaluation.check_supported(eval_config)
    super().__init__(examples=examples, model=model,
                     baseline_model=baseline_model, schema=schema,
                     eval_config=eval_config, example_splits=example_splits)
