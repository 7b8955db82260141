"""Starts `taxi-tips serve`: uvicorn, in one process or several on one port.

The process that starts the server does not import it: uvicorn imports the
app by name (serving/server.py, and TensorFlow with it) in the process that
answers requests. With several workers, the starting process only watches
them, and holds no model.
"""

import json
import os
import tempfile

import uvicorn

from serving import server_metrics

# The app's settings, from the process that starts uvicorn to the one (or
# ones) that import the app.
SETTINGS_ENV = 'TAXI_TIPS_SERVE_SETTINGS'
_APP = 'serving.server:app_from_environment'


def serve(pool_settings: dict, host: str, port: int, workers: int = 1) -> None:
  """Serves until stopped, from one process or several on one port.

  One process answers requests on one core at most (Python's global lock
  around what TensorFlow does not run); several share the port, each with
  its own copy of the model following the push destination, and the
  metrics of all of them in every scrape.

  Args:
    pool_settings: ModelPool's arguments (destination, model_name, pinned).
    host: the address to listen on.
    port: the port.
    workers: processes answering requests.
  """
  # One process answers 503 until its version is loaded; of several, each
  # loads before it takes a connection (the others take them meanwhile).
  os.environ[SETTINGS_ENV] = json.dumps(
      {'pool': pool_settings, 'load_first': workers > 1})
  # No access log: the metrics count the requests.
  options = dict(host=host, port=port, log_level='info', access_log=False,
                 factory=True)
  if workers == 1:
    uvicorn.run(_APP, **options)
    return
  with tempfile.TemporaryDirectory(prefix='taxi-tips-metrics-') as metrics:
    # The workers start as new interpreters and read it at their import.
    os.environ[server_metrics.MULTIPROCESS_DIR_ENV] = metrics
    uvicorn.run(_APP, workers=workers, **options)
