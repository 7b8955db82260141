"""`taxi-tips serve` for the tests, started as a user starts it.

Called over HTTP on 127.0.0.1, and loaded by clients in threads.
"""

import contextlib
import http.client
import json
from pathlib import Path
import socket
import subprocess
import sys
import threading
import time
from typing import Iterator

import helpers
from pipeline import configs

MODEL = f'/v1/models/{configs.PIPELINE_NAME}'


class Client:
  """One keep-alive HTTP connection to the server."""

  def __init__(self, port: int):
    self._connection = http.client.HTTPConnection('127.0.0.1', port,
                                                  timeout=60)

  def call(self, method: str, path: str, body=None):
    """(HTTP status, JSON answer); a dict or list body is sent as JSON."""
    if isinstance(body, (dict, list)):
      body = json.dumps(body)
    self._connection.request(method, path, body=body)
    response = self._connection.getresponse()
    text = response.read()
    return response.status, (json.loads(text) if text.startswith(b'{')
                             else text.decode())


def served_version(port: int) -> int:
  """The version the server's status says is AVAILABLE."""
  status, answer = Client(port).call('GET', MODEL)
  assert status == 200, answer
  return int(next(v['version'] for v in answer['model_version_status']
                  if v['state'] == 'AVAILABLE'))


def wait_until_served(port: int, version: int, seconds: float = 60) -> None:
  deadline = time.time() + seconds
  while served_version(port) != version:
    assert time.time() < deadline, f'version {version} not served'
    time.sleep(.2)


def _free_port() -> int:
  with socket.socket() as s:
    s.bind(('127.0.0.1', 0))
    return s.getsockname()[1]


@contextlib.contextmanager
def running_server(destination: Path, log: Path,
                   *options: str) -> Iterator[int]:
  """`taxi-tips serve [options]` on `destination`; yields its port once ready."""
  port = _free_port()
  with open(log, 'w') as out:
    process = subprocess.Popen(
        [sys.executable, '-m', 'serving.cli', 'serve', '--port', str(port),
         '--push-destination', str(destination), *options],
        cwd=configs.PROJECT_ROOT, env=helpers.venv_env(), stdout=out,
        stderr=subprocess.STDOUT)
  try:
    deadline = time.time() + 120
    while True:
      assert process.poll() is None, log.read_text()[-3000:]
      assert time.time() < deadline, log.read_text()[-3000:]
      try:
        if Client(port).call('GET', '/readyz')[0] == 200:
          break
      except OSError:
        pass  # not listening yet
      time.sleep(.2)
    yield port
  finally:
    process.terminate()
    process.wait(timeout=30)


class Load:
  """Clients sending one-row requests until stopped; answers by status."""

  def __init__(self, port: int, row: dict, clients: int = 2):
    self.statuses = []
    self._stop = threading.Event()
    self._threads = [threading.Thread(target=self._send, args=(port, row))
                     for _ in range(clients)]
    for thread in self._threads:
      thread.start()

  def _send(self, port, row):
    client = Client(port)
    while not self._stop.is_set():
      try:
        self.statuses.append(client.call('POST', f'{MODEL}:predict',
                                         {'instances': [row]})[0])
      except (OSError, http.client.HTTPException) as e:
        self.statuses.append(type(e).__name__)  # a failed request
        client = Client(port)

  def stop(self) -> list:
    """Stops the clients; returns every answer's status, or its error."""
    self._stop.set()
    for thread in self._threads:
      thread.join()
    return self.statuses
