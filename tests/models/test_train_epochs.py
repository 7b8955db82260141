"""run_fn with train_epochs: whole passes over the train split, not steps.

TFX's Trainer executor runs run_fn on a bundled run's examples and
transform graph, with the train args a TRAIN_EPOCHS package compiles.
"""

import json
import math

import tensorflow as tf
from tfx.components.trainer import executor as trainer_executor
from tfx.proto import trainer_pb2
from tfx.types import standard_artifacts
from tfx.utils import proto_utils

from pipeline import configs
from pipeline import nodes


def _artifact(cls, uri, **properties):
  artifact = cls()
  artifact.uri = str(uri)
  for name, value in properties.items():
    setattr(artifact, name, value)
  return artifact


def _logged_steps(model_run_dir) -> list:
  """The steps at which Keras wrote a training loss, in order."""
  steps = []
  for events in tf.io.gfile.glob(f'{model_run_dir}/train/events.out.*'):
    for event in tf.compat.v1.train.summary_iterator(events):
      if any(value.tag == 'batch_loss' for value in event.summary.value):
        steps.append(event.step)
  return sorted(steps)


def test_each_epoch_reads_every_train_row_once(bundled_run, tmp_path):
  outputs = bundled_run.output_dir / 'pipelines' / configs.PIPELINE_NAME
  # The newest of each: other tests add runs to the bundled run's outputs.
  examples_uri, transform_uri = (
      max((outputs / component / key).iterdir(), key=lambda p: int(p.name))
      for component, key in (('CsvExampleGen', 'examples'),
                             ('Transform', 'transform_graph')))
  train_rows = sum(1 for _ in tf.data.TFRecordDataset(
      tf.io.gfile.glob(str(examples_uri / 'Split-train' / '*')),
      compression_type='GZIP'))
  hparams = dict(configs.HPARAMS, log_every_steps=1)
  model_run = tmp_path / 'model_run'

  trainer_executor.GenericExecutor().Do(
      {'examples': [_artifact(standard_artifacts.Examples, examples_uri,
                              split_names='["train", "eval"]')],
       'transform_graph': [_artifact(standard_artifacts.TransformGraph,
                                     transform_uri)]},
      {'model': [_artifact(standard_artifacts.Model, tmp_path / 'model')],
       'model_run': [_artifact(standard_artifacts.ModelRun, model_run)]},
      {'run_fn': configs.RUN_FN,
       'train_args': proto_utils.proto_to_json(nodes.train_args(
           configs.TRAIN_STEPS, train_epochs=2)),
       'eval_args': proto_utils.proto_to_json(
           trainer_pb2.EvalArgs(num_steps=2)),
       'custom_config': json.dumps({'hparams': hparams, 'train_epochs': 2})})

  # Two passes in batches that run on across the epochs' boundary.
  steps = math.ceil(2 * train_rows / hparams['batch_size'])
  assert steps != configs.TRAIN_STEPS
  assert _logged_steps(model_run) == list(range(1, steps + 1))
  assert tf.io.gfile.exists(str(tmp_path / 'model' / 'Format-Serving' /
                                'saved_model.pb'))
