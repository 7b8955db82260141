"""`taxi-tips serve --workers 2`: two processes on one port, as one server.

Each worker has its own copy of the model; both follow a push, and every
scrape of the metrics counts the requests of both.
"""

from concurrent import futures
from pathlib import Path
import re

import pytest

import serve_client
from models import push_destination

pytestmark = pytest.mark.e2e

MODEL = serve_client.MODEL
_REQUESTS = 40


def _cmdline(pid: str) -> str:
  return Path(f'/proc/{pid}/cmdline').read_bytes().decode(errors='replace')


def _environment(pid: str) -> dict:
  variables = Path(f'/proc/{pid}/environ').read_bytes().split(b'\0')
  return dict(v.decode().split('=', 1) for v in variables if b'=' in v)


def _server(destination: Path) -> str:
  """The pid of the process started as the server on destination."""
  [server] = [p.parent.name for p in Path('/proc').glob('[0-9]*/cmdline')
              if str(destination) in _cmdline(p.parent.name)]
  return server


def _workers(destination: Path) -> list:
  """The pids of the worker processes of the server on destination.

  Its children that multiprocessing started to run a function (not its
  resource tracker).
  """
  server = _server(destination)
  return [p.parent.name for p in Path('/proc').glob('[0-9]*/stat')
          if p.read_text().rsplit(')', 1)[1].split()[1] == server and
          'spawn_main' in _cmdline(p.parent.name)]


def _loads_tensorflow(pid: str) -> bool:
  return 'libtensorflow_framework' in Path(f'/proc/{pid}/maps').read_text()


def _answered_predictions(metrics: str) -> float:
  found = re.search(r'^taxi_tips_requests_total\{code="200",endpoint="predict"'
                    r'\} (\S+)$', metrics, re.MULTILINE)
  return float(found.group(1))


def test_two_workers_answer_alike_count_together_and_follow_a_push(
    destination, rows, tmp_path):
  with serve_client.running_server(destination, tmp_path / 'serve.log',
                                   '--workers', '2') as port:
    assert len(_workers(destination)) == 2
    # Only the workers load TensorFlow and the model; the process that
    # started them watches them.
    assert _loads_tensorflow(_server(destination)) is False
    assert [_loads_tensorflow(w) for w in _workers(destination)] == [True] * 2
    first = serve_client.served_version(port)

    def send(_):  # a new connection each, several at once: both workers
      return serve_client.Client(port).call(
          'POST', f'{MODEL}:predict', {'instances': rows[:2]})

    with futures.ThreadPoolExecutor(4) as clients:
      answers = list(clients.map(send, range(_REQUESTS)))
    assert {status for status, _ in answers} == {200}
    # Alike to the last float32 digit, which the batch a row was answered
    # in may change (TF Serving's batching does the same).
    probabilities = [[p for [p] in answer['predictions']]
                     for _, answer in answers]
    for answered in probabilities:
      assert answered == pytest.approx(probabilities[0], abs=1e-6)
    # Each worker counted some of them (prometheus_client's files, one a
    # process).
    workers = _workers(destination)
    metrics_dir = Path(_environment(workers[0])['PROMETHEUS_MULTIPROC_DIR'])
    assert {f'counter_{pid}.db' for pid in workers} <= {
        f.name for f in metrics_dir.iterdir()}

    for _ in range(10):  # whichever worker is scraped counts both
      metrics = serve_client.Client(port).call('GET', '/metrics')[1]
      assert _answered_predictions(metrics) == _REQUESTS
      assert float(metrics.split('\ntaxi_tips_served_version ')[1].split()[0]
                   ) == first

    pushed = int(Path(push_destination.publish(
        str(destination / str(first)), str(destination))).name)
    serve_client.wait_until_served(port, pushed)
    # Then every worker: 20 new connections in a row find it.
    seen = []
    while seen[-20:] != [pushed] * 20:
      seen.append(serve_client.served_version(port))
      assert len(seen) < 2000, seen[-40:]
