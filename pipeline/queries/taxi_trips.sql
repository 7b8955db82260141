-- One span of the Chicago taxi trips table in the bundled CSV's columns
-- (pipeline/query_spans.py names the table and the period; TFX fills
-- in the span's first second).
SELECT
  pickup_community_area,
  fare,
  EXTRACT(MONTH FROM trip_start_timestamp) AS trip_start_month,
  EXTRACT(HOUR FROM trip_start_timestamp) AS trip_start_hour,
  EXTRACT(DAYOFWEEK FROM trip_start_timestamp) AS trip_start_day,
  UNIX_SECONDS(trip_start_timestamp) AS trip_start_timestamp,
  pickup_latitude,
  pickup_longitude,
  dropoff_latitude,
  dropoff_longitude,
  trip_miles,
  pickup_census_tract,
  dropoff_census_tract,
  payment_type,
  company,
  trip_seconds,
  dropoff_community_area,
  tips
FROM `{table}`
WHERE TIMESTAMP_TRUNC(trip_start_timestamp, {period})
  = TIMESTAMP_SECONDS(@span_begin_timestamp)
