"""The TFX taxi template, the reference this project is measured against.

It is copied from the installed tfx with every step enabled.
"""

from pathlib import Path
import re
import shutil
import subprocess

_PIPELINE = Path('pipeline') / 'pipeline.py'


def enable_every_step(pipeline_py: str) -> str:
  """The template's pipeline source with every step enabled.

  Uncomments each `components.append(...)` and moves ExampleValidator out
  of the `else:` branch it is nested in (it only ran with a schema file).
  """
  source = re.sub(r'^(\s*)# (components\.append\(\w+\))', r'\1\2',
                  pipeline_py, flags=re.M)
  start = source.index('    # Performs anomaly detection')
  end = source.index('  # Performs transformations')
  validator = '\n'.join(line[2:] if line.startswith('    ') else line
                        for line in source[start:end].split('\n'))
  source = source[:start] + validator + source[end:]
  if source.count('components.append(') - source.count('# components') < 9:
    raise RuntimeError('the template changed: not every step was enabled')
  return source


def copy_template(tfx_cli: Path, destination: Path, data_csv: Path) -> Path:
  """A fresh template project at destination, reading data_csv."""
  if destination.exists():
    shutil.rmtree(destination)
  subprocess.run([str(tfx_cli), 'template', 'copy', '--model=taxi',
                  '--pipeline_name=template', f'--destination_path={destination}'],
                 check=True, capture_output=True)
  pipeline_py = destination / _PIPELINE
  pipeline_py.write_text(enable_every_step(pipeline_py.read_text()))
  shutil.copy(data_csv, destination / 'data' / 'data.csv')
  return destination
