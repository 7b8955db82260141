"""A Kubeflow Pipelines task that fingerprints ExampleGen's input files.

The open-source KFP backend caches a task by its parameters, input artifacts
and command, and never runs the preCacheCheck hook in which TFX's ExampleGen
driver fingerprints its input. This task runs uncached before ExampleGen and
hands it the fingerprint as a parameter: with the same files ExampleGen and
everything after it come from the cache; with new or changed files, or a
new span, they run. So a scheduled run with no new span retrains nothing.

    python -m pipeline.components.data_fingerprint EXECUTOR_INPUT INPUT_BASE PATTERN

writes the fingerprint as the output parameter `fingerprint` to the executor
output file the KFP launcher names in EXECUTOR_INPUT.
"""

import hashlib
import json
import os
import sys

from tfx.dsl.io import fileio

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


def main(argv) -> int:
  """Fingerprints the files and writes the executor output.

  Args:
    argv: EXECUTOR_INPUT (JSON), INPUT_BASE, PATTERN.

  Returns:
    The exit status.
  """
  executor_input, input_base, pattern = argv
  output_file = json.loads(executor_input)['outputs']['outputFile']
  value = fingerprint(input_base, pattern)
  fileio.makedirs(os.path.dirname(output_file))
  with fileio.open(output_file, 'w') as f:
    f.write(json.dumps({'parameterValues': {OUTPUT_KEY: value}}))
  print(f'{OUTPUT_KEY} of {input_base}/{pattern}: {value}')
  return 0


if __name__ == '__main__':
  sys.exit(main(sys.argv[1:]))
