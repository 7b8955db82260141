"""Transform's executor without Beam: tf.Transform's analysis in process.

The analysis is evaluated in this process (analysis.py), its outputs written
where TFX's Transform writes them.

The transform graph artifact holds what tft.TFTransformOutput reads, as
tft_beam.WriteMetadata and WriteTransformFn lay it out: `metadata/` (the raw
data's schema), `transform_fn/` (the SavedModel with its vocabularies) and
`transformed_metadata/` (the outputs' schema and the asset map).
"""

import json
import os
from typing import Any, Dict, List

import tensorflow as tf
import tensorflow_transform as tft
from tensorflow_transform.tf_metadata import dataset_metadata
from tensorflow_transform.tf_metadata import metadata_io
from tfx import types
from tfx.components.transform import executor_utils
from tfx.components.transform import labels
from tfx.components.util import tfxio_utils
from tfx.components.util import udf_utils
from tfx.dsl.components.base import base_beam_executor
from tfx.types import artifact_utils
from tfx.types import standard_component_specs as specs
from tfx.utils import io_utils

from pipeline.in_process.transform import analysis


def write_transform_graph(transform_fn: analysis.TransformFn,
                          raw_schema, output_dir: str) -> None:
  """Lays out the TransformGraph artifact as TFX's Transform does."""
  metadata_io.write_metadata(
      dataset_metadata.DatasetMetadata(raw_schema),
      os.path.join(output_dir, tft.TFTransformOutput.RAW_METADATA_DIR))
  transformed_metadata = os.path.join(
      output_dir, tft.TFTransformOutput.TRANSFORMED_METADATA_DIR)
  metadata_io.write_metadata(transform_fn.metadata, transformed_metadata)
  if transform_fn.asset_map:
    io_utils.write_string_file(
        os.path.join(transformed_metadata, tft.TFTransformOutput.ASSET_MAP),
        json.dumps(transform_fn.asset_map))
  tf.io.gfile.rename(
      transform_fn.saved_model_dir,
      os.path.join(output_dir, tft.TFTransformOutput.TRANSFORM_FN_DIR))


class Executor(base_beam_executor.BaseBeamExecutor):
  """Writes the transform graph, as TFX's Transform does.

  The same as Transform writes with InMemoryTransform's settings.

  A Beam executor by class only: Transform, a Beam component, takes no other
  kind. It builds no pipeline.
  """

  def Do(self, input_dict: Dict[str, List[types.Artifact]],
         output_dict: Dict[str, List[types.Artifact]],
         exec_properties: Dict[str, Any]) -> None:
    """Analyzes the analysis split and writes the transform graph.

    Args:
      input_dict: 'examples', one Examples artifact; 'schema', the raw
        data's Schema.
      output_dict: 'transform_graph', one TransformGraph artifact.
      exec_properties: Transform's; 'preprocessing_fn' (or 'module_file' /
        'module_path'), 'custom_config' and 'splits_config' are read.

    Raises:
      ValueError: the preprocessing_fn needs an operation analysis.py does
        not evaluate.
    """
    examples = input_dict[specs.EXAMPLES_KEY]
    [split] = executor_utils.ResolveSplitsConfig(
        exec_properties.get(specs.SPLITS_CONFIG_KEY), examples).analyze
    schema = io_utils.SchemaReader().read(io_utils.get_only_uri_in_dir(
        artifact_utils.get_single_uri(input_dict[specs.SCHEMA_KEY])))
    preprocessing_fn = executor_utils.MaybeBindCustomConfig(
        {labels.CUSTOM_CONFIG: exec_properties.get(specs.CUSTOM_CONFIG_KEY)},
        udf_utils.get_fn(exec_properties, specs.PREPROCESSING_FN_KEY))
    output_dir = artifact_utils.get_single_uri(
        output_dict[specs.TRANSFORM_GRAPH_KEY])

    data = tfxio_utils.get_split_tfxio(
        examples, split, telemetry_descriptors=['Transform'], schema=schema)
    temp_dir = os.path.join(output_dir, '.temp_path')
    write_transform_graph(
        analysis.analyze(preprocessing_fn, data, temp_dir), schema,
        output_dir)
    io_utils.delete_dir(temp_dir)
