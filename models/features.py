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

# When the trip started (epoch seconds): not a model input; new data is
# later by design, so its distribution is not compared with older data's.
TIME_KEY = 'trip_start_timestamp'
MONTH_KEY = 'trip_start_month'
# Features whose distribution follows the period the data covers: a span
# of winter months is not drift (the data gate compares none of them).
PERIOD_KEYS = [TIME_KEY, MONTH_KEY]

# Heavy-tailed amounts: log1p, then z-score.
LOG_NUMERIC_FEATURE_KEYS = ['fare', 'trip_miles', 'trip_seconds']

# Small integer categories: the range of real values. The model gets ids
# 0 to the range's last value; values outside the range (or missing) map to
# id 0, which is never a real value for these columns except hour 0.
CATEGORICAL_FEATURE_RANGES = {
    'trip_start_hour': range(0, 24),
    'trip_start_day': range(1, 8),
    MONTH_KEY: range(1, 13),
    'pickup_community_area': range(1, 78),
    'dropoff_community_area': range(1, 78),
}
HOUR_KEY = 'trip_start_hour'
WEEKDAY_KEY = 'trip_start_day'

# Open-ended categories: a vocabulary of the most frequent values plus hash
# buckets for unseen values. A missing value becomes MISSING_TOKEN, a token of
# its own (tf.Transform leaves empty strings out of vocabularies).
VOCAB_FEATURE_KEYS = [
    'payment_type', 'company', 'pickup_census_tract', 'dropoff_census_tract'
]
# Categories that keep growing (new companies appear): the schema gives them
# no fixed domain.
OPEN_ENDED_FEATURE_KEYS = ['company']
VOCAB_SIZE = 200
MISSING_TOKEN = '(missing)'
OOV_BUCKETS = 5

# Coordinates: z-scored values, and quantile buckets with one extra bucket
# for a missing value (crossed into map cells below).
PICKUP_LATLON = ('pickup_latitude', 'pickup_longitude')
DROPOFF_LATLON = ('dropoff_latitude', 'dropoff_longitude')
COORDINATE_FEATURE_KEYS = [*PICKUP_LATLON, *DROPOFF_LATLON]
COORDINATE_BUCKETS = 12
# Chicago's bounding box, with a margin: the schema's coordinate domains.
LATITUDE_RANGE = (41.5, 42.2)
LONGITUDE_RANGE = (-88.1, -87.4)

# Whether a tip clears 20% depends on the fare level and on how each payment
# method and meter vendor (company) computes its suggested tips.
FARE_BUCKETS = 10
FARE_CROSSED_KEYS = ['payment_type', 'company']

# Derived (crossed) features.
PICKUP_CELL_KEY = 'pickup_cell'
DROPOFF_CELL_KEY = 'dropoff_cell'
HOUR_OF_WEEK_KEY = 'hour_of_week'

# The Evaluator reports metrics per value of each of these (cash tips go
# unrecorded: payment type is its own story), besides overall.
SLICE_FEATURE_KEYS = ['payment_type', HOUR_KEY]

# Every raw column the pipeline needs; a data source lacking one is rejected.
REQUIRED_COLUMNS = sorted({
    TIPS_KEY, FARE_KEY, *LOG_NUMERIC_FEATURE_KEYS, *CATEGORICAL_FEATURE_RANGES,
    *VOCAB_FEATURE_KEYS, *COORDINATE_FEATURE_KEYS
})


def transformed_name(key: str) -> str:
  """The name of the transformed feature made from raw feature `key`."""
  return key + '_xf'


def bucket_name(key: str) -> str:
  """The name of the quantile-bucket feature made from raw feature `key`."""
  return transformed_name(key + '_bucket')


def fare_cross_name(key: str) -> str:
  """The name of the cross of raw feature `key` with the fare buckets."""
  return transformed_name(f'{key}_x_fare')


def id_count(key: str) -> int:
  """Number of ids (0 included) of categorical feature `key`."""
  return CATEGORICAL_FEATURE_RANGES[key].stop


def coordinate_range(key: str) -> tuple:
  """(low, high) of the real values of coordinate feature `key`."""
  return LATITUDE_RANGE if key.endswith('latitude') else LONGITUDE_RANGE


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

  Returns:
    Transformed feature name -> number of ids.
  """
  sizes = {transformed_name(k): id_count(k) for k in CATEGORICAL_FEATURE_RANGES}
  sizes.update({
      transformed_name(k): vocabulary_sizes[k] + OOV_BUCKETS
      for k in VOCAB_FEATURE_KEYS
  })
  sizes.update(
      {bucket_name(k): COORDINATE_BUCKETS + 1 for k in COORDINATE_FEATURE_KEYS})
  sizes[transformed_name(PICKUP_CELL_KEY)] = (COORDINATE_BUCKETS + 1)**2
  sizes[transformed_name(DROPOFF_CELL_KEY)] = (COORDINATE_BUCKETS + 1)**2
  sizes[transformed_name(HOUR_OF_WEEK_KEY)] = (
      id_count(HOUR_KEY) * id_count(WEEKDAY_KEY))
  sizes[bucket_name(FARE_KEY)] = FARE_BUCKETS + 1
  for key in FARE_CROSSED_KEYS:
    sizes[fare_cross_name(key)] = sizes[transformed_name(key)] * (
        FARE_BUCKETS + 1)
  return sizes
