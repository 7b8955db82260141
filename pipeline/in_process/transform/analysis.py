"""tf.Transform's analysis of a `preprocessing_fn`, in process, without Beam.

It runs in this process, in TF1 graph mode (the mode pipeline/configs.py
sets).

tf.Transform turns a `preprocessing_fn` into a graph of operations
(`analysis_graph_builder.build`) that its Beam implementation maps onto a
pipeline. This module evaluates the same graph directly, with tf.Transform's
own pieces for each operation: the phase's TF graph run by its DoFn over each
record batch, its packed combiners called as plain CombineFns, its tensor
binding and SavedModel export. The examples are read once per phase, one
record batch at a time; only the combiners' accumulators are held.

Only the kinds of operation listed in `_Interpreter` are implemented; a
`preprocessing_fn` needing another is refused by name before any data is
read (`check_supported`).
"""

import collections
import os
from typing import Iterable, Iterator, List, NamedTuple

from apache_beam.utils import shared
import numpy as np
import tensorflow as tf
from tensorflow_transform import analyzer_nodes
from tensorflow_transform import annotators
from tensorflow_transform import graph_tools
from tensorflow_transform import impl_helper
from tensorflow_transform import nodes
from tensorflow_transform.beam import analysis_graph_builder
from tensorflow_transform.beam import analyzer_impls
from tensorflow_transform.beam import common as beam_common
from tensorflow_transform.beam import impl as beam_impl
from tensorflow_transform.saved import saved_transform_io
from tensorflow_transform.tf_metadata import dataset_metadata
from tfx_bsl.tfxio import tfxio

from pipeline.in_process import record_batches

# Examples per run of a phase's graph: the most TFT's Beam source batches
# (tfx_bsl's cap), so the analyzers' float32 sums over a batch round as they
# do under Beam.
_BATCH_ROWS = 1000


class TransformFn(NamedTuple):
  """What tf.Transform's AnalyzeDataset gives.

  The transform graph and the metadata of its outputs.
  """
  saved_model_dir: str
  metadata: dataset_metadata.DatasetMetadata
  # Vocabulary name -> its file in transform_fn/assets (TFT's `asset_map`).
  asset_map: dict


def _operations(values) -> Iterator[nodes.OperationNode]:
  """Every operation the values depend on, once each."""
  seen, pending = set(), list(values)
  while pending:
    operation = pending.pop().parent_operation
    if id(operation) not in seen:
      seen.add(id(operation))
      yield operation
      pending.extend(operation.inputs)


class _Interpreter(nodes.Visitor):
  """Evaluates the operations of an analysis graph.

  A value is a list of elements (a PCollection's), except the examples and
  the phase graph's outputs, streamed to their one consumer.
  """

  def __init__(self, examples: tfxio.TFXIO, graph: tf.Graph,
               structured_inputs, temp_dir: str):
    self._examples = examples
    self._graph = graph
    self._structured_inputs = structured_inputs
    self._temp_dir = temp_dir

  def validate_value(self, value):
    pass

  def visit(self, operation_def, input_values):
    result = getattr(self, type(operation_def).__name__)(
        operation_def, input_values)
    return result if isinstance(result, tuple) else (result,)

  # pylint: disable=invalid-name,unused-argument
  def ExtractInputForSavedModel(self, operation, inputs):
    return record_batches.read_once(self._examples, _BATCH_ROWS)

  def ApplySavedModel(self, operation, inputs):
    (saved_model_dir,), batches = inputs
    run_graph = beam_impl._RunMetaGraphDoFn(  # pylint: disable=protected-access
        None, shared.Shared(), set(), True,
        self._examples.TensorAdapterConfig())
    run_graph.setup()
    return (outputs for batch in batches
            for outputs in run_graph.process(
                batch, saved_model_dir=saved_model_dir))

  def _combine(self, combiners, is_combining_accumulators, elements):
    combine = analyzer_impls._PackedCombinerWrapper(  # pylint: disable=protected-access
        combiners, is_combining_accumulators)
    accumulator = combine.create_accumulator()
    for element in elements:
      accumulator = combine.add_input(accumulator, element)
    return [combine.extract_output(combine.compact(accumulator))]

  def PackedCombineAccumulate(self, operation, inputs):
    return self._combine(operation.combiners, False, inputs[0])

  def PackedCombineMerge(self, operation, inputs):
    return self._combine(operation.combiners, True, inputs[0])

  def ExtractFromDict(self, operation, inputs):
    keys = operation.keys
    if isinstance(keys, tuple):
      return [tuple(element[key] for key in keys) for element in inputs[0]]
    return [element[keys] for element in inputs[0]]

  def ExtractPackedCombineMergeOutputs(self, operation, inputs):
    return tuple([element[index] for element in inputs[0]]
                 for index in range(operation.num_outputs))

  def AddKey(self, operation, inputs):
    return [(operation.key, element) for element in inputs[0]]

  def Flatten(self, operation, inputs):
    return [element for value in inputs for element in value]

  def FlattenLists(self, operation, inputs):
    return [item for element in inputs[0] for item in element]

  def VocabularyOrderAndWrite(self, operation, inputs):
    # The top-k combiner gives (count, token) pairs already in order.
    path = os.path.join(self._temp_dir, operation.vocab_filename)
    with tf.io.gfile.GFile(path, 'wb') as vocabulary:
      for _, token in inputs[0]:
        vocabulary.write(token + b'\n')
    return [np.array(path)]

  def CreateTensorBinding(self, operation, inputs):
    return [beam_impl._TensorBinding(  # pylint: disable=protected-access
        value, operation.tensor_name, operation.dtype_enum,
        operation.is_asset_filepath) for value in inputs[0]]

  def CreateSavedModel(self, operation, inputs):
    unbound = beam_common.get_unique_temp_path(self._temp_dir)
    with self._graph.as_default(), tf.compat.v1.Session(
        graph=self._graph) as session:
      # As TFT's Beam implementation: this model's table initializers only.
      initializers = tf.compat.v1.get_collection_ref(
          tf.compat.v1.GraphKeys.TABLE_INITIALIZERS)
      others = list(initializers)
      initializers[:] = operation.table_initializers
      session.run(tf.compat.v1.global_variables_initializer())
      saved_transform_io.write_saved_transform_from_session(
          session, self._structured_inputs, operation.output_signature,
          unbound)
      initializers[:] = others
    bindings = [binding for [binding] in inputs]
    if not bindings:
      return [unbound]
    return [beam_impl._replace_tensors_with_constant_values(  # pylint: disable=protected-access
        unbound, self._temp_dir, *bindings)]
  # pylint: enable=invalid-name,unused-argument


def _refusal(operation_def) -> str:
  """Why the operation cannot be evaluated here, or ''."""
  kind = type(operation_def).__name__
  if not hasattr(_Interpreter, kind):
    return kind
  if kind == 'VocabularyOrderAndWrite' and not (
      operation_def.input_is_sorted and operation_def.file_format == 'text'
      and not operation_def.store_frequency):
    return (f'{kind} of {operation_def.vocab_filename!r} (only sorted text '
            'vocabularies without frequencies, as '
            'tft.experimental.approximate_vocabulary writes them)')
  return ''


def check_supported(values: Iterable[nodes.ValueNode]) -> None:
  """Refuses an analysis graph with operations this module does not evaluate.

  The ones it does evaluate, it evaluates as tf.Transform's Beam
  implementation does.

  Args:
    values: the graph's outputs (analysis_graph_builder.build's).

  Raises:
    ValueError: naming the unsupported operations.
  """
  operations = list(_operations(values))
  refused = sorted({_refusal(o.operation_def) for o in operations} - {''})
  consumers = collections.Counter(
      id(value.parent_operation) for o in operations for value in o.inputs)
  streamed = [type(o.operation_def).__name__ for o in operations
              if type(o.operation_def).__name__ in (
                  'ExtractInputForSavedModel', 'ApplySavedModel')
              and consumers[id(o)] != 1]
  if streamed:
    refused.append(f'{", ".join(sorted(set(streamed)))} read more than once')
  if refused:
    raise ValueError(
        'The in-memory Transform does not support this preprocessing_fn\'s '
        f'analysis: {"; ".join(refused)}. Use TFX\'s Transform: '
        '`local_runner.py --with-beam` '
        '(create_pipeline(without_beam=False)).')


def _analyze_input_columns(graph: tf.Graph, structured_inputs) -> List[str]:
  """The columns the analyzers read, as tft.get_analyze_input_columns finds.

  Found from the graph already traced.
  """
  visitor = graph_tools.SourcedTensorsVisitor()
  for sink in graph.get_collection(analyzer_nodes.TENSOR_REPLACEMENTS):
    nodes.Traverser(visitor).visit_value_node(sink.future)
  return list(graph_tools.get_dependent_inputs(
      graph, structured_inputs, visitor.sourced_tensors))


def analyze(preprocessing_fn, examples: tfxio.TFXIO,
            temp_dir: str) -> TransformFn:
  """Analyzes the examples as tft_beam.AnalyzeDataset does (compat-v1).

  Args:
    preprocessing_fn: the tf.Transform preprocessing_fn.
    examples: the analysis data; only the columns the analyzers read are
      decoded.
    temp_dir: where the vocabularies and intermediate graphs are written.

  Returns:
    The TransformFn; its saved_model_dir is under temp_dir.

  Raises:
    ValueError: the analysis needs an operation this module does not
      evaluate (check_supported).
  """
  graph, structured_inputs, structured_outputs = (
      impl_helper.trace_preprocessing_function(
          preprocessing_fn, examples.TensorAdapter().OriginalTypeSpecs(),
          use_tf_compat_v1=True, base_temp_dir=temp_dir))
  examples = examples.Project(
      _analyze_input_columns(graph, structured_inputs))
  # As AnalyzeDataset: the annotations go to the asset map, not the export.
  asset_map = annotators.get_asset_annotations(graph)
  annotators.clear_asset_annotations(graph)
  transform_fn, _, side_effects = analysis_graph_builder.build(
      graph, structured_inputs, structured_outputs)
  check_supported([transform_fn, *side_effects])
  traverser = nodes.Traverser(
      _Interpreter(examples, graph, structured_inputs, temp_dir))
  [saved_model_dir] = traverser.visit_value_node(transform_fn)
  for value in side_effects:
    traverser.visit_value_node(value)
  return TransformFn(
      saved_model_dir,
      beam_impl._infer_metadata_from_saved_model(saved_model_dir, True),  # pylint: disable=protected-access
      asset_map)
