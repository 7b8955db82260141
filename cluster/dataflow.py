"""Dataflow, per Beam component: the workers each one's job runs on.

With `BEAM_ON_DATAFLOW`, each Beam component of the package starts its own
Dataflow job with the flags of its entry here (cluster/compiler.py adds
them to the component's Beam options, in both packages). The figures behind
the sizes, and what a monthly window costs, are in docs/scale.md.
"""

import dataclasses
from typing import Iterable, List

# Runner v2 is what runs a custom SDK container (the worker image,
# Dockerfile.dataflow).
RUNNER_V2 = 'use_runner_v2'
# ExampleGen's entry serves each ExampleGen id (CsvExampleGen,
# BigQueryExampleGen).
EXAMPLE_GEN = 'ExampleGen'


@dataclasses.dataclass(frozen=True)
class Workers:
  """One component's Dataflow workers: machine type, how many, disk."""
  machine_type: str
  max_workers: int
  disk_gb: int


# ExampleGen converts rows one at a time in Python: the most CPU per row.
# Transform's vocabularies and the Evaluator's two models per SDK process
# want more memory per vCPU. The Evaluator reads its examples a file per
# worker at a time (tensorflow/tfx#5160), so more workers than files idle.
COMPONENT_WORKERS = {
    EXAMPLE_GEN: Workers('n2-standard-4', max_workers=16, disk_gb=50),
    'StatisticsGen': Workers('n2-standard-4', max_workers=8, disk_gb=50),
    'Transform': Workers('n2-highmem-4', max_workers=8, disk_gb=50),
    'Evaluator': Workers('n2-highmem-4', max_workers=16, disk_gb=50),
}


def _entry(component_id: str) -> str:
  return EXAMPLE_GEN if component_id.endswith(EXAMPLE_GEN) else component_id


def check_components(beam_component_ids: Iterable[str]) -> None:
  """Checks that COMPONENT_WORKERS has an entry for each Beam component.

  Raises:
    ValueError: naming the Beam components without one, or the entries
      for no Beam component (a misspelt id would silently go unused).
  """
  entries = {_entry(id_) for id_ in beam_component_ids}
  missing = sorted(entries - set(COMPONENT_WORKERS))
  unused = sorted(set(COMPONENT_WORKERS) - entries)
  if missing or unused:
    raise ValueError(
        'cluster/dataflow.py COMPONENT_WORKERS: '
        f'no entry for {", ".join(missing) or "-"}; '
        f'no Beam component for {", ".join(unused) or "-"} '
        f'(Beam components: {", ".join(sorted(entries))})')


def beam_args(component_id: str, region: str, image: str) -> List[str]:
  """The Dataflow flags of one Beam component's job.

  Args:
    component_id: the component's id.
    region: where the job and its workers run.
    image: the workers' SDK container image (Dockerfile.dataflow).

  Returns:
    Flags added to the component's Beam options.
  """
  workers = COMPONENT_WORKERS[_entry(component_id)]
  return [
      '--runner=DataflowRunner',
      f'--region={region}',
      f'--machine_type={workers.machine_type}',
      f'--max_num_workers={workers.max_workers}',
      f'--disk_size_gb={workers.disk_gb}',
      f'--experiments={RUNNER_V2}',
      f'--sdk_container_image={image}',
  ]
