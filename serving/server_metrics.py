"""The server's Prometheus metrics, in a registry of their own.

With several worker processes (`taxi-tips serve --workers`), each writes its
figures to files under PROMETHEUS_MULTIPROC_DIR and a scrape of any of them
adds up all of theirs (prometheus_client's multiprocess mode).
"""

import os
from typing import Callable

import prometheus_client
from prometheus_client import multiprocess

MULTIPROCESS_DIR_ENV = 'PROMETHEUS_MULTIPROC_DIR'

# Latency buckets, in seconds: fine below 10 ms, where one-row requests are.
_LATENCY_BUCKETS = (.001, .002, .003, .005, .0075, .01, .015, .025, .05, .1,
                    .25, .5, 1., 2.5)


class ServerMetrics:
  """Requests by endpoint and status, their latency, rows, served version."""

  def __init__(self, served_version: Callable[[], int]):
    """Creates the metrics.

    Args:
      served_version: returns the version requests go to (0: none yet),
        read as requests come and at each scrape.
    """
    self._served_version = served_version
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
    # Set as requests come and at each scrape: a function's value would not
    # reach the other processes' scrapes. Across them, the newest set.
    self._version = prometheus_client.Gauge(
        'taxi_tips_served_version', 'The model version requests go to '
        '(0: none loaded yet)', registry=self.registry,
        multiprocess_mode='livemostrecent')

  def observe(self, endpoint: str, code: int, seconds: float) -> None:
    """Counts one answered request and its latency."""
    self._requests.labels(endpoint, str(code)).inc()
    self._latency.labels(endpoint).observe(seconds)
    self._version.set(self._served_version())

  def exposition(self) -> bytes:
    """The metrics in Prometheus' text format, of every worker process."""
    self._version.set(self._served_version())
    if not os.environ.get(MULTIPROCESS_DIR_ENV):
      return prometheus_client.generate_latest(self.registry)
    workers = prometheus_client.CollectorRegistry()
    multiprocess.MultiProcessCollector(workers)
    return prometheus_client.generate_latest(workers)
