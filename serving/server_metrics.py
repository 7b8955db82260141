"""The server's Prometheus metrics, in a registry of their own."""

from typing import Callable

import prometheus_client

# Latency buckets, in seconds: fine below 10 ms, where one-row requests are.
_LATENCY_BUCKETS = (.001, .002, .003, .005, .0075, .01, .015, .025, .05, .1,
                    .25, .5, 1., 2.5)


class ServerMetrics:
  """Requests by endpoint and status, their latency, rows, served version."""

  def __init__(self, served_version: Callable[[], int]):
    """Creates the metrics.

    Args:
      served_version: returns the version requests go to (0: none yet),
        read at each scrape.
    """
    self.registry = prometheus_client.CollectorRegistry()
    self._requests = prometheus_client.Counter(
        'taxi_tips_requests', 'Requests answered, by endpoint and HTTP status',
        ['endpoint', 'code'], registry=self.registry)
    self._latency = prometheus_client.Histogram(
        'taxi_tips_request_seconds', 'Time to answer a request, by endpoint',
        ['endpoint'], buckets=_LATENCY_BUCKETS, registry=self.registry)
    self.rows = prometheus_client.Counter(
        'taxi_tips_predicted_rows', 'Rows given a probability',
        registry=self.registry)
    prometheus_client.Gauge(
        'taxi_tips_served_version', 'The model version requests go to '
        '(0: none loaded yet)', registry=self.registry
    ).set_function(served_version)

  def observe(self, endpoint: str, code: int, seconds: float) -> None:
    """Counts one answered request and its latency."""
    self._requests.labels(endpoint, str(code)).inc()
    self._latency.labels(endpoint).observe(seconds)

  def exposition(self) -> bytes:
    """The metrics in Prometheus' text format."""
    return prometheus_client.generate_latest(self.registry)
