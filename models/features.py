"""The feature contract shared by preprocessing, the model and the pipeline.

Raw names are the CSV columns; every transformed tensor is named
`transformed_name(...)`. Sizes here fix the transformed id ranges, so
`preprocessing.py` and `model.py` cannot disagree about them.
"""

# The label is derived, not a column: did the rider tip more than 20% of the fare?
TIPS_KEY = 'tips'
FARE_KEY = 'fare'
BIG_TIP_FRACTION_DENOMINATOR = 5  # tips > fare / 5
LABEL_KEY = 'big_tip'

# Heavy-tailed amounts: log1p, then z-score.
LOG_NUMERIC_FEATURE_KEYS = ['fare', 'trip_miles', 'trip_seconds']

# Small integer categories with a known range; values outside it (or missing)
# map to 0, which is never a real value for these columns except hour 0.
CATEGORICAL_FEATURE_RANGES = {
    'trip_start_hour': 24,  # 0-23
    'trip_start_day': 8,  # 1-7
    'trip_start_month': 13,  # 1-12
    'pickup_community_area': 78,  # 1-77
    'dropoff_community_area': 78,
}

# Open-ended categories: a vocabulary of the most frequent values plus hash
# buckets for unseen values. A missing value becomes MISSING_TOKEN, a token of
# its own (tf.Transform leaves empty strings out of vocabularies).
VOCAB_FEATURE_KEYS = [
    'payment_type', 'company', 'pickup_census_tract', 'dropoff_census_tract'
]
VOCAB_SIZE = 200
MISSING_TOKEN = '(missing)'
OOV_BUCKETS = 5

# Coordinates: z-scored values, and quantile buckets with one extra bucket
# for a missing value (crossed into map cells below).
PICKUP_LATLON = ('pickup_latitude', 'pickup_longitude')
DROPOFF_LATLON = ('dropoff_latitude', 'dropoff_longitude')
COORDINATE_FEATURE_KEYS = [*PICKUP_LATLON, *DROPOFF_LATLON]
COORDINATE_BUCKETS = 12

# Whether a tip clears 20% depends on the fare level and on how each payment
# method and meter vendor (company) computes its suggested tips.
FARE_BUCKETS = 10
FARE_CROSSED_KEYS = ['payment_type', 'company']

# Derived (crossed) features.
PICKUP_CELL_KEY = 'pickup_cell'
DROPOFF_CELL_KEY = 'dropoff_cell'
HOUR_OF_WEEK_KEY = 'hour_of_week'

# Every raw column the pipeline needs; a data source lacking one is rejected.
REQUIRED_COLUMNS = sorted({
    TIPS_KEY, FARE_KEY, *LOG_NUMERIC_FEATURE_KEYS, *CATEGORICAL_FEATURE_RANGES,
    *VOCAB_FEATURE_KEYS, *COORDINATE_FEATURE_KEYS
})


def transformed_name(key: str) -> str:
  return key + '_xf'


def bucket_name(key: str) -> str:
  return transformed_name(key + '_bucket')


def fare_cross_name(key: str) -> str:
  return transformed_name(f'{key}_x_fare')


def dense_feature_names() -> list:
  """Transformed float features, in model input order."""
  return [
      transformed_name(k)
      for k in LOG_NUMERIC_FEATURE_KEYS + COORDINATE_FEATURE_KEYS
  ]


def categorical_sizes(vocabulary_sizes: dict) -> dict:
  """Number of distinct ids of every integer-valued transformed feature.

  Args:
    vocabulary_sizes: vocab feature key -> size of its computed vocabulary
      (known only after tf.Transform has analyzed the data).
  """
  sizes = {
      transformed_name(k): n for k, n in CATEGORICAL_FEATURE_RANGES.items()
  }
  sizes.update({
      transformed_name(k): vocabulary_sizes[k] + OOV_BUCKETS
      for k in VOCAB_FEATURE_KEYS
  })
  sizes.update(
      {bucket_name(k): COORDINATE_BUCKETS + 1 for k in COORDINATE_FEATURE_KEYS})
  sizes[transformed_name(PICKUP_CELL_KEY)] = (COORDINATE_BUCKETS + 1)**2
  sizes[transformed_name(DROPOFF_CELL_KEY)] = (COORDINATE_BUCKETS + 1)**2
  sizes[transformed_name(HOUR_OF_WEEK_KEY)] = (
      CATEGORICAL_FEATURE_RANGES['trip_start_hour'] *
      CATEGORICAL_FEATURE_RANGES['trip_start_day'])
  sizes[bucket_name(FARE_KEY)] = FARE_BUCKETS + 1
  for key in FARE_CROSSED_KEYS:
    sizes[fare_cross_name(key)] = sizes[transformed_name(key)] * (
        FARE_BUCKETS + 1)
  return sizes
