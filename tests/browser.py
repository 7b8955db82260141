"""Headless Chromium over the DevTools protocol, for the report's browser test.

The browser is Debian's package; the set-up installs it (Makefile).
websocket-client is already in the lock (through kubernetes).
"""

import base64
import contextlib
import itertools
import json
from pathlib import Path
import subprocess
import time
from typing import Iterator, List

import websocket

CHROMIUM = Path('/usr/bin/chromium')
# As the machine's probe starts it: no sandbox (root), no GPU, none of the
# background connections; and no network at all: every host name fails to
# resolve and anything else goes to a proxy nobody listens on.
FLAGS = [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
    '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync',
    '--host-resolver-rules=MAP * ~NOTFOUND',
    '--proxy-server=http://127.0.0.1:9', '--remote-debugging-port=0',
]


class Page:
  """One tab: commands, and the events seen so far."""

  def __init__(self, socket: websocket.WebSocket, session: str):
    self._socket = socket
    self._session = session
    self._ids = itertools.count(1000)
    self.events: List[dict] = []

  def send(self, method: str, **params) -> dict:
    """Sends a command and returns its result.

    Events arriving meanwhile are kept in `events`.
    """
    message_id = next(self._ids)
    message = {'id': message_id, 'method': method, 'params': params}
    if self._session:
      message['sessionId'] = self._session
    self._socket.send(json.dumps(message))
    while True:
      message = json.loads(self._socket.recv())
      if message.get('id') == message_id:
        if 'error' in message:
          raise RuntimeError(f'{method}: {message["error"]}')
        return message['result']
      if 'method' in message:
        self.events.append(message)

  def wait_for(self, event: str, timeout: float = 60.) -> dict:
    """The first event of that name, waiting for it if needed."""
    deadline = time.time() + timeout
    while True:
      for seen in self.events:
        if seen['method'] == event:
          return seen
      if time.time() > deadline:
        raise TimeoutError(event)
      self._socket.settimeout(max(0.1, deadline - time.time()))
      message = json.loads(self._socket.recv())
      if 'method' in message:
        self.events.append(message)

  def evaluate(self, expression: str):
    """The JSON value of a JavaScript expression in the page."""
    result = self.send('Runtime.evaluate', expression=expression,
                       returnByValue=True)
    if 'exceptionDetails' in result:
      raise RuntimeError(result['exceptionDetails'])
    return result['result']['value']

  def screenshot(self, path: Path) -> Path:
    data = self.send('Page.captureScreenshot', format='png',
                     captureBeyondViewport=True)['data']
    path.write_bytes(base64.b64decode(data))
    return path


@contextlib.contextmanager
def open_page(profile: Path, width: int = 1280,
              height: int = 900) -> Iterator[Page]:
  """A blank tab in a fresh headless Chromium with no network.

  Console, log and network events are recorded from the start.

  Args:
    profile: an empty folder for the browser's profile.
    width: the window's width, CSS pixels.
    height: its height.

  Yields:
    The tab.
  """
  process = subprocess.Popen(
      [str(CHROMIUM), *FLAGS, f'--user-data-dir={profile}',
       f'--window-size={width},{height}', 'about:blank'],
      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
  try:
    port_file = profile / 'DevToolsActivePort'
    deadline = time.time() + 60
    while not (port_file.exists() and len(port_file.read_text().split()) == 2):
      if process.poll() is not None or time.time() > deadline:
        raise RuntimeError(f'{CHROMIUM} did not start (exit {process.poll()})')
      time.sleep(0.1)
    port, path = port_file.read_text().split()
    # Without an Origin header: Chromium refuses page origins by default.
    socket = websocket.create_connection(f'ws://127.0.0.1:{port}{path}',
                                         timeout=60, suppress_origin=True)
    try:
      browser = Page(socket, None)
      target = browser.send('Target.createTarget', url='about:blank')
      session = browser.send('Target.attachToTarget',
                             targetId=target['targetId'],
                             flatten=True)['sessionId']
      page = Page(socket, session)
      for domain in ('Page', 'Runtime', 'Log', 'Network'):
        page.send(f'{domain}.enable')
      page.send('Emulation.setDeviceMetricsOverride', width=width,
                height=height, deviceScaleFactor=1, mobile=False)
      yield page
    finally:
      socket.close()
  finally:
    process.kill()
    process.wait()
