"""Transform analysing its data in-process, without Beam."""

from typing import Optional

from tfx import types
from tfx.components import Transform
from tfx.dsl.components.base import executor_spec

from pipeline.in_process.transform import executor


class InMemoryTransform(Transform):
  """TFX's Transform (same inputs, output and files), without Beam.

  It evaluates tf.Transform's analysis in its own process instead of a Beam
  pipeline.

  It writes the transform graph only, as Transform does with
  disable_statistics=True, disable_analyzer_cache=True, materialize=False
  and force_tf_compat_v1=True; it takes no options that would change that.
  """
  EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(executor.Executor)

  def __init__(self, examples: types.BaseChannel, schema: types.BaseChannel,
               preprocessing_fn: str, custom_config: Optional[dict] = None):
    """Constructs the component.

    Args:
      examples: the Examples; the train split is analysed.
      schema: the raw data's Schema.
      preprocessing_fn: the tf.Transform preprocessing_fn, by module path.
      custom_config: passed to preprocessing_fn, as Transform passes it.
    """
    super().__init__(examples=examples, schema=schema,
                     preprocessing_fn=preprocessing_fn,
                     custom_config=custom_config, disable_statistics=True,
                     disable_analyzer_cache=True, materialize=False,
                     force_tf_compat_v1=True)
