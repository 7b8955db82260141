"""TFX's Pusher to a file system, minus duplicate, partial and stale versions.

A re-run with nothing changed re-evaluates the serving model against itself
(it is now the latest blessed model) and blesses it again; the stock Pusher
would then copy it once more as a new version. This one pushes only a model
that differs from the newest version already at the destination, and
publishes it so that it appears whole (push_destination.publish), with the
statistics of the data it was trained on and a record of where it came from.
A model whose newest span is older than the serving model's (a backfill of
an earlier period) is evaluated but not pushed: it would replace a model of
newer data.
"""

import json
import os

from absl import logging
from tfx.components.pusher import executor as pusher_executor
from tfx.components.statistics_gen import stats_artifact_utils
from tfx.proto import pusher_pb2
from tfx.types import artifact_utils
from tfx.types import standard_component_specs
from tfx.utils import io_utils
from tfx.utils import proto_utils

from pipeline import configs
from pipeline import spans as spans_lib
from pipeline.components.csv_example_gen import executor as csv_executor
from models import push_destination
from pipeline.metrics import eval_results

STATISTICS_KEY = 'statistics'
EVALUATION_KEY = 'model_evaluation'
EXAMPLES_KEY = 'examples'


def _training_statistics_file(input_dict) -> str:
  """The train split's statistics file, or '' without statistics."""
  if not input_dict.get(STATISTICS_KEY):
    return ''
  split_dir = artifact_utils.get_split_uri(input_dict[STATISTICS_KEY],
                                          configs.TRAIN_SPLIT)
  return os.path.join(split_dir, stats_artifact_utils.BINARY_PB_BASENAME)


def _trained_spans(input_dict) -> list:
  """The spans the model was trained on, oldest first; [] if unknown."""
  examples = input_dict.get(EXAMPLES_KEY)
  if not examples:
    return []
  return spans_lib.parse_list(examples[0].get_string_custom_property(
      csv_executor.SPANS_PROPERTY))


def _record(input_dict, exec_properties, run_id, trained: list) -> dict:
  """What the version's record says of its origin."""
  [model] = input_dict[standard_component_specs.MODEL_KEY]
  evaluations = input_dict.get(EVALUATION_KEY)
  return {
      'run_id': run_id,
      'model': model.uri,
      # Trained on these, evaluated on the last.
      'spans': trained,
      # {'candidate': {...}, 'baseline': {...}}, or {'': {...}} alone.
      'metrics': (eval_results.overall_metrics(evaluations[0].uri)
                  if evaluations else {}),
      **json.loads(exec_properties.get(
          standard_component_specs.CUSTOM_CONFIG_KEY) or '{}'),
  }


class Executor(pusher_executor.Executor):
  """Pushes a blessed model unless it already serves."""

  def Do(self, input_dict, output_dict, exec_properties) -> None:
    model_push = artifact_utils.get_single_instance(
        output_dict[standard_component_specs.PUSHED_MODEL_KEY])
    if not self.CheckBlessing(input_dict):
      self._MarkNotPushed(model_push)
      return
    destination = pusher_pb2.PushDestination()
    proto_utils.json_to_proto(
        exec_properties[standard_component_specs.PUSH_DESTINATION_KEY],
        destination)
    base = destination.filesystem.base_directory
    model_path = self.GetModelPath(input_dict)
    serving = push_destination.latest_version_dir(base)
    if serving and push_destination.same_model(model_path, serving):
      logging.info('This model already serves as %s; not pushed again.',
                   serving)
      self._MarkNotPushed(model_push)
      return
    trained = _trained_spans(input_dict)
    serving_span = (spans_lib.newest_trained(
        push_destination.version_record(serving)) if serving else None)
    if trained and serving_span is not None and trained[-1] < serving_span:
      logging.warning(
          'Not pushed: trained on %s, older than the serving model %s '
          '(span %d).', spans_lib.describe(trained), serving, serving_span)
      self._MarkNotPushed(model_push)
      return
    version_dir = push_destination.publish(
        model_path, base, _training_statistics_file(input_dict),
        _record(input_dict, exec_properties,
                self._context.pipeline_run_id if self._context else None,
                trained))
    logging.info('Model pushed to %s.', version_dir)
    # Archived with the artifact, as TFX's Pusher does.
    io_utils.copy_dir(model_path, model_push.uri)
    self._MarkPushed(model_push, pushed_destination=version_dir,
                     pushed_version=os.path.basename(version_dir))
