"""A Kubeflow Pipelines task that fingerprints ExampleGen's input data.

The open-source KFP backend caches a task by its parameters, input artifacts
and command, and never runs the preCacheCheck hook in which TFX's ExampleGen
driver fingerprints its input. This task runs uncached before ExampleGen and
hands it the fingerprint as a parameter: with the same data ExampleGen and
everything after it come from the cache; with new or changed data, or a
new span, they run. So a scheduled run with no new span retrains nothing.

One probe per source (PROBES):

    python -m pipeline.components.data_fingerprint EXECUTOR_INPUT files INPUT_BASE PATTERN
    python -m pipeline.components.data_fingerprint EXECUTOR_INPUT bigquery PROBE_QUERY PROJECT

writes the fingerprint as the output parameter `fingerprint` to the executor
output file the KFP launcher names in EXECUTOR_INPUT.
"""

import hashlib
import json
import os
import sys

from tfx.dsl.io import fileio

from pipeline import query_spans
from pipeline import spans

OUTPUT_KEY = 'fingerprint'


def fingerprint(input_base: str, pattern: str) -> str:
  """A hash of each matching file's path, size and modification time.

  It covers every span folder (pipeline/spans.py).

  Args:
    input_base: a local or GCS folder, of files or of span folders.
    pattern: a glob, e.g. `*.csv`: under it, or under each span folder.

  Returns:
    Hex digits; the same for the same files, different when one is added,
    removed, or rewritten, or a span arrives.

  Raises:
    ValueError: no file matches.
  """
  files = sorted(
      path for span in spans.find(input_base) for path in fileio.glob(
          os.path.join(spans.folder(input_base, span), pattern)))
  if not files:
    raise ValueError(f'no file matches {pattern} under {input_base}')
  digest = hashlib.sha256()
  for path in files:
    stat = fileio.stat(path)
    digest.update(f'{path}\0{stat.length}\0{stat.mtime_nsec}\n'.encode())
  return digest.hexdigest()


def table_fingerprint(probe_query: str, project: str) -> str:
  """A hash of a BigQuery table's complete spans and their rows.

  Args:
    probe_query: query_spans.probe_query's query; it reads the timestamp
      column alone.
    project: the project the query job runs in.

  Returns:
    Hex digits; different when a period ends or rows arrive in one.
  """
  return query_spans.fingerprint(query_spans.probe(probe_query, project))


# Source kind -> its probe, taking the task's remaining arguments.
PROBES = {'files': fingerprint, 'bigquery': table_fingerprint}


def main(argv) -> int:
  """Fingerprints the data and writes the executor output.

  Args:
    argv: EXECUTOR_INPUT (JSON), a key of PROBES, the probe's arguments.

  Returns:
    The exit status.
  """
  executor_input, source, *args = argv
  if source not in PROBES:
    print(f'no probe for {source!r}: expected one of {", ".join(PROBES)}',
          file=sys.stderr)
    return 2
  output_file = json.loads(executor_input)['outputs']['outputFile']
  value = PROBES[source](*args)
  fileio.makedirs(os.path.dirname(output_file))
  with fileio.open(output_file, 'w') as f:
    f.write(json.dumps({'parameterValues': {OUTPUT_KEY: value}}))
  print(f'{OUTPUT_KEY} of {source} {args[0]}: {value}')
  return 0


if __name__ == '__main__':
  sys.exit(main(sys.argv[1:]))
