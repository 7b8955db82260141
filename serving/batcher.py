"""Concurrent requests' rows answered together, by one signature call.

TF Serving's batching without its wait: the rows that arrive while a call
runs go together into the next (up to MAX_ROWS), so under load one call
answers many requests, and a lone request waits for nobody.
"""

import collections
from concurrent import futures
import itertools
import threading

import tensorflow as tf

from serving import predict


# How long the draining thread waits for more requests before it ends.
_IDLE_SECONDS = 1.0
# Rows one call may answer. A call's fixed cost outweighs its cost per row
# up to hundreds of rows (docs/performance.md, "Online serving"); more
# would only lengthen the wait of the requests behind it.
MAX_ROWS = 1024


class Batcher:
  """Answers the rows of each submit() from shared signature calls."""

  def __init__(self, predictor: predict.Predictor):
    self._predictor = predictor
    self._queue = collections.deque()  # (columns, rows, future)
    self._arrived = threading.Condition()
    self._draining = False

  def submit(self, columns: predict.Columns) -> futures.Future:
    """Queues rows; the future's result is their predict.Answer list.

    A thread drains the queue while requests come, and ends once none has
    come for _IDLE_SECONDS: nothing holds the model after its version
    stopped taking requests.

    Args:
      columns: the rows, as the predictor's columns.
    """
    future = futures.Future()
    with self._arrived:
      self._queue.append((columns, len(next(iter(columns.values()))),
                          future))
      self._arrived.notify()
      if not self._draining:
        self._draining = True
        threading.Thread(target=self._drain, daemon=True).start()
    return future

  def _take(self) -> list:
    """The next requests, up to MAX_ROWS rows (a larger one alone)."""
    with self._arrived:
      if not self._queue:
        self._arrived.wait(_IDLE_SECONDS)
      batch, count = [], 0
      while self._queue and (not batch or
                             count + self._queue[0][1] <= MAX_ROWS):
        batch.append(self._queue.popleft())
        count += batch[-1][1]
      self._draining = bool(batch)
      return batch

  def _drain(self) -> None:
    while True:
      batch = self._take()
      if not batch:
        return
      try:
        self._answer(batch)
      except Exception as e:  # pylint: disable=broad-except
        for _, _, future in batch:  # to the requests, which answer 500
          future.set_exception(e)

  def _answer(self, batch: list) -> None:
    columns = batch[0][0] if len(batch) == 1 else {
        k: list(itertools.chain.from_iterable(c[k] for c, _, _ in batch))
        for k in batch[0][0]}
    try:
      answers = self._predictor.call_columns(columns)
    except tf.errors.InvalidArgumentError:
      # A row is refused: each request on its own, so one bad request
      # costs the others one call each, not one a row.
      for columns, _, future in batch:
        future.set_result([answer for _, answer in
                           self._predictor.predict(predict.rows_of(columns))])
      return
    start = 0
    for _, count, future in batch:
      future.set_result(answers[start:start + count])
      start += count
