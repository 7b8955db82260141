"""What a cluster with KServe accepts as an InferenceService.

kserve_inferenceservice_schema.json is KServe's published schema: the
v1beta1 `openAPIV3Schema` of kserve/kserve's
config/crd/full/serving.kserve.io_inferenceservices.yaml (commit
aaac4e294dae2c7b1aa1886447793f3aa1c30912), as JSON. A manifest is checked
as the Kubernetes API server checks it under `kubectl apply`'s strict
field validation: types, required fields, enums, and no field the schema
does not declare. Not covered: KServe's admission
webhooks (the runtime exists and supports the model format, GPU tags) and
the storage initializer reading `storageUri`.
"""

import json
from pathlib import Path
from typing import Iterator, List

import jsonschema

SCHEMA = json.loads(
    Path(__file__).with_name('kserve_inferenceservice_schema.json').read_text())


def _undeclared(value, schema: dict, where: str) -> Iterator[str]:
  """The fields the schema does not declare (the API server's strict check)."""
  if isinstance(value, dict) and 'properties' in schema and not schema.get(
      'x-kubernetes-preserve-unknown-fields'):
    for key, item in value.items():
      if key not in schema['properties']:
        yield f'{where}.{key}'
      else:
        yield from _undeclared(item, schema['properties'][key],
                               f'{where}.{key}')
  elif isinstance(value, list) and 'items' in schema:
    for index, item in enumerate(value):
      yield from _undeclared(item, schema['items'], f'{where}[{index}]')


def errors(manifest: dict) -> List[str]:
  """Why the API server would refuse the manifest; [] if it would not."""
  found = [f'{"/".join(map(str, e.path))}: {e.message}'
           for e in jsonschema.Draft7Validator(SCHEMA).iter_errors(manifest)]
  return found + [f'{field}: unknown field'
                  for field in _undeclared(manifest, SCHEMA, '')]
