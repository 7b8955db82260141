"""The Evaluator's executor without Beam: evaluation.py's metrics.

They are written and judged as TFX's Evaluator writes and judges TFMA's.

Outputs, as TFX's Evaluator leaves them: in the ModelEvaluation, TFMA's
`metrics`, `plots`, `attributions` and `validations` files and
`eval_config.json` (read by `tfma.load_eval_result`, `tfma.load_metrics`,
`tfma.load_validation_result`); in the ModelBlessing, the BLESSED or
NOT_BLESSED file and the custom properties the latest-blessed-model resolver
reads.
"""

import os
from typing import Any, Dict, List

import tensorflow as tf
import tensorflow_model_analysis as tfma
from tensorflow_model_analysis import version as tfma_version
from tensorflow_model_analysis.evaluators import metrics_validator
from tensorflow_model_analysis.metrics import metric_types
from tensorflow_model_analysis.proto import config_pb2
from tensorflow_model_analysis.writers import metrics_plots_and_validations_writer as writer
from tfx import types
from tfx.components.evaluator import constants
from tfx.components.util import examples_utils
from tfx.components.util import tfxio_utils
from tfx.dsl.components.base import base_beam_executor
from tfx.types import artifact_utils
from tfx.types import standard_component_specs as specs
from tfx.utils import io_utils
from tfx.utils import json_utils
from tfx.utils import path_utils
from tfx.utils import proto_utils
from google.protobuf import json_format

from pipeline.in_process import record_batches
from pipeline.in_process.evaluator import evaluation

# TFMA's single-shard file names (what its Beam writers produce).
_SHARD = '-00000-of-00001.tfrecord'


def _eval_config(exec_properties: Dict[str, Any],
                 has_baseline: bool) -> tfma.EvalConfig:
  """The EvalConfig as TFX's Evaluator completes it."""
  eval_config = tfma.EvalConfig()
  proto_utils.json_to_proto(exec_properties[specs.EVAL_CONFIG_KEY],
                            eval_config)
  eval_config = tfma.utils.update_eval_config_with_defaults(
      eval_config, has_baseline=has_baseline, rubber_stamp=True)
  tfma.utils.verify_eval_config(eval_config)
  evaluation.check_supported(eval_config)
  return eval_config


def _write_records(path: str, messages) -> None:
  with tf.io.TFRecordWriter(path) as records:
    for message in messages:
      records.write(message.SerializeToString())


def _of_type(sliced: evaluation.SlicedMetrics, key_type, exclude=()):
  """Per slice, the values whose keys are of key_type and not of exclude.

  PlotKey and AttributionsKey are MetricKeys too.
  """
  return [(slice_key, {
      k: v for k, v in values.items()
      if isinstance(k, key_type) and not isinstance(k, exclude)})
          for slice_key, values in sliced]


def _metrics_only(sliced: evaluation.SlicedMetrics):
  return _of_type(sliced, metric_types.MetricKey,
                  (metric_types.PlotKey, metric_types.AttributionsKey))


def _write_evaluation(uri: str, eval_config: tfma.EvalConfig,
                      sliced: evaluation.SlicedMetrics,
                      validation, examples: types.Artifact, splits: List[str],
                      model_locations: Dict[str, str]) -> None:
  _write_records(
      os.path.join(uri, tfma.METRICS_KEY + _SHARD),
      (writer.convert_slice_metrics_to_proto(m, None)
       for m in _metrics_only(sliced)))
  _write_records(
      os.path.join(uri, tfma.PLOTS_KEY + _SHARD),
      (writer.convert_slice_plots_to_proto(p, None)
       for p in _of_type(sliced, metric_types.PlotKey)))
  # No attributions are computed: an empty record per slice, as TFMA's.
  _write_records(
      os.path.join(uri, tfma.ATTRIBUTIONS_KEY + _SHARD),
      (writer.convert_slice_attributions_to_proto(a)
       for a in _of_type(sliced, metric_types.AttributionsKey)))
  _write_records(os.path.join(uri, tfma.VALIDATIONS_KEY + '.tfrecord'),
                 [validation])
  io_utils.write_string_file(
      os.path.join(uri, 'eval_config.json'),
      json_format.MessageToJson(config_pb2.EvalRun(
          eval_config=eval_config, version=tfma_version.VERSION,
          data_location=','.join(
              artifact_utils.get_split_uri([examples], s) for s in splits),
          file_format=examples_utils.get_payload_format_string(examples),
          model_locations=model_locations)))


def _validate(eval_config: tfma.EvalConfig,
              sliced: evaluation.SlicedMetrics):
  """TFMA's ValidationResult over every slice.

  No rubber stamp: TFX's Evaluator gives TFMA models without one.
  """
  combine = writer.CombineValidations(eval_config, rubber_stamp=False)
  result = combine.create_accumulator()
  for metrics in _metrics_only(sliced):
    result = combine.add_input(
        result, metrics_validator.validate_metrics(metrics, eval_config))
  return combine.extract_output(result)


def _bless(blessing: types.Artifact, validation_ok: bool,
           model: types.Artifact, baseline) -> None:
  """The ModelBlessing as TFX's Evaluator writes it.

  TFX's Evaluator writes it when the EvalConfig has thresholds.
  """
  blessing.set_string_custom_property(
      constants.ARTIFACT_PROPERTY_CURRENT_MODEL_URI_KEY, model.uri)
  blessing.set_int_custom_property(
      constants.ARTIFACT_PROPERTY_CURRENT_MODEL_ID_KEY, model.id)
  if baseline:
    blessing.set_string_custom_property(
        constants.ARTIFACT_PROPERTY_BASELINE_MODEL_URI_KEY, baseline.uri)
    blessing.set_int_custom_property(
        constants.ARTIFACT_PROPERTY_BASELINE_MODEL_ID_KEY, baseline.id)
  io_utils.write_string_file(
      os.path.join(blessing.uri, constants.BLESSED_FILE_NAME if validation_ok
                   else constants.NOT_BLESSED_FILE_NAME), '')
  blessing.set_int_custom_property(
      constants.ARTIFACT_PROPERTY_BLESSED_KEY,
      constants.BLESSED_VALUE if validation_ok else constants.NOT_BLESSED_VALUE)


class Executor(base_beam_executor.BaseBeamExecutor):
  """Evaluates and blesses as TFX's Evaluator does, in this process.

  A Beam executor by class only: the Evaluator, a Beam component, takes no
  other kind. It builds no pipeline.
  """

  def Do(self, input_dict: Dict[str, List[types.Artifact]],
         output_dict: Dict[str, List[types.Artifact]],
         exec_properties: Dict[str, Any]) -> None:
    """Evaluates the model, and the baseline if given, on the eval split.

    Args:
      input_dict: 'examples', 'model', optionally 'baseline_model' and
        'schema' (the columns to decode for slicing).
      output_dict: 'evaluation' and 'blessing'.
      exec_properties: 'eval_config' (JSON) and optionally 'example_splits'
        (JSON list; default ['eval']).

    Raises:
      ValueError: the EvalConfig asks for what evaluation.py does not
        compute, or a model does not answer as its ModelSpec says.
    """
    examples = artifact_utils.get_single_instance(
        input_dict[specs.EXAMPLES_KEY])
    model = artifact_utils.get_single_instance(input_dict[specs.MODEL_KEY])
    baseline = (input_dict.get(specs.BASELINE_MODEL_KEY) or [None])[0]
    eval_config = _eval_config(exec_properties, has_baseline=bool(baseline))
    model_locations = {}
    for spec in eval_config.model_specs:
      artifact = baseline if spec.is_baseline else model
      model_locations[spec.name] = path_utils.serving_model_path(
          artifact.uri, path_utils.is_old_model_artifact(artifact))
    models = [evaluation.Model(spec, model_locations[spec.name])
              for spec in eval_config.model_specs]
    schema = None
    if input_dict.get(specs.SCHEMA_KEY):
      schema = io_utils.SchemaReader().read(io_utils.get_only_uri_in_dir(
          artifact_utils.get_single_uri(input_dict[specs.SCHEMA_KEY])))
    splits = json_utils.loads(
        exec_properties.get(specs.EXAMPLE_SPLITS_KEY) or 'null') or ['eval']

    def batches():
      for split in splits:
        yield from record_batches.read_once(tfxio_utils.get_split_tfxio(
            [examples], split, telemetry_descriptors=['Evaluator'],
            schema=schema,
            raw_record_column_name=evaluation.RAW_RECORD_COLUMN))

    sliced = evaluation.sliced_metrics(
        evaluation.sliced_histograms(batches(), models,
                                     eval_config.slicing_specs),
        eval_config)
    validation = _validate(eval_config, sliced)
    _write_evaluation(
        artifact_utils.get_single_uri(output_dict[specs.EVALUATION_KEY]),
        eval_config, sliced, validation, examples, splits, model_locations)
    if tfma.metrics.metric_thresholds_from_metrics_specs(
        eval_config.metrics_specs, eval_config=eval_config):
      _bless(artifact_utils.get_single_instance(
          output_dict[specs.BLESSING_KEY]), validation.validation_ok, model,
             baseline)
