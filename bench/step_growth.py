"""make bench-growth: how each data-sized step's own time grows with the rows.

In a whole run at 1000x (`make bench-alone`) each step is timed 15 to 20
minutes after the same step at 100x, and this machine's speed swings by
more than the margin to be shown within such a span (docs/performance.md).
Here each step whose work grows with the rows is re-run alone from the last
bench-alone runs of the two largest scales (bench/step_rerun.py), in
windows of about equal length: the smaller scale's step as many times in a
row as the larger has times its rows, then the larger's once, then the
smaller's again. Each larger run is divided by the mean smaller run of the
windows on either side of it. Windows of equal length matter: a run of
seconds can fall in a fast spell of this machine that a run of minutes
averages out.

    python -m bench.step_growth [--rounds N] [--work-dir DIR]
"""

import argparse
import json
from pathlib import Path
import shutil
import statistics
import subprocess
import sys

from bench import doc_tables
from bench import run
from local import paths
from pipeline import configs

# The steps whose work grows with the rows; the Trainer's steps and the
# serving check's rows are fixed in configs.
DATA_SIZED_STEPS = ('CsvExampleGen', 'StatisticsGen', 'Transform', 'Evaluator')
_START, _END = '<!-- bench-growth:start -->', '<!-- bench-growth:end -->'


def _window(scale_dir: Path, step: str, times: int, output_dir: Path) -> list:
  """The step of scale_dir's first run, re-run times in a row: each's figures."""
  metadata_db = paths.LocalPaths(scale_dir / 'pair-1' / 'ours').metadata_path
  shutil.rmtree(output_dir, ignore_errors=True)  # an interrupted bench's
  try:
    done = subprocess.run(
        [sys.executable, '-m', 'bench.step_rerun', str(metadata_db), step,
         str(output_dir), '--times', str(times)], cwd=configs.PROJECT_ROOT,
        env=run.bench_env(), capture_output=True, text=True, check=False)
  finally:
    shutil.rmtree(output_dir, ignore_errors=True)
  if done.returncode:
    raise SystemExit(f'error: re-running {step} of {scale_dir} failed:\n'
                     f'{done.stderr[-3000:]}')
  return json.loads(done.stdout.splitlines()[-1])


def measure_step(small: Path, large: Path, step: str, repeat: int,
                 rounds: int, work: Path) -> dict:
  """{'small': [window, ...], 'large': [window, ...]}, windows alternating.

  A small window runs the step repeat times, a large one once; the first
  and the last window are small.
  """
  output_dir = work / step
  windows = {'small': [_window(small, step, repeat, output_dir)],
             'large': []}
  for _ in range(rounds):
    windows['large'].append(_window(large, step, 1, output_dir))
    windows['small'].append(_window(small, step, repeat, output_dir))
    print(f'  {step}: ' + ', '.join(
        f'{size} {_mean(each[-1], wall_seconds):.1f} s'
        for size, each in windows.items()), flush=True)
  return windows


def cpu_seconds(figures: dict) -> float:
  return figures['user_seconds'] + figures['system_seconds']


def wall_seconds(figures: dict) -> float:
  return figures['wall_seconds']


def _mean(window: list, of) -> float:
  return statistics.mean(of(figures) for figures in window)


def growth(windows: dict, of) -> list:
  """Each large window's mean run over the mean of the small ones beside it."""
  small = [_mean(window, of) for window in windows['small']]
  return [_mean(window, of) / ((small[i] + small[i + 1]) / 2)
          for i, window in enumerate(windows['large'])]


def growth_table(results: dict) -> str:
  small, large = results['scales']
  lines = [f'| step (rows: {results["rows_ratio"]:.0f}x) | s {small}x | '
           f's {large}x | grew | CPU s {small}x | CPU s {large}x | '
           'CPU grew |', '| --- | --- | --- | --- | --- | --- | --- |']

  def cells(windows: dict, of) -> list:
    return [', '.join(f'{_mean(window, of):,.1f}'
                      for window in windows[size])
            for size in ('small', 'large')] + [
                ', '.join(f'{ratio:.1f}x' for ratio in growth(windows, of))]

  for step, windows in results['steps'].items():
    row = cells(windows, wall_seconds) + cells(windows, cpu_seconds)
    lines.append(f'| {step} | {" | ".join(row)} |')
  return '\n'.join(lines)


def write_doc(results: dict, rounds: int):
  small, large = results['scales']
  run.replace_block(_START, _END, '\n'.join([
      _START, '',
      f'Machine: {doc_tables.machine()}. Reproduce: `make bench-growth '
      f'ROUNDS={rounds}` after `make bench-alone ALONE_SCALES="{small} '
      f'{large}"`. Each step alone, in windows alternating: the {small}x '
      f'step {results["repeat"]} times in a row, the {large}x step once. '
      f's: the mean run of each window, in the order run. grew: each '
      f'{large}x run over the mean of the {small}x windows on either '
      "side. CPU s: user and system CPU time of the step's process while "
      'the step ran.', '',
      growth_table(results), '', _END]))


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--rounds', type=int, default=1,
                      help='windows at the larger scale per step')
  parser.add_argument('--work-dir', type=Path,
                      default=configs.DEFAULT_OUTPUT_DIR / 'bench')
  args = parser.parse_args(argv)
  alone_file = args.work_dir / 'alone.json'
  alone = json.loads(alone_file.read_text()) if alone_file.exists() else {}
  scales = sorted(alone, key=int)[-2:]
  dirs = [args.work_dir / f'{scale}x-alone' for scale in scales]
  if len(scales) < 2 or not all(d.exists() for d in dirs):
    raise SystemExit('error: no bench-alone runs at two scales to re-run; '
                     'run `make bench-alone` first')
  rows_ratio = alone[scales[1]]['rows'] / alone[scales[0]]['rows']
  results = {'scales': scales, 'rows_ratio': rows_ratio,
             'repeat': round(rows_ratio), 'steps': {}}
  for step in DATA_SIZED_STEPS:
    results['steps'][step] = measure_step(
        *dirs, step, results['repeat'], args.rounds, args.work_dir / 'growth')
    (args.work_dir / 'growth.json').write_text(json.dumps(results, indent=1))
  write_doc(results, args.rounds)
  print(growth_table(results))
  print(f'Written to {run.DOC}')
  return 0


if __name__ == '__main__':
  sys.exit(main())
