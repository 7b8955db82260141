"""`taxi-tips serve`: TF Serving's REST API for the pushed model.

    GET  /v1/models/<name>[/versions/N]            version status
    GET  /v1/models/<name>[/versions/N]/metadata   signatures
    POST /v1/models/<name>[/versions/N]:predict    instances or inputs
    GET  /healthz  /readyz  /metrics               liveness, readiness,
                                                   Prometheus metrics

and the Open Inference Protocol (KServe V2; open_inference.py):

    GET  /v2  /v2/health/live  /v2/health/ready    server
    GET  /v2/models/<name>[/versions/N][/ready]    model metadata, readiness
    POST /v2/models/<name>[/versions/N]/infer      one tensor a feature

Requests and answers are TF Serving's, for the model's `serving_raw`
signature: CSV-column features in (rest_request.py), `big_tip_probability`
out, one [p] a row; an error is {"error": "..."} with TF Serving's HTTP
status (400 a bad request, 404 no such model or version), in both
protocols. The model follows the push destination (model_pool.py).
Starlette, which uvicorn serves in one process or several (launch.py).
"""

import asyncio
import contextlib
import json
import logging
import os
import time

from starlette import applications
from starlette import concurrency
from starlette import exceptions
from starlette import requests
from starlette import responses
from starlette import routing
import orjson

from serving import launch
from serving import model_pool
from serving import open_inference
from serving import predict
from serving import rest_request
from serving import server_metrics
from serving.errors import RequestError

# Bytes one request body may have: a bound on the memory one client takes;
# MAX_ROWS rows of the widest CSV rows fit.
MAX_BODY_BYTES = 32 * 1024 * 1024
# Bodies up to this (about 150 rows) are read on the event loop, where a
# thread's hand-off would cost a good part of their reading; larger ones in
# a thread, so they hold no other request up.
_INLINE_PARSE_BYTES = 64 * 1024
_ANSWER_KEY = {rest_request.ROW_FORMAT: 'predictions',
               rest_request.COLUMNAR_FORMAT: 'outputs'}


class _TooLarge(Exception):
  """The body is over MAX_BODY_BYTES."""


def _error(status: int, message) -> responses.JSONResponse:
  return responses.JSONResponse({'error': str(message)}, status_code=status)


def _answer(content: dict) -> responses.Response:
  """A prediction's answer; orjson writes the floats faster than json."""
  return responses.Response(orjson.dumps(content),
                            media_type='application/json')


async def _body(request: requests.Request) -> bytes:
  chunks, size = [], 0
  async for chunk in request.stream():
    size += len(chunk)
    if size > MAX_BODY_BYTES:
      raise _TooLarge(f'the request body is over {MAX_BODY_BYTES} bytes')
    chunks.append(chunk)
  return b''.join(chunks)


class _Api:
  """The endpoints, over one ModelPool."""

  def __init__(self, pool: model_pool.ModelPool):
    self.pool = pool
    self.metrics = server_metrics.ServerMetrics()
    pool.on_swap(self.metrics.serving)

  def _servable(self, request: requests.Request) -> model_pool.Servable:
    return self.pool.get(request.path_params['model'],
                         request.path_params.get('version'))

  async def _answered(self, request: requests.Request, parse) -> tuple:
    """(servable, parsed request, a probability a row) of a request.

    Raises:
      RequestError: the request is malformed, or the model refuses a row
        (named with its field).
    """
    # The version is taken once: the request ends on it, swap or not.
    servable = self._servable(request)
    body = await _body(request)
    parsed = (parse(body, servable.predictor)
              if len(body) <= _INLINE_PARSE_BYTES else
              await concurrency.run_in_threadpool(
                  parse, body, servable.predictor))
    answers = await asyncio.wrap_future(
        servable.batcher.submit(parsed.columns))
    for index, answer in enumerate(answers):
      if isinstance(answer, predict.RowError):
        # TF Serving fails the whole request for one bad row.
        raise RequestError(f'{parsed.row_name(index)}: {answer.reason}')
    self.metrics.rows.inc(len(answers))
    return servable, parsed, answers

  async def predict(self, request: requests.Request) -> responses.Response:
    """TF Serving's predict response: one [p] a row (the output is [rows, 1])."""
    _, parsed, answers = await self._answered(request, rest_request.parse)
    return _answer({_ANSWER_KEY[parsed.form]: [[answer] for answer in answers]})

  async def infer(self, request: requests.Request) -> responses.Response:
    """The Open Inference Protocol's inference response."""
    servable, parsed, answers = await self._answered(request,
                                                     open_inference.parse)
    return _answer(open_inference.answer(
        self.pool.model_name, servable.version, parsed, answers))

  async def model_metadata(self, request: requests.Request
                           ) -> responses.Response:
    """The Open Inference Protocol's model metadata."""
    servable = self._servable(request)
    return responses.JSONResponse(open_inference.model_metadata(
        self.pool.model_name, [str(servable.version)],
        servable.predictor.features))

  async def model_ready(self, request: requests.Request) -> responses.Response:
    self._servable(request)
    return responses.JSONResponse({'name': self.pool.model_name,
                                   'ready': True})

  async def status(self, request: requests.Request) -> responses.Response:
    return responses.JSONResponse({
        'model_version_status': self.pool.states(
            request.path_params['model'], request.path_params.get('version'))})

  async def metadata(self, request: requests.Request) -> responses.Response:
    servable = self._servable(request)
    return responses.JSONResponse({
        'model_spec': {'name': self.pool.model_name, 'signature_name': '',
                       'version': str(servable.version)},
        'metadata': {'signature_def': {
            'signature_def': servable.signature_def}}})

  async def live(self, _) -> responses.Response:
    return responses.JSONResponse({'status': 'alive'})

  async def live_v2(self, _) -> responses.Response:
    return responses.JSONResponse({'live': True})

  async def ready_v2(self, _) -> responses.Response:
    ready = self.pool.served is not None
    return responses.JSONResponse({'ready': ready},
                                  status_code=200 if ready else 503)

  async def server_metadata(self, _) -> responses.Response:
    return responses.JSONResponse({'name': 'taxi-tips serve',
                                   'version': '1', 'extensions': []})

  async def ready(self, _) -> responses.Response:
    served = self.pool.served
    if served is None:
      return _error(503, f'no version of {self.pool.model_name} loaded yet '
                    f'from {self.pool.destination}')
    return responses.JSONResponse({'status': 'ready',
                                   'version': str(served.version)})

  async def prometheus(self, _) -> responses.Response:
    return responses.Response(self.metrics.exposition(),
                              media_type='text/plain; version=0.0.4')

  def measured(self, endpoint: str, handler):
    """`handler` answering errors as TF Serving does, counted and timed."""

    async def answer(request: requests.Request) -> responses.Response:
      started = time.perf_counter()
      try:
        response = await handler(request)
      except RequestError as e:
        response = _error(400, e)
      except model_pool.NotFound as e:
        response = _error(404, e)
      except _TooLarge as e:
        response = _error(413, e)
      except Exception as e:  # pylint: disable=broad-except
        # A request must not stop the server; the trace goes to its log.
        logging.exception('%s %s failed', request.method, request.url.path)
        response = _error(500, f'internal error: {type(e).__name__}')
      self.metrics.observe(endpoint, response.status_code,
                           time.perf_counter() - started)
      return response

    return answer


def _model_routes(api: _Api, model: str, endpoints: list) -> list:
  """The endpoints at the model's path and at each version's, measured.

  Args:
    api: the handlers.
    model: the model's path.
    endpoints: (path suffix, metric name, handler, HTTP method) each.
  """
  version = model + '/versions/{version:int}'
  return [routing.Route(path + suffix, api.measured(name, handler),
                        methods=[method])
          for suffix, name, handler, method in endpoints
          for path in (model, version)]


def _routes(api: _Api) -> list:
  return _model_routes(api, '/v1/models/{model}', [
      (':predict', 'predict', api.predict, 'POST'),
      ('', 'status', api.status, 'GET'),
      ('/metadata', 'metadata', api.metadata, 'GET'),
  ]) + _model_routes(api, '/v2/models/{model}', [
      ('/infer', 'infer', api.infer, 'POST'),
      ('', 'model_metadata', api.model_metadata, 'GET'),
      ('/ready', 'model_ready', api.model_ready, 'GET'),
  ]) + [
      routing.Route('/healthz', api.live),
      routing.Route('/readyz', api.ready),
      routing.Route('/metrics', api.prometheus),
      routing.Route('/v2', api.server_metadata),
      routing.Route('/v2/health/live', api.live_v2),
      routing.Route('/v2/health/ready', api.ready_v2),
  ]


async def _http_error(_, e: exceptions.HTTPException) -> responses.Response:
  return _error(e.status_code, e.detail)


def make_app(pool: model_pool.ModelPool,
             load_first: bool = False) -> applications.Starlette:
  """The ASGI app; it follows the push destination while it runs.

  Args:
    pool: the model to serve; started and stopped with the app.
    load_first: load the version to serve before taking requests (a worker
      of several: the port's other workers take them meanwhile).

  Returns:
    The app, for uvicorn.
  """

  @contextlib.asynccontextmanager
  async def lifespan(_):
    if load_first:  # uvicorn takes no connection before this is done
      await concurrency.run_in_threadpool(pool.refresh)
    pool.start()
    yield
    pool.stop()

  return applications.Starlette(
      routes=_routes(_Api(pool)), lifespan=lifespan,
      exception_handlers={exceptions.HTTPException: _http_error})


def app_from_environment() -> applications.Starlette:
  """The app uvicorn serves, as serving/launch.py set it up.

  Returns:
    make_app() of the ModelPool the launcher's settings describe.
  """
  logging.basicConfig(level=logging.INFO, format='%(levelname)s: %(message)s')
  settings = json.loads(os.environ[launch.SETTINGS_ENV])
  return make_app(model_pool.ModelPool(**settings['pool']),
                  load_first=settings['load_first'])
