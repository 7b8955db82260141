"""Where a local run reads its data and writes its outputs."""

import dataclasses
import os
from pathlib import Path

from pipeline import configs

DEFAULT_DATA_PATH = configs.PROJECT_ROOT / 'data'
# Moves the data source (configs.OUTPUT_DIR_ENV moves every output).
DATA_PATH_ENV = 'DATA_PATH'


@dataclasses.dataclass(frozen=True)
class LocalPaths:
  """Where a local run keeps its outputs; all of them live under `root`."""
  root: Path

  @property
  def pipeline_root(self) -> Path:
    return Path(configs.output_dirs(str(self.root)).pipeline_root)

  @property
  def metadata_path(self) -> Path:
    return self.root / 'metadata' / configs.PIPELINE_NAME / 'metadata.db'

  @property
  def serving_model_dir(self) -> Path:
    return Path(configs.output_dirs(str(self.root)).serving_model_dir)

  @property
  def log_dir(self) -> Path:
    return self.root / 'logs'

  @property
  def report_dir(self) -> Path:
    return self.root / 'reports'

  @property
  def lock_file(self) -> Path:
    return self.root / '.run.lock'


def data_path_from_env() -> Path:
  """The data to read: $DATA_PATH, or the bundled data/."""
  return Path(os.environ.get(DATA_PATH_ENV) or DEFAULT_DATA_PATH)
