"""Locust users of bench/serve_load.py: TF Serving predict requests.

Each user sends one request after the other (no wait) and stops after
SERVE_MAX_REQUESTS; the body (SERVE_BODY, a file) and the path
(SERVE_PATH) are the bench's.
"""

import os

import locust
from locust import exception

with open(os.environ['SERVE_BODY'], 'rb') as _file:
  _BODY = _file.read()
_PATH = os.environ['SERVE_PATH']
_MAX_REQUESTS = int(os.environ['SERVE_MAX_REQUESTS'])


class PredictClient(locust.FastHttpUser):
  """A client in a closed loop; any answer but 200 is a failure."""
  wait_time = locust.constant(0)

  def on_start(self):
    self.sent = 0

  @locust.task
  def predict(self):
    if self.sent >= _MAX_REQUESTS:
      raise exception.StopUser()
    self.sent += 1
    self.client.post(_PATH, data=_BODY,
                     headers={'Content-Type': 'application/json'})
