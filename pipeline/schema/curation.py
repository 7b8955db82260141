"""Turns SchemaGen's inferred schema into the curated one the pipeline uses.

Regenerate after the data changes shape:
    python local_runner.py --infer-schema
    python -m pipeline.schema.curation   # newest inferred schema -> pipeline/schema/
then review the diff. Curation encodes what one sample cannot tell:
  * any column may be empty in a row, and every column holds at most one value;
  * ids with a known range get integer domains, coordinates Chicago's box;
  * `company` is open-ended (new companies appear), so it has no fixed domain;
  * the label column is absent at serving time (SERVING environment).
"""

import argparse
from pathlib import Path
import sys

from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import schema_pb2

from models import features
from pipeline import configs

TRAINING, SERVING = 'TRAINING', 'SERVING'


def curate(schema: schema_pb2.Schema) -> schema_pb2.Schema:
  """The curated copy of an inferred schema (see the module docstring).

  Args:
    schema: SchemaGen's inferred schema.

  Returns:
    A new schema; `schema` is left unchanged.

  Raises:
    ValueError: the inferred schema lacks a required column.
  """
  curated = schema_pb2.Schema()
  curated.CopyFrom(schema)
  names = {f.name for f in curated.feature}
  missing = sorted(set(features.REQUIRED_COLUMNS) - names)
  if missing:
    raise ValueError(f'inferred schema lacks columns: {", ".join(missing)}')

  for feature in curated.feature:
    feature.ClearField('presence')
    feature.value_count.min = 0
    feature.value_count.max = 1
    if feature.name in features.OPEN_ENDED_FEATURE_KEYS:
      feature.ClearField('domain')
    if feature.name in features.CATEGORICAL_FEATURE_RANGES:
      values = features.CATEGORICAL_FEATURE_RANGES[feature.name]
      feature.int_domain.min, feature.int_domain.max = values[0], values[-1]
      feature.int_domain.is_categorical = True
    if feature.name in features.COORDINATE_FEATURE_KEYS:
      feature.float_domain.min, feature.float_domain.max = (
          features.coordinate_range(feature.name))
    if feature.name in features.LOG_NUMERIC_FEATURE_KEYS:
      domain = (feature.int_domain if feature.type == schema_pb2.INT else
                feature.float_domain)
      domain.min = 0
    if (feature.name == features.TIPS_KEY and
        SERVING not in feature.not_in_environment):
      feature.not_in_environment.append(SERVING)
  # Drop string domains no feature refers to any more.
  used = {f.domain for f in curated.feature if f.HasField('domain')}
  kept = [d for d in curated.string_domain if d.name in used]
  del curated.string_domain[:]
  curated.string_domain.extend(kept)
  curated.ClearField('default_environment')
  curated.default_environment.extend([TRAINING, SERVING])
  return curated


def _newest_inferred_schema() -> Path:
  found = sorted(
      Path(configs.output_dirs(str(configs.output_dir_from_env()))
           .pipeline_root).glob('SchemaGen/schema/*/schema.pbtxt'),
      key=lambda p: p.stat().st_mtime)
  if not found:
    sys.exit('error: no inferred schema yet; run '
             '`python local_runner.py --infer-schema` first')
  return found[-1]


def main(argv=None):
  """Curates an inferred schema into pipeline/schema/ (or --out).

  Args:
    argv: the command line without the program name; None reads sys.argv.
  """
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('inferred', nargs='?', type=Path,
                      help='SchemaGen output (default: the newest local one)')
  parser.add_argument('--out', type=Path, default=configs.SCHEMA_PATH)
  args = parser.parse_args(argv)
  source = args.inferred or _newest_inferred_schema()
  schema = text_format.Parse(source.read_text(), schema_pb2.Schema())
  args.out.parent.mkdir(parents=True, exist_ok=True)
  args.out.write_text(text_format.MessageToString(curate(schema)))
  print(f'{source} -> {args.out}')


if __name__ == '__main__':
  main()
