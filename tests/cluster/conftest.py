"""The local KFP API server the cluster commands' tests run against."""

import pytest

from fakes.kfp_api_server import KfpApiServer


@pytest.fixture
def server():
  api = KfpApiServer()
  yield api
  api.close()
  # Every body the commands sent matched the kfp_server_api models.
  assert api.state.rejected == []
