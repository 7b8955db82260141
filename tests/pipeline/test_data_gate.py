"""The data gate's checks on statistics of the bundled data and its copies.

TFDV statistics of the bundled data and of changed copies: real seasons
pass, broken data does not, and the allowlist tolerates what it names.
"""

import dataclasses

import pandas as pd
import pytest
import tensorflow_data_validation as tfdv

import helpers
from pipeline import configs
from pipeline.components.data_gate import checks

LIMITS = configs.DATA_GATE


def _stats(frame: pd.DataFrame):
  return tfdv.generate_statistics_from_dataframe(frame).datasets[0]


@pytest.fixture(scope='module')
def bundled():
  return pd.read_csv(helpers.BUNDLED_CSV)


@pytest.fixture(scope='module')
def bundled_stats(bundled):
  return _stats(bundled)


def _comparisons(stats, baseline):
  schema = helpers.curated_schema()
  return (checks.missing_problems(stats, baseline, schema, LIMITS) +
          checks.vanished_problems(stats, baseline, schema, LIMITS) +
          checks.drift_problems(stats, baseline, schema, LIMITS))


def test_each_year_of_the_bundled_data_passes(bundled, bundled_stats):
  years = pd.to_datetime(bundled['trip_start_timestamp'], unit='s').dt.year
  assert years.nunique() == 4
  for year in sorted(years.unique()):
    stats = _stats(bundled[years == year])
    problems = (_comparisons(stats, bundled_stats) +
                checks.label_problems(stats, LIMITS) +
                checks.row_problems(stats, LIMITS))
    assert not problems, (year, [str(p) for p in problems])


@pytest.mark.parametrize('column, change, expected', [
    ('fare', lambda v: v * 100, 'fare: drift: '),  # dollars -> cents
    ('trip_seconds', lambda v: v / 60, 'trip_seconds: drift: '),  # minutes
    ('payment_type', lambda v: v.where(v != 'Cash', 'Credit Card'),
     'payment_type: vanished: expected every value that had at least 1% of '
     "the serving model's data; seen none of: Cash"),
    ('company', lambda v: v.where(v.index % 5 != 0, None), 'company: missing: '),
])
def test_a_changed_column_is_a_problem(bundled, bundled_stats, column, change,
                                       expected):
  changed = bundled.assign(**{column: change(bundled[column])})
  found = [str(p) for p in _comparisons(_stats(changed), bundled_stats)]
  assert any(p.startswith(expected) for p in found), found


def test_single_class_and_too_few_rows(bundled):
  no_tips = _stats(bundled.assign(tips=0.)[:50])
  assert [str(p) for p in checks.label_problems(no_tips, LIMITS)] == [
      'big_tip: label: expected both classes; no rider tipped: every label '
      'is "no big tip"']
  assert [str(p) for p in checks.row_problems(no_tips, LIMITS)] == [
      '*: rows: expected at least 500 rows, seen 50']


def test_the_allowlist_tolerates_what_it_names(bundled, bundled_stats):
  cents = _stats(bundled.assign(fare=bundled['fare'] * 100))
  problems = _comparisons(cents, bundled_stats)
  assert [p.key for p in problems] == ['fare:drift']
  allowing = dataclasses.replace(LIMITS, allowed=('fare:drift',))
  assert checks.split_tolerated(problems, allowing) == ([], problems)
  assert checks.split_tolerated(problems, LIMITS) == (problems, [])


def test_numbers_that_are_not_finite_are_named(bundled, bundled_stats):
  damaged = bundled.copy()
  damaged.loc[:39, 'trip_miles'] = float('inf')
  damaged.loc[:2, 'fare'] = float('-inf')
  found = [str(p) for p in checks.nonfinite_problems(_stats(damaged), 'train')]
  assert found == [
      'fare: nonfinite: expected finite numbers; the train split holds 3 -inf',
      'trip_miles: nonfinite: expected finite numbers; the train split holds '
      '40 inf']
  assert checks.nonfinite_problems(bundled_stats, 'train') == []
