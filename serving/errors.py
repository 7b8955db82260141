"""The error of a request the `taxi-tips` command cannot carry out."""


class RequestError(ValueError):
  """A refused request; str() says why in one line.

  No such version, input that cannot be read as rows...
  """


class about:  # pylint: disable=invalid-name
  """Within it, a RequestError says what it is about: "what: why".

  Not for a loop over every value of a request: a `with` costs more than
  the check (try/except there).
  """

  def __init__(self, what: str):
    self._what = what

  def __enter__(self):
    return self

  def __exit__(self, kind, error, traceback):
    if isinstance(error, RequestError):
      raise RequestError(f'{self._what}: {error}') from None
