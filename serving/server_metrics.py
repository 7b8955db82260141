"""The server's Prometheus metrics, in a registry of their own.

With several worker processes (`taxi-tips serve --workers`), each writes its
figures to files under PROMETHEUS_MULTIPROC_DIR and a scrape of any of them
adds up all of theirs (prometheus_client's multiprocess mode).
"""

import os

import prometheus_client
from prometheus_client import multiprocess

MULTIPROCESS_DIR_ENV = 'PROMETHEUS_MULTIPROC_DIR'

# Latency buckets, in seconds: fine below 10 ms, where one-row requests are.
_LATENCY_BUCKETS = (.001, .002, .003, .005, .0075, .01, .015, .025, .05, .1,
                    .25, .5, 1., 2.5)


class ServerMetrics:
  """Requests by endpoint and status, their latency, rows, served version."""

  def __init__(self):
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
    # Set at each swap (a function's value would not reach the other worker
    # processes' scrapes); across the workers, the newest set.
    self._version = prometheus_client.Gauge(
        'taxi_tips_served_version', 'The model version requests go to '
        '(0: none loaded yet)', registry=self.registry,
        multiprocess_mode='livemostrecent')

  def observe(self, endpoint: str, code: int, seconds: float) -> None:
    """Counts one answered request and its latency."""
    self._requests.labels(endpoint, str(code)).inc()
    self._latency.labels(endpoint).observe(seconds)

  def serving(self, version: int) -> None:
    """Records the version requests now go to."""
    self._version.set(version)

  def exposition(self) -> bytes:
    """The metrics in Prometheus' text format, of every worker process."""
    if not os.environ.get(MULTIPROCESS_DIR_ENV):
      return prometheus_client.generate_latest(self.registry)
    workers = prometheus_client.CollectorRegistry()
    multiprocess.MultiProcessCollector(workers)
    return prometheus_client.generate_latest(workers)
