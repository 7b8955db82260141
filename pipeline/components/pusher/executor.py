"""TFX's Pusher, minus duplicate versions.

A re-run with nothing changed re-evaluates the serving model against itself
(it is now the latest blessed model) and blesses it again; the stock Pusher
would then copy it once more as a new version. This one pushes only a model
that differs from the newest version already at the destination.
"""

from absl import logging
from tfx.components.pusher import executor as pusher_executor
from tfx.proto import pusher_pb2
from tfx.types import artifact_utils
from tfx.types import standard_component_specs
from tfx.utils import proto_utils

from pipeline.components import push_destination


class Executor(pusher_executor.Executor):
  """Pushes like TFX's Pusher, unless the model already serves."""

  def Do(self, input_dict, output_dict, exec_properties) -> None:
    destination = pusher_pb2.PushDestination()
    proto_utils.json_to_proto(
        exec_properties[standard_component_specs.PUSH_DESTINATION_KEY],
        destination)
    serving = push_destination.latest_version_dir(
        destination.filesystem.base_directory)
    if serving and push_destination.same_model(
        self.GetModelPath(input_dict), serving):
      logging.info('This model already serves as %s; not pushed again.',
                   serving)
      self._MarkNotPushed(
          artifact_utils.get_single_instance(
              output_dict[standard_component_specs.PUSHED_MODEL_KEY]))
      return
    super().Do(input_dict, output_dict, exec_properties)
