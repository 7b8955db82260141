"""Warm start carries an id table's rows over by the token they stand for."""

import numpy as np

from models import features
from models import warm_start


def _vocabularies(company):
  return {key: ['x'] for key in features.VOCAB_FEATURE_KEYS} | {
      'company': company}


def _rows(old_company, new_company):
  old, new = _vocabularies(old_company), _vocabularies(new_company)
  sizes = lambda v: features.categorical_sizes(
      {k: len(tokens) for k, tokens in v.items()})
  return (sizes(old), sizes(new),
          warm_start.row_map(sizes(old), sizes(new), old, new))


def _range(sizes, name):
  names = sorted(sizes)
  start = sum(sizes[n] for n in names[:names.index(name)])
  return slice(start, start + sizes[name])


def test_rows_follow_their_tokens_and_new_tokens_start_fresh():
  old_sizes, new_sizes, rows = _rows(['Cab A', 'Cab B'],
                                     ['Cab B', 'Cab C', 'Cab A'])
  company = features.transformed_name('company')
  old_company = np.arange(sum(old_sizes.values()))[_range(old_sizes, company)]
  new_rows = rows[_range(new_sizes, company)]
  # Cab B was id 1, Cab C is new, Cab A was id 0; then the OOV buckets.
  assert list(new_rows[:3]) == [old_company[1], -1, old_company[0]]
  assert list(new_rows[3:]) == list(old_company[2:])
  assert len(new_rows) == 3 + features.OOV_BUCKETS


def test_fare_crosses_follow_their_token_and_keep_the_bucket():
  old_sizes, new_sizes, rows = _rows(['Cab A', 'Cab B'], ['Cab B', 'Cab A'])
  cross = features.fare_cross_name('company')
  buckets = features.FARE_BUCKETS + 1
  old_cross = np.arange(sum(old_sizes.values()))[_range(old_sizes, cross)]
  new_rows = rows[_range(new_sizes, cross)]
  # New token 0 (Cab B) was token 1: its buckets are the old 1 * buckets + b.
  assert list(new_rows[:buckets]) == list(old_cross[buckets:2 * buckets])
  assert list(new_rows[buckets:2 * buckets]) == list(old_cross[:buckets])


def test_features_without_vocabularies_keep_their_rows():
  old_sizes, new_sizes, rows = _rows(['Cab A'], ['Cab A', 'Cab B'])
  hour = features.transformed_name(features.HOUR_KEY)
  old_hour = np.arange(sum(old_sizes.values()))[_range(old_sizes, hour)]
  assert list(rows[_range(new_sizes, hour)]) == list(old_hour)
