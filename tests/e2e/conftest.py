"""The server of `taxi-tips serve`, for the modules that call it.

One server per module, started as a user starts it, on a push destination
of its own holding a copy of the bundled run's pushed version.
"""

import pytest

import serve_client
from local import paths as local_paths
from models import push_destination
from pipeline import configs


@pytest.fixture(scope='module')
def destination(bundled_run, tmp_path_factory):
  """A push destination with the bundled run's version published to it."""
  pushed = local_paths.LocalPaths(bundled_run.output_dir).serving_model_dir
  folder = tmp_path_factory.mktemp('serve') / configs.PIPELINE_NAME
  push_destination.publish(
      str(pushed / sorted(bundled_run.versions)[-1]), str(folder))
  return folder


@pytest.fixture(scope='module')
def port(destination, tmp_path_factory):
  """The port of `taxi-tips serve` on `destination`, once it is ready."""
  with serve_client.running_server(
      destination, tmp_path_factory.mktemp('serve_log') / 'serve.log') as port:
    yield port


@pytest.fixture(scope='module')
def rows(held_out_rows) -> list:
  """Rows as a client sends them: the CSV fields without the label."""
  return [{k: v for k, v in r.items() if k != 'tips'}
          for r in held_out_rows[:50]]
