"""Shared fixtures. Keras 2 must be chosen before TensorFlow first loads."""

import os

os.environ.setdefault('TF_USE_LEGACY_KERAS', '1')
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
# Two pytest-xdist workers share two cores: TensorFlow in each of them and
# in the runs they start gets one thread a pool, as a pod of one CPU does
# (cluster/settings.tensorflow_thread_env), not one per core spinning
# against the other worker's.
for _pool in ('TF_NUM_INTRAOP_THREADS', 'TF_NUM_INTEROP_THREADS'):
  os.environ.setdefault(_pool, '1')

import dataclasses
import json
from pathlib import Path
import subprocess

import pytest
import yaml

import helpers


# Session fixtures whose tests run in one pytest-xdist worker, so each is
# built once; every other module's tests run in one worker too, for its
# module fixtures (`make test` runs the suite on two workers).
_SHARED_ONCE = ('bundled_run',)


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(items):
  group = {}  # module -> its worker's group
  for item in items:
    module = item.nodeid.split('::')[0]
    shared = [f for f in _SHARED_ONCE if f in item.fixturenames]
    group[module] = shared[0] if shared else group.get(module, module)
  for item in items:
    item.add_marker(pytest.mark.xdist_group(group[item.nodeid.split('::')[0]]))
  # The end-to-end modules first, so the longest start at once instead of
  # ending the suite alone (the scheduler below keeps this order).
  items.sort(key=lambda item: item.get_closest_marker('e2e') is None)


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist's
def pytest_xdist_make_scheduler(config, log):
  """xdist's group scheduling, handing out groups in collection order.

  xdist's own hands out the groups with the most tests first, which puts
  the retraining test (one test, the longest) last, alone.
  """
  if config.getoption('dist') != 'loadgroup':
    return None
  from xdist.scheduler import loadgroup  # pylint: disable=g-import-not-at-top

  class InCollectionOrder(loadgroup.LoadGroupScheduling):
    _reordered = False

    def _assign_work_unit(self, node):
      if not self._reordered:  # xdist has just queued the groups by size
        rank = {}
        for nodeid in self.collection:
          rank.setdefault(self._split_scope(nodeid), len(rank))
        for scope in sorted(self.workqueue, key=rank.__getitem__):
          self.workqueue.move_to_end(scope)
        self._reordered = True
      super()._assign_work_unit(node)

  return InCollectionOrder(config, log)


@pytest.fixture(scope='session')
def bundled_rows() -> list:
  return helpers.read_rows()


@pytest.fixture(scope='session')
def small_data_dir(tmp_path_factory, bundled_rows) -> Path:
  """The first 4,000 bundled rows.

  Enough to train a useful model in the end-to-end tests, few enough to keep
  them quick.
  """
  folder = tmp_path_factory.mktemp('small_data')
  helpers.write_csv(folder / 'data.csv', bundled_rows[:4000])
  return folder


@dataclasses.dataclass(frozen=True)
class BundledRun:
  """local_runner.py's first run on the bundled data, as a user runs it."""
  data: Path  # the data folder
  output_dir: Path  # later tests may add runs here
  result: subprocess.CompletedProcess  # the run's exit status and output
  summary: object  # its local.run_summary.RunSummary
  versions: dict  # what it pushed: helpers.pushed_versions


@pytest.fixture(scope='session')
def bundled_run(tmp_path_factory, bundled_rows) -> BundledRun:
  """One run of local_runner.py on every bundled row.

  Shared by the tests that need a good model serving or a user's run to
  look at.
  """
  from local import paths as local_paths  # pylint: disable=g-import-not-at-top
  from local import run_summary  # pylint: disable=g-import-not-at-top
  output_dir = tmp_path_factory.mktemp('bundled_run')
  data = helpers.write_csv(
      tmp_path_factory.mktemp('bundled') / 'data.csv', bundled_rows).parent
  result = helpers.run_local_runner(data, output_dir, timeout=900)
  assert result.returncode == 0, result.stderr[-3000:]
  summary = run_summary.latest_run(
      str(local_paths.LocalPaths(output_dir).metadata_path))
  return BundledRun(data, output_dir, result, summary,
                    helpers.pushed_versions(output_dir))


@pytest.fixture(scope='session')
def held_out_rows(bundled_rows) -> list:
  """Bundled rows the small-data runs never see."""
  return bundled_rows[-3000:]


@pytest.fixture(scope='session')
def kfp_env(tmp_path_factory, bundled_rows):
  """(root, package): the KFP package compiled under root.

  The package is compiled with its storage root and data folder under root;
  the bundled rows are in the data folder, and what the image holds in
  root / 'image'.
  """
  root = tmp_path_factory.mktemp('kfp')
  data = root / 'data'
  helpers.write_csv(data / 'data.csv', bundled_rows)
  image = helpers.build_image_tree(root / 'image')
  result = helpers.compile_kubeflow('kfp', root / 'storage', data,
                                    root / 'package', image_tree=image)
  assert result.returncode == 0, result.stderr[-3000:]
  return root, Path(result.stdout.splitlines()[-1])


@pytest.fixture(scope='session')
def kfp_spec(kfp_env) -> dict:
  """The compiled KFP package's PipelineSpec."""
  with open(kfp_env[1]) as f:
    return yaml.safe_load(f)


@pytest.fixture(scope='session')
def vertex_env(tmp_path_factory) -> tuple:
  """(root, job): the Vertex AI package compiled under root, and its JSON."""
  root = tmp_path_factory.mktemp('vertex')
  result = helpers.compile_kubeflow('vertex', root / 'storage', root / 'data',
                                    root / 'package')
  assert result.returncode == 0, result.stderr[-3000:]
  with open(result.stdout.splitlines()[-1]) as f:
    return root, json.load(f)
