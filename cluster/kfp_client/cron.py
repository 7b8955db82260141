"""Kubeflow Pipelines' cron dialect (robfig/cron: six fields, seconds first)."""

import re

# Every day at 03:00 UTC.
CRON_EXAMPLE = '0 0 3 * * *'


def check_cron(cron: str) -> str:
  """Checks a schedule before any request is sent.

  Args:
    cron: six fields, seconds first, or a descriptor such as `@daily`.

  Returns:
    cron, unchanged.

  Raises:
    ValueError: naming the expected form, with an example.
  """
  fields = cron.split()
  if cron.startswith('@') and len(fields) <= 2:
    return cron  # @daily, @hourly, @every 6h, ...
  if len(fields) != 6 or not all(
      re.fullmatch(r'[0-9A-Za-z*?/,-]+', field) for field in fields):
    raise ValueError(
        f'cron {cron!r}: Kubeflow Pipelines expects 6 fields, seconds first '
        f'(second minute hour day-of-month month day-of-week), e.g. '
        f'{CRON_EXAMPLE!r} for 03:00 every day')
  return cron
