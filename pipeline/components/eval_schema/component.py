"""The schema the Evaluator reads the eval split with: the slice columns.

It is the pipeline's schema narrowed to the columns the Evaluator slices by.

TFMA decodes every column its schema names (every column there is, without
one) into each example's record, and then splits those records example by
example. The model's signatures and the label (`transform_features`) read
the serialized examples instead, so slicing is all the decoded columns are
for (docs/performance.md, "The Evaluator decodes only the slice columns").
"""

import os
from typing import Sequence

from tensorflow_metadata.proto.v0 import schema_pb2
from tfx.dsl.component.experimental.annotations import InputArtifact
from tfx.dsl.component.experimental.annotations import OutputArtifact
from tfx.dsl.component.experimental.annotations import Parameter
from tfx.dsl.component.experimental.decorators import component
from tfx.types.standard_artifacts import Schema
from tfx.utils import io_utils


def narrow(schema: schema_pb2.Schema,
           columns: Sequence[str]) -> schema_pb2.Schema:
  """The schema with only `columns` among its features.

  Args:
    schema: a schema.
    columns: names of features of the schema.

  Returns:
    A copy of the schema whose features are those named, unchanged.

  Raises:
    ValueError: a column the schema has no feature for.
  """
  missing = sorted(set(columns) - {f.name for f in schema.feature})
  if missing:
    raise ValueError(f'the schema has no feature {", ".join(missing)}; '
                     f'it has {", ".join(f.name for f in schema.feature)}')
  narrowed = schema_pb2.Schema()
  narrowed.CopyFrom(schema)
  del narrowed.feature[:]
  narrowed.feature.extend(f for f in schema.feature if f.name in columns)
  return narrowed


@component
def EvalSchema(  # pylint: disable=invalid-name
    schema: InputArtifact[Schema],
    eval_schema: OutputArtifact[Schema],
    columns: Parameter[str],
):
  """Writes the schema narrowed to `columns`.

  Args:
    schema: the pipeline's schema (curated or inferred).
    eval_schema: where the narrowed schema goes.
    columns: the feature names to keep, comma-separated.
  """
  full = io_utils.SchemaReader().read(io_utils.get_only_uri_in_dir(schema.uri))
  io_utils.write_pbtxt_file(
      os.path.join(eval_schema.uri, 'schema.pbtxt'),
      narrow(full, columns.split(',')))
