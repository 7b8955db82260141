"""Test helpers: CSV slices and raw tf.Examples built the way a client would."""

import csv
import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import tensorflow as tf
from tensorflow_transform.tf_metadata import schema_utils
from tfx.utils import io_utils
from tensorflow_metadata.proto.v0 import schema_pb2

from models import features
from cluster import compiler
from cluster import settings as cluster_settings
from local import paths
from pipeline import configs
from pipeline.pipeline import LATEST_PUSHED_ID
from pipeline.pipeline import RESOLVER_ID

BUNDLED_CSV = paths.DEFAULT_DATA_PATH / 'data.csv'
# The node ids ML Metadata records for the default pipeline.
ALL_NODES = {
    'CsvExampleGen', 'ImportSchemaGen', 'StatisticsGen', 'ExampleValidator',
    'DataGate', 'Transform', 'Trainer', RESOLVER_ID, 'EvalSchema',
    'Evaluator', 'ServingCheck', 'Pusher'
}
# The tasks of both cluster packages: a container step replaces the
# resolver, and a cluster run ends with the RunReport step (the local runner
# writes its report itself). The KFP package adds the step that fingerprints
# the input; the Vertex AI package, the step that deploys each push.
CLUSTER_TASKS = ALL_NODES - {RESOLVER_ID} | {LATEST_PUSHED_ID, 'RunReport'}
KFP_TASKS = CLUSTER_TASKS | {compiler.FINGERPRINT_TASK}
VERTEX_TASKS = CLUSTER_TASKS | {'VertexDeploy'}


def read_rows(path: Path = BUNDLED_CSV) -> list:
  with open(path, newline='') as f:
    return list(csv.DictReader(f))


def write_csv(path: Path, rows: list, fieldnames=None) -> Path:
  path.parent.mkdir(parents=True, exist_ok=True)
  with open(path, 'w', newline='') as f:
    writer = csv.DictWriter(f, fieldnames=fieldnames or list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
  return path


# The virtual environment's executables (python, pip, tfx).
VENV_BIN = Path(sys.executable).parent


def run_local_runner(data: Path, output_dir: Path, *args: str,
                     timeout: int = 120) -> subprocess.CompletedProcess:
  """local_runner.py [args] as a user runs it.

  Data and outputs are passed in the environment.
  """
  env = dict(os.environ, DATA_PATH=str(data), OUTPUT_DIR=str(output_dir))
  return subprocess.run(
      [sys.executable, str(configs.PROJECT_ROOT / 'local_runner.py'), *args],
      env=env, capture_output=True, text=True, timeout=timeout)


# 4,000 rows cannot reach the full data's floor; the mechanics are the point.
SMALL_DATA_THRESHOLDS = dataclasses.replace(
    configs.EVAL_THRESHOLDS, min_auc=0.85, min_accuracy=0.85)


def run_pipeline(data_dir: Path, output_dir: Path, train_steps: int,
                 eval_thresholds=SMALL_DATA_THRESHOLDS, **options):
  """create_pipeline(...) through the local runner's DAG runner.

  As local_runner.py wires it (the in-process steps unless options say
  without_beam=False), in this process, with more of its options if given;
  returns the run's RunSummary.
  """
  options.setdefault('without_beam', True)
  from tfx.orchestration import metadata  # pylint: disable=g-import-not-at-top
  from local import dag_runner  # pylint: disable=g-import-not-at-top
  from local import run_summary  # pylint: disable=g-import-not-at-top
  from pipeline import pipeline as pipeline_lib  # pylint: disable=g-import-not-at-top
  local = paths.LocalPaths(output_dir)
  started = time.time()
  dag_runner.ConcurrentDagRunner().run(
      pipeline_lib.create_pipeline(
          pipeline_name=configs.PIPELINE_NAME,
          pipeline_root=str(local.pipeline_root),
          data_root=str(data_dir),
          serving_model_dir=str(local.serving_model_dir),
          train_steps=train_steps,
          eval_steps=5,
          eval_thresholds=eval_thresholds,
          metadata_connection_config=metadata.sqlite_metadata_connection_config(
              str(local.metadata_path)),
          **options))
  return run_summary.latest_run(str(local.metadata_path), since=started)


def pushed_versions(output_dir: Path) -> dict:
  """Version directory name -> its files' bytes, of a local run's outputs."""
  serving = paths.LocalPaths(output_dir).serving_model_dir
  return {
      version.name: {
          str(p.relative_to(version)): p.read_bytes()
          for p in sorted(version.rglob('*')) if p.is_file()
      } for version in sorted(serving.iterdir())
  }


def venv_env(**overrides) -> dict:
  """This process's environment with the venv first on PATH, plus overrides.

  As a user who activated the venv has it.
  """
  return dict(os.environ, PATH=f'{VENV_BIN}:{os.environ["PATH"]}',
              **overrides)


def curated_schema() -> schema_pb2.Schema:
  return io_utils.parse_pbtxt_file(
      str(configs.SCHEMA_PATH), schema_pb2.Schema())


def raw_feature_spec() -> dict:
  """Feature name -> parsing spec, from the curated schema."""
  return schema_utils.schema_as_feature_spec(
      curated_schema()).feature_spec


def to_example(row: dict, spec: dict, with_label: bool = False) -> bytes:
  """A CSV row as a serialized tf.Example (its label only if with_label)."""
  feature = {}
  for name, value in row.items():
    if (name == features.TIPS_KEY and not with_label) or value == '':
      continue
    dtype = spec[name].dtype
    if dtype == tf.string:
      feature[name] = tf.train.Feature(
          bytes_list=tf.train.BytesList(value=[value.encode()]))
    elif dtype == tf.int64:
      feature[name] = tf.train.Feature(
          int64_list=tf.train.Int64List(value=[int(float(value))]))
    else:
      feature[name] = tf.train.Feature(
          float_list=tf.train.FloatList(value=[float(value)]))
  return tf.train.Example(features=tf.train.Features(
      feature=feature)).SerializeToString()


def write_split(folder: Path, rows: list) -> None:
  """Writes an Examples artifact's split folder, as ExampleGen writes it.

  The rows' tf.Examples go in one gzipped TFRecord file.
  """
  os.makedirs(folder)
  spec = raw_feature_spec()
  with tf.io.TFRecordWriter(str(folder / 'data.gz'), 'GZIP') as writer:
    for row in rows:
      writer.write(to_example(row, spec))


def artifact(kind, uri, artifact_id: int = 1):
  """An artifact of the kind at uri, as an executor receives it."""
  result = kind()
  result.uri, result.id = str(uri), artifact_id
  return result


def big_tip(row: dict) -> int:
  """The label, computed independently of preprocessing.py."""
  if not row['tips'] or not row['fare']:
    return 0
  return int(Decimal(row['tips']) > Decimal(row['fare']) / 5)


KUBEFLOW_RUNNER = configs.PROJECT_ROOT / 'kubeflow_runner.py'
TEST_IMAGE = 'registry.example/taxi-tips:test'
DOCKERFILE = configs.PROJECT_ROOT / 'Dockerfile'
# The Dataflow workers' image.
DATAFLOW_DOCKERFILE = configs.PROJECT_ROOT / 'Dockerfile.dataflow'


def dockerfile_instructions(dockerfile: Path = DOCKERFILE) -> list:
  """A Dockerfile's (INSTRUCTION, arguments) pairs.

  Continuation lines are joined.
  """
  text = re.sub(r'\\\n', ' ', dockerfile.read_text())
  pairs = []
  for line in text.splitlines():
    line = line.strip()
    if line and not line.startswith('#'):
      keyword, _, rest = line.partition(' ')
      pairs.append((keyword.upper(), rest.strip()))
  return pairs


def build_image_tree(dest: Path, dockerfile: Path = DOCKERFILE) -> Path:
  """A stand-in for an image without Docker: its project folder, at dest.

  What the Dockerfile copies from the checkout into the image's project
  folder (its WORKDIR), copied to dest.
  """
  for keyword, args in dockerfile_instructions(dockerfile):
    if keyword == 'COPY' and not args.startswith('--from='):
      *sources, target = args.split()
      if target.startswith('/'):
        continue  # outside the project folder (the lock file)
      for source in sources:
        if (configs.PROJECT_ROOT / source).is_file():
          shutil.copyfile(configs.PROJECT_ROOT / source, dest / target)
          continue
        shutil.copytree(configs.PROJECT_ROOT / source, dest / target,
                        ignore=shutil.ignore_patterns('__pycache__'))
  return dest


def packages_imported_from(image_tree: Path, modules) -> set:
  """The image's top-level packages that importing `modules` loads.

  Imported as a task imports them: in a fresh process, from the image's
  folder only (the venv plays the image's Python).
  """
  script = (f'import json, sys\nfor m in {sorted(modules)!r}: __import__(m)\n'
            'print(json.dumps(sorted({n.split(".")[0] for n, m in '
            'sys.modules.items()\n  if (getattr(m, "__file__", None) or "")'
            f'.startswith({str(image_tree)!r})}})))')
  result = subprocess.run([sys.executable, '-c', script], cwd=image_tree,
                          env=venv_env(PYTHONPATH=str(image_tree)),
                          capture_output=True, text=True, timeout=300)
  assert result.returncode == 0, result.stderr[-3000:]
  return set(json.loads(result.stdout.splitlines()[-1]))


def container_env(image_tree: Path) -> dict:
  """A task container's whole environment.

  The Dockerfile's ENV, its project folder at image_tree, and `python` on
  PATH (this venv plays the image's).
  """
  env = {'PATH': f'{VENV_BIN}:/usr/bin:/bin'}
  for keyword, args in dockerfile_instructions():
    if keyword == 'ENV':
      for pair in args.split():
        name, _, value = pair.partition('=')
        env[name] = value.replace(
            cluster_settings.DEFAULT_CONTAINER_PROJECT_DIR, str(image_tree))
  return env


def compile_kubeflow(target: str, storage: Path, data: Path, out: Path,
                     image_tree: Path = configs.PROJECT_ROOT, args=(),
                     **extra) -> subprocess.CompletedProcess:
  """`kubeflow_runner.py compile [args]` for `target`, everything local.

  Everything is under local paths; the package names the schema where
  image_tree has it.
  """
  env = dict(
      os.environ,
      KUBEFLOW_TARGET=target,
      STORAGE_ROOT=str(storage),
      KUBEFLOW_DATA_ROOT=str(data),
      PIPELINE_IMAGE=TEST_IMAGE,
      CONTAINER_PROJECT_DIR=str(image_tree),
      **extra)
  return subprocess.run(
      [sys.executable, str(KUBEFLOW_RUNNER), 'compile', '--output-dir',
       str(out), *args],
      env=env, capture_output=True, text=True, timeout=300)
