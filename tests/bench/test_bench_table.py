"""make bench's summary of alternating pairs: medians, ranges and ratios."""

from bench import doc_tables
from bench import run
from bench import step_growth


def _run(wall, memory):
  return {'wall_seconds': wall, 'peak_memory_mb': memory, 'components': {}}


def test_the_median_run_keeps_every_wall_time_and_the_largest_peak():
  median = run.median_run([_run(60, 1000), _run(70, 1050), _run(55, 990)])
  assert median['wall_seconds'] == 60
  assert median['wall_runs'] == [60, 70, 55]
  assert median['peak_memory_mb'] == 1050


def test_the_table_shows_medians_and_each_pairs_ratio_range():
  results = {'1': {
      'rows': 15002,
      # Pair by pair: 40/50, 45/60, 60/70.
      'template': run.median_run([_run(50, 1000), _run(60, 1000),
                                  _run(70, 1000)]),
      'ours': run.median_run([_run(40, 900), _run(45, 900), _run(60, 900)]),
  }}
  ours_row = doc_tables.table(results).splitlines()[3]
  assert '| 45 (40-60, 3 runs) | 0.75 (0.75-0.86) |' in ours_row


def test_a_single_pair_shows_its_plain_ratio():
  results = {'100': {'rows': 1500200,
                     'template': run.median_run([_run(1000, 4000)]),
                     'ours': run.median_run([_run(200, 2000)])}}
  assert '| 200 | 0.20 |' in doc_tables.table(results).splitlines()[3]


def test_above_the_template_scale_ours_runs_alone_and_its_growth_is_shown():
  def ours(wall, memory, transform, transform_memory):
    return dict(_run(wall, memory), components={
        'InMemoryTransform': transform, 'Pusher': 0.01},
                component_peak_mb={'InMemoryTransform': transform_memory})
  results = {'100': {'rows': 1500200, 'template': _run(500, 4000),
                     'ours': ours(100, 1700, 20., 900.)},
             '1000': {'rows': 15002000, 'ours': ours(1100, 2500, 250., 990.)}}
  lines = doc_tables.table(results).splitlines()
  assert len(lines) == 5 and '| 15,002,000 | ours | 1100 | not run |' in (
      lines[4])
  growth = doc_tables.growth_table(results).splitlines()
  assert growth[0] == ('| ours (rows: 10x) | s 100x | s 1000x | grew | '
                       'peak MB 100x | peak MB 1000x | grew |')
  assert ('| whole run | 100.0 | 1,100.0 | 11.0x | 1,700 | 2,500 | 1.5x |'
          in growth)
  assert '| Transform | 20.0 | 250.0 | 12.5x | 900 | 990 | 1.1x |' in growth
  # Too short to divide, and no memory sample while it ran.
  assert '| Pusher | 0.0 | 0.0 |  |  |  |  |' in growth


def test_each_larger_run_is_set_against_the_smaller_windows_beside_it():
  def window(*walls):
    return [{'wall_seconds': w, 'user_seconds': w, 'system_seconds': 0.}
            for w in walls]
  # Small windows of mean 20 and 30 s around a large run of 250 s.
  windows = {'small': [window(18, 22), window(30, 30)],
             'large': [window(250)]}
  [grew] = step_growth.growth(windows, step_growth.wall_seconds)
  assert grew == 10.0
  results = {'scales': ['100', '1000'], 'rows_ratio': 10.0, 'repeat': 2,
             'steps': {'Transform': windows}}
  assert step_growth.growth_table(results).splitlines()[2] == (
      '| Transform | 20.0, 30.0 | 250.0 | 10.0x | 20.0, 30.0 | 250.0 | 10.0x |')
