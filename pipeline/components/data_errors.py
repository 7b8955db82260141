"""The error a pipeline step raises when the data, not the code, is wrong."""

from typing import Optional


class DataError(ValueError):
  """Data the pipeline refuses; str() is the reason, one line per problem.

  Runners print it in place of a traceback (find_data_error).
  """


def find_data_error(error: BaseException) -> Optional[DataError]:
  """The DataError that caused `error`, if one did.

  Beam re-raises a step's exception as a copy with the step's name
  appended; the innermost DataError is the one as raised.

  Args:
    error: what a pipeline run raised.

  Returns:
    The innermost DataError among error and its causes, or None.
  """
  found = None
  seen = set()
  while error is not None and id(error) not in seen:
    seen.add(id(error))
    if isinstance(error, DataError):
      found = error
    error = error.__cause__ or error.__context__
  return found

