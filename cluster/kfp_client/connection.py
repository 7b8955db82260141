"""Where the Kubeflow Pipelines API is and how to reach it."""

import dataclasses
import os

# kfp's own environment variable names, so an existing kfp set-up just works;
# the namespace variable is ours (multi-user Kubeflow only).
ENDPOINT_ENV = 'KF_PIPELINES_ENDPOINT'
UI_ENDPOINT_ENV = 'KF_PIPELINES_UI_ENDPOINT'
IAP_CLIENT_ID_ENV = 'KF_PIPELINES_IAP_OAUTH2_CLIENT_ID'
NAMESPACE_ENV = 'KF_PIPELINES_NAMESPACE'


@dataclasses.dataclass(frozen=True)
class Connection:
  """A Kubeflow Pipelines API endpoint and the identity to call it with."""
  endpoint: str
  namespace: str = ''  # empty: single-user (standalone) Kubeflow Pipelines
  iap_client_id: str = ''  # set when the endpoint sits behind Cloud IAP
  ui_endpoint: str = ''  # the dashboard, if not at the API endpoint

  def run_link(self, run_id: str) -> str:
    """The dashboard page of run `run_id`."""
    ui = self.ui_endpoint or self.endpoint
    return f'{ui.rstrip("/")}/#/runs/details/{run_id}'


def connection(endpoint: str, namespace: str = '',
               iap_client_id: str = '') -> Connection:
  """Checks an endpoint URL and makes the Connection.

  Args:
    endpoint: the API (or dashboard) URL.
    namespace: the multi-user Kubeflow profile namespace, if any.
    iap_client_id: the OAuth client id of a Cloud IAP in front of it, if any.

  Returns:
    The Connection, with the dashboard URL from UI_ENDPOINT_ENV if set.

  Raises:
    ValueError: no endpoint, or one that is not an http(s) URL.
  """
  if not endpoint:
    raise ValueError('no Kubeflow Pipelines endpoint: pass --endpoint or set '
                     f'{ENDPOINT_ENV}')
  if not endpoint.startswith(('http://', 'https://')):
    raise ValueError(f'endpoint {endpoint!r}: give the URL with '
                     'http:// or https://')
  return Connection(endpoint=endpoint, namespace=namespace,
                    iap_client_id=iap_client_id,
                    ui_endpoint=os.environ.get(UI_ENDPOINT_ENV, ''))
