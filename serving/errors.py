"""The error of a request the `taxi-tips` command cannot carry out."""


class RequestError(ValueError):
  """A refused request; str() says why in one line.

  No such version, input that cannot be read as rows...
  """
