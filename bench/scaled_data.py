"""Writes the bundled sample at N times its size.

Rows are resampled with small jitter, so larger runs see new values, not
literal copies.
"""

import csv
from decimal import Decimal
from pathlib import Path
import random

_SEED = 7
_RELATIVE_JITTER = 0.02  # fares, tips, miles and seconds move by up to 2 %
_COORDINATE_JITTER = 0.0005  # degrees, about 50 m


def _jitter(value: str, scale: float, places: int) -> str:
  if value == '':
    return value  # missing stays missing
  return str(round(Decimal(value) * Decimal(scale), places))


def write_scaled(source: Path, target: Path, times: int) -> int:
  """Writes `times` x the rows of source to target; returns the row count.

  1x copies the file unchanged.
  """
  target.parent.mkdir(parents=True, exist_ok=True)
  with open(source, newline='') as f:
    reader = csv.DictReader(f)
    fields, rows = reader.fieldnames, list(reader)
  rng = random.Random(_SEED)
  with open(target, 'w', newline='') as f:
    writer = csv.DictWriter(f, fieldnames=fields)
    writer.writeheader()
    writer.writerows(rows)
    for _ in range(len(rows) * (times - 1)):
      row = dict(rng.choice(rows))
      money = 1 + rng.uniform(-_RELATIVE_JITTER, _RELATIVE_JITTER)
      # Fare and tip move together: the label (tip > 20 % of fare) stays.
      row['fare'] = _jitter(row['fare'], money, 2)
      row['tips'] = _jitter(row['tips'], money, 2)
      for key in ('trip_miles', 'trip_seconds'):
        scale = 1 + rng.uniform(-_RELATIVE_JITTER, _RELATIVE_JITTER)
        row[key] = _jitter(row[key], scale, 0 if key == 'trip_seconds' else 2)
      for key in ('pickup_latitude', 'pickup_longitude', 'dropoff_latitude',
                  'dropoff_longitude'):
        if row[key]:
          shift = rng.uniform(-_COORDINATE_JITTER, _COORDINATE_JITTER)
          row[key] = f'{float(row[key]) + shift:.9f}'
      writer.writerow(row)
  return len(rows) * times
