"""The error of a request the `taxi-tips` command cannot carry out."""


class RequestError(ValueError):
  """No such version, input that cannot be read as rows...; str() says why
  in one line."""
