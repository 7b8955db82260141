"""The pipeline's tunables make sense for the data."""

import helpers
from pipeline import configs


def test_eval_floor_is_stricter_than_always_predicting_no_big_tip(
    bundled_rows):
  majority = 1 - sum(map(helpers.big_tip, bundled_rows)) / len(bundled_rows)
  assert configs.EVAL_THRESHOLDS.min_accuracy > majority
