"""Warm start against training from scratch: the eval AUC along the way.

See docs/performance.md, "Warm start".

    python -m bench.warm_start [--newest 5] [--work-dir DIR]

Cuts the bundled sample into spans (local/span_data.py) and runs the
pipeline on the window ending at span N-1, then on the window ending at
span N. It then trains the second window's model again twice, as run_fn
does (same data, steps, seed): from scratch, and warm-started from the first
window's model; after every few steps both are scored on span N's eval
rows. Prints the AUC of each at each checkpoint and the steps each needs to
reach the AUC the cold start ends with.
"""

import os

os.environ.setdefault('TF_USE_LEGACY_KERAS', '1')
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')

import argparse
from pathlib import Path
import tempfile
import types

import tensorflow as tf
import tensorflow_transform as tft
from tfx_bsl.public import tfxio

from local import paths
from local import span_data
from models import features
from models import model as model_lib
from models import trainer
from models import warm_start
from pipeline import configs

EVERY_STEPS = 25


def _run_window(data: Path, outputs: Path, newest: int):
  """The pipeline on the window ending at `newest`; its RunSummary."""
  from tfx.orchestration import metadata  # pylint: disable=g-import-not-at-top
  from local import dag_runner  # pylint: disable=g-import-not-at-top
  from local import run_summary  # pylint: disable=g-import-not-at-top
  from pipeline import pipeline as pipeline_lib  # pylint: disable=g-import-not-at-top
  local = paths.LocalPaths(outputs)
  dag_runner.ConcurrentDagRunner().run(pipeline_lib.create_pipeline(
      pipeline_name=configs.PIPELINE_NAME,
      pipeline_root=str(local.pipeline_root),
      data_root=str(data), data_pattern='span-*/*.csv',
      serving_model_dir=str(local.serving_model_dir), newest_span=newest,
      metadata_connection_config=metadata.sqlite_metadata_connection_config(
          str(local.metadata_path))))
  return run_summary.latest_run(str(local.metadata_path))


def _uri(outputs: Path, node: str, key: str, execution: int) -> str:
  return str(paths.LocalPaths(outputs).pipeline_root / node / key /
             str(execution))


def _curve(model, train, evaluation, steps: int) -> list:
  """(step, eval AUC) every EVERY_STEPS steps of one training run.

  Keras epochs of EVERY_STEPS steps share the dataset's iterator. The
  weights scored are the raw ones: the moving average replaces them only at
  the end of training.
  """
  curve = []

  class Score(tf.keras.callbacks.Callback):

    def on_epoch_end(self, epoch, logs=None):
      auc = tf.keras.metrics.AUC(num_thresholds=1000)
      for batch, labels in evaluation:
        auc.update_state(labels, self.model(batch, training=False))
      curve.append(((epoch + 1) * EVERY_STEPS, float(auc.result())))

  model.fit(train, steps_per_epoch=EVERY_STEPS, epochs=steps // EVERY_STEPS,
            verbose=0, callbacks=[Score()])
  return curve


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--newest', type=int, default=5,
                      help='the span of the second window')
  parser.add_argument('--work-dir', type=Path)
  args = parser.parse_args(argv)
  work = args.work_dir or Path(tempfile.mkdtemp(prefix='warm-start-'))
  data, outputs = work / 'data', work / 'outputs'
  import csv  # pylint: disable=g-import-not-at-top
  with open(paths.DEFAULT_DATA_PATH / 'data.csv', newline='') as f:
    cut = span_data.cut(list(csv.DictReader(f)))
  for span in range(1, args.newest + 1):
    span_data.write_span(cut[span - 1], data, span)
  first = _run_window(data, outputs, args.newest - 1)
  second = _run_window(data, outputs, args.newest)
  served = os.path.join(first.trained_model, 'Format-Serving')

  transform_output = tft.TFTransformOutput(_uri(
      outputs, 'Transform', 'transform_graph',
      second.execution_ids['Transform']))
  layer = transform_output.transform_features_layer()
  examples = _uri(outputs, 'CsvExampleGen', 'examples',
                  second.execution_ids['CsvExampleGen'])
  accessor = types.SimpleNamespace(
      tf_dataset_factory=lambda pattern, options, schema: tfxio.TFExampleRecord(
          pattern, schema=schema).TensorFlowDataset(options))
  once = types.SimpleNamespace(  # the eval rows, each once
      tf_dataset_factory=lambda pattern, options, schema: tfxio.TFExampleRecord(
          pattern, schema=schema).TensorFlowDataset(
              tfxio.TensorFlowDatasetOptions(
                  batch_size=options.batch_size, shuffle=False,
                  num_epochs=1)))
  hparams = configs.HPARAMS
  sizes = trainer.categorical_sizes(transform_output)
  curves = {}
  for start in ('cold', 'warm'):
    tf.keras.utils.set_random_seed(hparams['seed'])
    train = trainer._dataset(f'{examples}/Split-train/*', accessor,  # pylint: disable=protected-access
                             transform_output, layer, hparams['batch_size'],
                             shuffle=True)
    evaluation = trainer._dataset(f'{examples}/Split-eval/*', once,  # pylint: disable=protected-access
                                  transform_output, layer,
                                  hparams['batch_size'], shuffle=False)
    model = model_lib.build_keras_model(sizes, hparams)
    if start == 'warm':
      print(warm_start.warm_start(
          model, served, lambda s: model_lib.build_keras_model(s, hparams),
          {k: transform_output.vocabulary_file_by_name(k)
           for k in features.VOCAB_FEATURE_KEYS}))
    curves[start] = _curve(model, train, evaluation, configs.TRAIN_STEPS)

  print(f'Window ending at span {args.newest}, scored on its eval rows; '
        f'warm start from the model of the window ending at span '
        f'{args.newest - 1}.')
  print('| steps | cold AUC | warm AUC |\n|---|---|---|')
  for (step, cold), (_, warm) in zip(curves['cold'], curves['warm']):
    print(f'| {step} | {cold:.4f} | {warm:.4f} |')
  target = curves['cold'][-1][1]
  for start, curve in curves.items():
    reached = next((s for s, auc in curve if auc >= target), None)
    print(f'{start}: reaches {target:.4f} (the cold start\'s final AUC) at '
          f'step {reached}')
  return 0


if __name__ == '__main__':
  raise SystemExit(main())
