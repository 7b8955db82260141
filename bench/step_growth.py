"""make bench-growth: how each data-sized step's own time grows with the rows.

In a whole run at 1000x (`make bench-alone`) each step is timed 15 to 20
minutes after the same step at 100x, and this machine's speed swings by
more than that growth's margin within such a span (docs/performance.md).
Here each step whose work grows with the rows is re-run alone from the last
bench-alone runs of the two largest scales (bench/step_rerun.py), in a fresh
process each time, the scales alternating: small, large, small, large,
small. The fastest run at each scale is the one least slowed by the
machine; the growth is the fastest large run over the fastest small one.

    python -m bench.step_growth [--rounds N] [--work-dir DIR]
"""

import argparse
import json
from pathlib import Path
import shutil
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


def _rerun(scale_dir: Path, step: str, output_dir: Path) -> dict:
  """One timed re-run of the step of scale_dir's first run; outputs dropped."""
  metadata_db = paths.LocalPaths(scale_dir / 'pair-1' / 'ours').metadata_path
  try:
    done = subprocess.run(
        [sys.executable, '-m', 'bench.step_rerun', str(metadata_db), step,
         str(output_dir)], cwd=configs.PROJECT_ROOT, env=run.bench_env(),
        capture_output=True, text=True, check=False)
  finally:
    shutil.rmtree(output_dir, ignore_errors=True)
  if done.returncode:
    raise SystemExit(f'error: re-running {step} of {scale_dir} failed:\n'
                     f'{done.stderr[-3000:]}')
  return json.loads(done.stdout.splitlines()[-1])


def measure_step(small: Path, large: Path, step: str, rounds: int,
                 work: Path) -> dict:
  """{'small': [figures], 'large': [figures]}, rounds large runs each
  between two small ones."""
  runs = {'small': [], 'large': []}
  for index in range(rounds):
    runs['small'].append(_rerun(small, step, work / f'{step}-small-{index}'))
    runs['large'].append(_rerun(large, step, work / f'{step}-large-{index}'))
    print(f'  {step}: ' + ', '.join(
        f'{size} {figures[-1]["wall_seconds"]:.1f} s'
        for size, figures in runs.items()), flush=True)
  runs['small'].append(_rerun(small, step, work / f'{step}-small-{rounds}'))
  return runs


def _cpu(figures: dict) -> float:
  return figures['user_seconds'] + figures['system_seconds']


def _wall(figures: dict) -> float:
  return figures['wall_seconds']


def _seconds(runs: list, of) -> str:
  values = [of(figures) for figures in runs]
  return f'{min(values):,.1f}-{max(values):,.1f}'


def _growth(runs: dict, of) -> str:
  """The fastest large run over the fastest small one."""
  fastest = {size: min(of(figures) for figures in each)
             for size, each in runs.items()}
  return f'{fastest["large"] / fastest["small"]:.1f}x'


def growth_table(results: dict) -> str:
  small, large = results['scales']
  lines = [f'| step (rows: {results["rows_ratio"]:.0f}x) | s {small}x | '
           f's {large}x | grew | CPU s {small}x | CPU s {large}x | '
           'CPU grew |', '| --- | --- | --- | --- | --- | --- | --- |']
  for step, runs in results['steps'].items():
    cells = [_seconds(runs['small'], _wall), _seconds(runs['large'], _wall),
             _growth(runs, _wall), _seconds(runs['small'], _cpu),
             _seconds(runs['large'], _cpu), _growth(runs, _cpu)]
    lines.append(f'| {step} | {" | ".join(cells)} |')
  return '\n'.join(lines)


def write_doc(results: dict, rounds: int):
  small, large = results['scales']
  run.replace_block(_START, _END, '\n'.join([
      _START, '',
      f'Machine: {doc_tables.machine()}. Reproduce: `make bench-growth '
      f'ROUNDS={rounds}` after `make bench-alone ALONE_SCALES="{small} '
      f'{large}"`. Each step alone in a fresh process, {small}x and {large}x '
      f'alternating ({rounds + 1} runs at {small}x, {rounds} at {large}x): '
      'the fastest and the slowest run. grew: the fastest run at '
      f'{large}x over the fastest at {small}x (this machine only ever '
      'slows a run down). CPU s: user and system CPU time of the '
      "step's process while the step ran.", '',
      growth_table(results), '', _END]))


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--rounds', type=int, default=2,
                      help='runs at the larger scale per step')
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
  results = {'scales': scales,
             'rows_ratio': alone[scales[1]]['rows'] / alone[scales[0]]['rows'],
             'steps': {}}
  for step in DATA_SIZED_STEPS:
    results['steps'][step] = measure_step(*dirs, step, args.rounds,
                                          args.work_dir / 'growth')
    (args.work_dir / 'growth.json').write_text(json.dumps(results, indent=1))
  write_doc(results, args.rounds)
  print(growth_table(results))
  print(f'Written to {run.DOC}')
  return 0


if __name__ == '__main__':
  sys.exit(main())
