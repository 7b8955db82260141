"""Failures talking to Kubeflow Pipelines, each as one line a user can act on."""

import contextlib
import io
import json
import logging
import urllib.error
import urllib.request
import warnings

import google.auth.exceptions
import kfp_server_api
import urllib3

from cluster.kfp_client.connection import Connection
from cluster.kfp_client.connection import IAP_CLIENT_ID_ENV

_PROBE_TIMEOUT_SECONDS = 10


class KfpApiError(Exception):
  """A failure talking to Kubeflow Pipelines, in one line."""


def one_line(error: Exception) -> str:
  """str(error) with its white space folded."""
  return ' '.join(str(error).split())


def credentials_refused(status: int, detail: str = '') -> str:
  """The message for HTTP 401/403."""
  return (f'the server refused the credentials (HTTP {status}'
          f'{": " + detail if detail else ""}); behind Cloud IAP pass '
          f'--iap-client-id or set {IAP_CLIENT_ID_ENV}')


def api_error_message(error: kfp_server_api.ApiException) -> str:
  """The server's own reason for refusing a call, in one line."""
  detail = ''
  try:
    body = json.loads(error.body or '{}')
    detail = body.get('message') or body.get('error') or ''
  except (TypeError, ValueError):
    detail = error.body or ''
  detail = ' '.join(str(detail).split())[:300]
  if error.status in (401, 403):
    return credentials_refused(error.status, detail)
  return f'the server answered HTTP {error.status}: {detail or error.reason}'


def probe(connection: Connection) -> None:
  """Fails fast on an endpoint that cannot be reached.

  kfp.Client would retry its health check for half a minute, logging
  tracebacks.

  Args:
    connection: the endpoint.

  Raises:
    KfpApiError: unreachable, or credentials refused without IAP set up.
  """
  url = connection.endpoint.rstrip('/') + '/apis/v2beta1/healthz'
  try:
    with urllib.request.urlopen(url, timeout=_PROBE_TIMEOUT_SECONDS):
      pass
  except urllib.error.HTTPError as e:
    if e.code in (401, 403) and not connection.iap_client_id:
      raise KfpApiError(credentials_refused(e.code)) from None
    # Any other answer proves the server is reachable (IAP redirects an
    # anonymous probe to its login page); the client authenticates next.
  except (urllib.error.URLError, OSError, ValueError) as e:
    reason = getattr(e, 'reason', e)
    raise KfpApiError(f'cannot reach Kubeflow Pipelines at '
                      f'{connection.endpoint}: {reason}') from None


@contextlib.contextmanager
def translated_errors(connection: Connection):
  """Runs kfp.Client calls quietly, raising each failure as KfpApiError.

  Args:
    connection: the endpoint, for the messages.

  Yields:
    Nothing.
  """
  # kfp prints dashboard links, warns and logs retries on its own; the
  # commands report what happened themselves.
  logging.disable(logging.ERROR)
  try:
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
      warnings.simplefilter('ignore')
      yield
  except kfp_server_api.ApiException as e:
    raise KfpApiError(api_error_message(e)) from None
  except urllib3.exceptions.HTTPError as e:
    raise KfpApiError(f'lost the connection to '
                      f'{connection.endpoint}: {one_line(e)}') from None
  except google.auth.exceptions.GoogleAuthError as e:
    raise KfpApiError('could not get credentials for IAP client id '
                      f'{connection.iap_client_id}: {one_line(e)}') from None
  except TimeoutError as e:
    raise KfpApiError(f'{connection.endpoint}: {e}') from None
  finally:
    logging.disable(logging.NOTSET)
