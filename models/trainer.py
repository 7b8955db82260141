"""TFX Trainer entry point: `run_fn` trains the model and exports it."""

from absl import logging
import tensorflow as tf
from tensorflow.python.autograph.core import config as autograph_config
import tensorflow_transform as tft
from tfx_bsl.public import tfxio

from models import features
from models import model as model_lib
from models import signatures
from models import warm_start
from models import push_destination


def _dataset(file_pattern, data_accessor, tf_transform_output, tft_layer,
             batch_size, shuffle, num_epochs=None):
  """(transformed features, label) batches from raw examples.

  The files are read num_epochs times, or for ever with None.

  Transform does not write transformed examples: this applies its graph
  batch by batch here instead, which costs less than a Beam pass writing
  and re-reading every row.
  """
  label_key = features.transformed_name(features.LABEL_KEY)

  def split_label(raw):
    transformed = tft_layer(raw)
    return transformed, transformed.pop(label_key)

  return data_accessor.tf_dataset_factory(
      file_pattern,
      tfxio.TensorFlowDatasetOptions(batch_size=batch_size, shuffle=shuffle,
                                     num_epochs=num_epochs),
      tf_transform_output.raw_metadata.schema).map(
          split_label, num_parallel_calls=tf.data.AUTOTUNE).prefetch(
              tf.data.AUTOTUNE)


def categorical_sizes(tf_transform_output) -> dict:
  """features.categorical_sizes with the vocabularies Transform computed.

  Args:
    tf_transform_output: Transform's output.

  Returns:
    Transformed feature name -> number of ids.
  """
  return features.categorical_sizes({
      key: tf_transform_output.vocabulary_size_by_name(key)
      for key in features.VOCAB_FEATURE_KEYS
  })


def _keep_autograph_out_of_keras():
  """Keeps AutoGraph from converting the functions of tf_keras.

  tf_keras (Keras 2) is graph-ready library code, but AutoGraph's
  deny-list names `tensorflow`, where Keras 2 used to live, not `tf_keras`:
  it rewrites every Keras function the train step calls, about 25 s of the
  first step on 2 cores. There is no public API for the list.
  """
  rules = autograph_config.CONVERSION_RULES
  if not (isinstance(rules[0], autograph_config.DoNotConvert) and
          rules[0].matches('tf_keras')):
    autograph_config.CONVERSION_RULES = (
        autograph_config.DoNotConvert('tf_keras'),) + rules


def run_fn(fn_args):
  """Trains on the train split, transformed, and exports a serving model.

  Hyperparameters come from pipeline/configs.py through the Trainer's
  custom_config, so changing one re-runs training (it is part of the cache key).
  Training takes fn_args.train_steps steps or, without them,
  custom_config['train_epochs'] passes over the train split.
  With custom_config['warm_start_from'] (a push destination), training
  starts from the serving model's weights (models/warm_start.py).

  Args:
    fn_args: TFX's FnArgs: the example files, Transform's output, the steps,
      custom_config and where to write the serving model.

  Raises:
    ValueError: neither steps nor custom_config['train_epochs'] is set.
  """
  epochs = None if fn_args.train_steps else fn_args.custom_config.get(
      'train_epochs')
  if not (fn_args.train_steps or epochs):
    raise ValueError("run_fn trains train_args.num_steps steps or "
                     "custom_config['train_epochs'] passes; neither is set")
  _keep_autograph_out_of_keras()
  hparams = fn_args.custom_config['hparams']
  tf.keras.utils.set_random_seed(hparams['seed'])
  tf_transform_output = tft.TFTransformOutput(fn_args.transform_output)
  # One layer (each loads the transform graph) for reading and serving.
  tft_layer = tf_transform_output.transform_features_layer()

  train = _dataset(fn_args.train_files, fn_args.data_accessor,
                   tf_transform_output, tft_layer, hparams['batch_size'],
                   shuffle=True, num_epochs=epochs)
  evaluation = _dataset(fn_args.eval_files, fn_args.data_accessor,
                        tf_transform_output, tft_layer, hparams['batch_size'],
                        shuffle=False)

  model = model_lib.build_keras_model(
      categorical_sizes(tf_transform_output), hparams)
  warm_from = fn_args.custom_config.get('warm_start_from')
  serving = warm_from and push_destination.latest_version_dir(warm_from)
  if serving:
    logging.info(warm_start.warm_start(
        model, serving,
        lambda sizes: model_lib.build_keras_model(sizes, hparams),
        {key: tf_transform_output.vocabulary_file_by_name(key)
         for key in features.VOCAB_FEATURE_KEYS}))
  model.fit(
      train,
      # None: until the train files' epochs are read.
      steps_per_epoch=fn_args.train_steps,
      validation_data=evaluation,
      validation_steps=fn_args.eval_steps,
      verbose=2,
      # Where TFX and TensorBoard look (the ModelRun artifact); the run
      # report draws the training curve from these. Keras calls the batch
      # hook that writes loss and AUC every update_freq steps only when
      # steps per second are written too.
      callbacks=[tf.keras.callbacks.TensorBoard(
          log_dir=fn_args.model_run_dir,
          update_freq=hparams['log_every_steps'],
          write_steps_per_second=True,
          write_graph=False,
          profile_batch=0)])
  # Each dataset holds tf.Transform's graph traced for reading, which the
  # export does not need: freed now, its memory serves the export's peak.
  del train, evaluation
  logging.info('Exporting the serving model to %s', fn_args.serving_model_dir)
  model.save(
      fn_args.serving_model_dir,
      save_format='tf',
      # Keras would otherwise trace every layer's call for re-loading as
      # Keras objects; serving and TFMA use the signatures only.
      save_traces=False,
      signatures=signatures.make_signatures(model, tf_transform_output,
                                            tft_layer))
