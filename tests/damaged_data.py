"""Damaged copies of the bundled rows, each with the reason the gate names.

Shared by the end-to-end gate tests (tests/e2e/test_bad_data.py) and the
engines' parity test of the gate's decision
(tests/pipeline/test_statistics_gen.py).
"""


def _set(column, value, every=1):
  def change(index, row):
    if index % every == 0:
      row[column] = value
  return change


def _scale_fare(index, row):  # dollars -> cents
  if row['fare']:
    row['fare'] = str(round(float(row['fare']) * 100))


# name -> (how the rows are damaged, the reason the run must stop with).
GATE_CASES = {
    'unseen category': (
        _set('payment_type', 'Bitcoin', every=3),
        r'payment_type: schema: .*Bitcoin'),
    'no labels': (
        _set('tips', ''),
        r'tips: label: expected a value in at least 99% of rows, seen 0\.0%'),
    'single class': (
        _set('tips', '0'),
        r'big_tip: label: expected both classes; no rider tipped'),
    'unit change': (
        _scale_fare, r'fare: drift: The approximate Jensen-Shannon divergence'),
    'infinite numbers': (  # 40 rows
        _set('trip_miles', 'inf', every=375),
        r'trip_miles: nonfinite: expected finite numbers; the train split '
        r'holds \d+ inf'),
    'mass missing values': (
        _set('fare', '', every=2),
        r'fare: missing: expected at most \d+\.\d% of rows empty .*seen 5\d\.\d%'),
}


def damaged(rows: list, change=None) -> list:
  """Copies of the rows, each passed through change(index, row)."""
  rows = [dict(r) for r in rows]
  for index, row in enumerate(rows):
    if change:
      change(index, row)
  return rows
