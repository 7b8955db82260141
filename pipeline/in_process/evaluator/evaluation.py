"""TFMA's sliced metrics, computed over record batches in this process.

TFMA's Beam pipeline splits each batch into one record per example and finds
every example's slices and metric inputs one at a time; for the histogram
metrics (pipeline/metrics/histogram_metrics.py) that per-example work is
nearly all of the Evaluator's time. Here each model answers a whole batch,
each slice's rows are found once per batch, and each slice's histogram grows
by a few array operations. What comes out is what TFMA's evaluator hands its
writers: per slice, a dict of MetricKey/PlotKey -> value, derived and diff
metrics included, private ones removed. Only what this pipeline's EvalConfig
uses is supported; anything else is refused by name (`check_supported`).
"""

import numbers
from typing import Dict, Iterable, List, Sequence, Tuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import tensorflow as tf
import tensorflow_model_analysis as tfma
from tensorflow_model_analysis.metrics import metric_specs
from tensorflow_model_analysis.metrics import metric_types
from tensorflow_model_analysis.slicer import slice_accessor
from tensorflow_model_analysis.utils import model_util

from pipeline.metrics import histogram_metrics

# The serialized examples' column in the record batches.
RAW_RECORD_COLUMN = tfma.ARROW_INPUT_COLUMN
_DEFAULT_SIGNATURE = 'serving_default'
SliceKey = tuple
SlicedMetrics = List[Tuple[SliceKey, Dict[metric_types.MetricKey, object]]]


def _unsupported(what: str) -> ValueError:
  return ValueError(
      f'The in-memory Evaluator does not support {what}; use TFX\'s '
      'Evaluator: `local_runner.py --with-beam` '
      '(create_pipeline(without_beam=False)).')


def check_supported(eval_config: tfma.EvalConfig) -> None:
  """Refuses what this module would not compute as TFMA does.

  Args:
    eval_config: after TFMA's defaults are applied.

  Raises:
    ValueError: naming the first unsupported setting.
  """
  for spec in eval_config.model_specs:
    if spec.example_weight_key or spec.example_weight_keys:
      raise _unsupported(f'example weights (model "{spec.name}")')
    if spec.label_keys or spec.prediction_keys:
      raise _unsupported(f'multiple outputs (model "{spec.name}")')
    if spec.model_type == tfma.TFMA_EVAL:
      raise _unsupported('EvalSavedModels')
  if eval_config.cross_slicing_specs:
    raise _unsupported('cross slicing')
  for spec in eval_config.slicing_specs:
    if spec.slice_keys_sql:
      raise _unsupported('SQL slicing')
  options = eval_config.options
  if (options.compute_confidence_intervals.value or
      options.min_slice_size.value > 1):
    raise _unsupported('confidence intervals or a minimum slice size')
  if options.include_default_metrics.value or not options.HasField(
      'include_default_metrics'):
    raise _unsupported("the model's own metrics (include_default_metrics)")
  for metrics_spec in eval_config.metrics_specs:
    if metrics_spec.query_key:
      raise _unsupported('query-based metrics')
    for metric in metrics_spec.metrics:
      if not histogram_metrics.is_histogram_metric(metric):
        raise _unsupported(
            f"metrics other than {histogram_metrics.__name__}'s: "
            f'{metric.module or "tfma"}.{metric.class_name}')


class Model:
  """A SavedModel answering as TFMA calls a generic one.

  Each signature is given the batch's serialized examples.
  """

  def __init__(self, spec: tfma.ModelSpec, path: str):
    """Loads the model.

    Args:
      spec: its ModelSpec in the EvalConfig.
      path: its SavedModel directory.

    Raises:
      ValueError: a signature the spec names is missing or does not take
        serialized examples.
    """
    self.name = spec.name
    self._what = f'Model "{spec.name}"' if spec.name else 'The model'
    loaded = tf.saved_model.load(path)
    self._loaded = loaded  # the signatures need the objects they refer to
    self._predict = self._signature(
        loaded, spec.signature_name or _DEFAULT_SIGNATURE)
    self._preprocessing = [self._signature(loaded, name)
                           for name in spec.preprocessing_function_names]
    self._label_key = spec.label_key
    self._prediction_key = spec.prediction_key

  def _signature(self, loaded, name: str):
    if name not in loaded.signatures:
      raise ValueError(f'{self._what} has no signature "{name}"; it has '
                       f'{sorted(loaded.signatures)}')
    function = loaded.signatures[name]
    inputs = function.structured_input_signature[1]
    if len(inputs) != 1 or next(iter(inputs.values())).dtype != tf.string:
      raise ValueError(f'{self._what}\'s signature "{name}" does not take '
                       f'serialized examples: its inputs are {inputs}')
    [input_name] = inputs
    return lambda examples: function(**{input_name: examples})

  def _one_per_example(self, value, what: str, rows: int) -> np.ndarray:
    value = np.asarray(value)
    if value.size != rows:
      raise ValueError(f'{self._what} gave {what} of shape {value.shape} '
                       f'for {rows} examples, not one each')
    return value.reshape(rows)

  def answer(self, examples: tf.Tensor) -> Tuple[np.ndarray, np.ndarray]:
    """(labels, predictions) for a batch of serialized examples.

    Raises:
      ValueError: the label or the prediction is not found, or is not one
        value per example.
    """
    rows = int(examples.shape[0])
    outputs = self._predict(examples)
    if self._prediction_key:
      key = self._prediction_key
    elif len(outputs) == 1:
      [key] = outputs
    else:
      raise ValueError(f'{self._what} has outputs {sorted(outputs)}; its '
                       'ModelSpec names no prediction_key')
    if key not in outputs:
      raise ValueError(f'{self._what} has no output "{key}"')
    for preprocess in self._preprocessing:
      transformed = preprocess(examples)
      if self._label_key in transformed:
        labels = transformed[self._label_key]
        break
    else:
      raise ValueError(f'{self._what} gives the label "{self._label_key}" '
                       'from none of its preprocessing functions')
    return (self._one_per_example(labels, 'labels', rows),
            self._one_per_example(outputs[key], 'predictions', rows))


def _column_codes(batch: pa.RecordBatch, column: str):
  """(code per row, -1 where missing; the values the codes index)."""
  index = batch.schema.get_field_index(column)
  if index < 0:
    raise ValueError(f'Slicing feature "{column}" is not a column of the '
                     f'examples; they have {batch.schema.names}')
  values = batch.column(index)
  lengths = pc.fill_null(pc.list_value_length(values), 0).to_numpy()
  if (lengths > 1).any():
    raise _unsupported(f'slicing by "{column}", which has several values in '
                       'one example')
  present = values.flatten().to_numpy(zero_copy_only=False)
  uniques, codes = np.unique(present, return_inverse=True)
  all_codes = np.full(len(lengths), -1)
  all_codes[lengths == 1] = codes
  return all_codes, uniques


def _slices(batch: pa.RecordBatch, slicing_specs: Sequence[
    Tuple[tfma.SlicingSpec, tfma.slicer.SingleSliceSpec]]
           ) -> Iterable[Tuple[SliceKey, np.ndarray]]:
  """Each slice key of the batch, with the rows in it.

  Keys as TFMA's slicer makes them, from each distinct combination of
  values.
  """
  rows = np.arange(batch.num_rows)
  for spec, single_spec in slicing_specs:
    columns = sorted(set(spec.feature_keys) | set(spec.feature_values))
    if not columns:
      yield (), rows
      continue
    codes, uniques = zip(*(_column_codes(batch, c) for c in columns))
    codes = np.stack(codes)
    complete = (codes >= 0).all(axis=0)
    if not complete.any():
      continue
    combinations, group = np.unique(codes[:, complete], axis=1,
                                     return_inverse=True)
    for g, combination in enumerate(combinations.T):
      accessor = slice_accessor.SliceAccessor([{
          column: values[code:code + 1]
          for column, values, code in zip(columns, uniques, combination)}])
      for slice_key in single_spec.generate_slices(accessor):
        yield slice_key, rows[complete][group.reshape(-1) == g]


def sliced_histograms(batches: Iterable[pa.RecordBatch], models: List[Model],
                      slicing_specs: Sequence[tfma.SlicingSpec]
                     ) -> Dict[SliceKey, Dict[str, np.ndarray]]:
  """Slice key -> model name -> its predictions' histogram, dense.

  Args:
    batches: the examples, with their serialized form in RAW_RECORD_COLUMN.
    models: the models to evaluate.
    slicing_specs: the EvalConfig's.
  """
  histograms = {}
  specs = [(spec, tfma.slicer.SingleSliceSpec(spec=spec))
           for spec in slicing_specs]
  for batch in batches:
    examples = tf.constant(
        batch.column(RAW_RECORD_COLUMN).flatten().to_numpy(
            zero_copy_only=False))
    answers = {model.name: model.answer(examples) for model in models}
    for slice_key, rows in _slices(batch, specs):
      per_model = histograms.setdefault(slice_key, {})
      for name, (labels, predictions) in answers.items():
        histogram_metrics.add_examples(
            per_model.setdefault(name, histogram_metrics.empty_histogram()),
            labels[rows], predictions[rows], name)
  return histograms


def _is_private(key: metric_types.MetricKey) -> bool:
  # TFMA's rule: one leading underscore hides a metric from the output.
  return key.name.startswith('_') and not key.name.startswith('__')


def sliced_metrics(histograms: Dict[SliceKey, Dict[str, np.ndarray]],
                   eval_config: tfma.EvalConfig) -> SlicedMetrics:
  """Per slice, the metrics and plots TFMA's evaluator would output.

  Args:
    histograms: from sliced_histograms.
    eval_config: after TFMA's defaults are applied.

  Returns:
    [(slice key, MetricKey/PlotKey -> value)], with diff metrics against the
    baseline model if there is one.
  """
  derived = [
      c for c in metric_specs.to_computations(
          eval_config.metrics_specs, eval_config=eval_config)
      if isinstance(c, metric_types.DerivedMetricComputation)]
  baseline = model_util.get_baseline_model_spec(eval_config)
  results = []
  for slice_key, per_model in histograms.items():
    metrics = {
        histogram_metrics.histogram_key(name): histogram_metrics.to_histogram(
            dense) for name, dense in per_model.items()}
    for computation in derived:
      metrics.update(computation.result(metrics))
    if baseline:
      for key, value in list(metrics.items()):
        base = key.make_baseline_key(baseline.name)
        if (key.model_name != baseline.name and not key.is_diff and
            not _is_private(key) and isinstance(value, numbers.Number) and
            base in metrics):
          metrics[key.make_diff_key()] = value - metrics[base]
    results.append((slice_key, {
        k: v for k, v in metrics.items() if not _is_private(k)}))
  return results
