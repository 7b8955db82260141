"""TFX's Pusher with an executor that skips repeat pushes and keeps records.

Its executor never pushes the serving model again nor a model of older
data, and stores with each version its training statistics and a record of
its origin.
"""

import json
from typing import Optional

from tfx.components.pusher import component as pusher_component
from tfx.dsl.components.base import base_component
from tfx.dsl.components.base import executor_spec
from tfx.proto import pusher_pb2
from tfx.types import channel
from tfx.types import component_spec
from tfx.types import standard_artifacts
from tfx.types import standard_component_specs

from pipeline.components.pusher import executor


class PusherSpec(standard_component_specs.PusherSpec):
  INPUTS = {
      **standard_component_specs.PusherSpec.INPUTS,
      executor.STATISTICS_KEY:
          component_spec.ChannelParameter(
              type=standard_artifacts.ExampleStatistics, optional=True),
      executor.EVALUATION_KEY:
          component_spec.ChannelParameter(
              type=standard_artifacts.ModelEvaluation, optional=True),
      executor.EXAMPLES_KEY:
          component_spec.ChannelParameter(
              type=standard_artifacts.Examples, optional=True),
  }


class Pusher(pusher_component.Pusher):
  """TFX's Pusher (same outputs), minus duplicate versions.

  It stores statistics and a record with each version it pushes.
  """
  SPEC_CLASS = PusherSpec
  EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(executor.Executor)

  def __init__(self, model: channel.BaseChannel,
               model_blessing: channel.BaseChannel,
               infra_blessing: channel.BaseChannel,
               push_destination: pusher_pb2.PushDestination,
               statistics: Optional[channel.BaseChannel] = None,
               model_evaluation: Optional[channel.BaseChannel] = None,
               examples: Optional[channel.BaseChannel] = None,
               record: Optional[dict] = None):
    """Constructs the component.

    Args:
      model: the Trainer's model.
      model_blessing: the Evaluator's blessing.
      infra_blessing: the serving check's verdict.
      push_destination: a file system folder of numbered versions.
      statistics: StatisticsGen's statistics of the training data, stored
        with each pushed version for the data gate.
      model_evaluation: the Evaluator's evaluation, whose overall metrics
        the version's record keeps.
      examples: ExampleGen's examples: the record keeps the spans the model
        was trained on, and a model trained on older spans than the serving
        model's is not pushed (a backfill).
      record: more for the record (JSON values): code fingerprint, image.
    """
    base_component.BaseComponent.__init__(  # pylint: disable=non-parent-init-called
        self,
        spec=PusherSpec(
            model=model,
            model_blessing=model_blessing,
            infra_blessing=infra_blessing,
            push_destination=push_destination,
            statistics=statistics,
            model_evaluation=model_evaluation,
            examples=examples,
            custom_config=json.dumps(record or {}, sort_keys=True),
            pushed_model=channel.Channel(type=standard_artifacts.PushedModel)))
