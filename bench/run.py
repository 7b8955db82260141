"""make bench: this pipeline and the TFX taxi template, measured side by side.

The TFX taxi template and this pipeline run in alternating pairs on the same
data at each scale; results go into docs/performance.md.

    python -m bench.run [--scales 1 10 100] [--pairs N] [--work-dir DIR]
"""

import argparse
import json
import os
from pathlib import Path
import shutil
import sys

from bench import doc_tables
from bench import measure
from bench import scaled_data
from bench import template
from local import paths
from pipeline import configs

DOC = configs.PROJECT_ROOT / 'docs' / 'performance.md'
_START, _END = '<!-- bench:start -->', '<!-- bench:end -->'
# The block of `--alone` sittings: ours alone, how each component grows.
_ALONE_START, _ALONE_END = '<!-- bench-alone:start -->', '<!-- bench-alone:end -->'
_VENV_BIN = Path(sys.executable).parent
# Pairs (template, then ours) per scale: this machine's run-to-run noise is
# larger than the gaps measured, so the table shows medians; at 100x one pair
# is most of the bench's time.
PAIRS = {1: 3, 10: 3, 100: 1}
# Above this scale ours runs alone: the template's run would take hours and
# compares nothing the smaller scales do not.
TEMPLATE_MAX_SCALE = 100



def bench_env() -> dict:
  """The environment of a measured run, without the Makefile's settings.

  The caller's environment, without the settings this project's Makefile
  exports (local_runner.py sets what it needs).
  """
  env = dict(os.environ, PATH=f'{_VENV_BIN}:{os.environ["PATH"]}')
  for name in ('PYTHONPATH', 'DATA_PATH', 'OUTPUT_DIR', 'TF_USE_LEGACY_KERAS',
               'PYTHONDONTWRITEBYTECODE'):
    env.pop(name, None)
  return env


def _template_env() -> dict:
  """The environment of the template's runs: Keras 3, as generated.

  The template as generated: Keras 3, as its users run it (with
  TF_USE_LEGACY_KERAS, AutoGraph converts Keras 2 in its Trainer: ~25 s
  more). NO_GCE_CHECK stops google.auth probing for a Google Cloud metadata
  server: the template's fastest configuration, and the one measured.
  """
  return dict(bench_env(), NO_GCE_CHECK='True')


def _result(run: measure.Run, metadata_db: Path, log: Path, run_dir: Path,
            trained: bool = True) -> dict:
  if run.returncode != 0:
    raise SystemExit(f'error: the run failed (exit {run.returncode}); see {log}')
  executions = measure.newest_run_executions(metadata_db)
  result = {'wall_seconds': run.wall_seconds,
            'peak_memory_mb': run.peak_memory_mb,
            'components': measure.component_seconds(executions),
            'component_peak_mb': measure.step_peak_memory_mb(executions, run)}
  if trained:
    result.update(measure.eval_quality(metadata_db, run_dir))
  return result


def median_run(runs: list) -> dict:
  """The run of median wall time, with figures from every run.

  It carries every run's wall time and the largest peak memory of them all.

  Args:
    runs: _result()s of one pipeline at one scale (an odd number of them
      gives the true median; an even number the upper one).

  Returns:
    That run's result, plus 'wall_runs' (seconds, in the order run).
  """
  by_wall = sorted(runs, key=lambda run: run['wall_seconds'])
  median = dict(by_wall[len(runs) // 2])
  median['wall_runs'] = [run['wall_seconds'] for run in runs]
  median['peak_memory_mb'] = max(run['peak_memory_mb'] for run in runs)
  return median


def run_template(work: Path, data_csv: Path) -> dict:
  project = template.copy_template(_VENV_BIN / 'tfx', work / 'template',
                                   data_csv)
  log = work / 'template.log'
  run = measure.run_measured([sys.executable, 'local_runner.py'], project,
                             _template_env(), log)
  return _result(run, project / 'tfx_metadata' / 'template' / 'metadata.db',
                 log, project)


def run_ours(work: Path, data_dir: Path, name: str, trained=True) -> dict:
  outputs = work / 'ours'
  env = dict(bench_env(), DATA_PATH=str(data_dir), OUTPUT_DIR=str(outputs))
  log = work / f'{name}.log'
  run = measure.run_measured(
      [sys.executable, str(configs.PROJECT_ROOT / 'local_runner.py')],
      configs.PROJECT_ROOT, env, log)
  return _result(run, paths.LocalPaths(outputs).metadata_path, log,
                 configs.PROJECT_ROOT, trained)


def write_doc(results: dict, command: str):
  generated = '\n'.join([
      _START, '', f'Machine: {doc_tables.machine()}.', '',
      f'Reproduce: `{command}`. Each scale runs the template and ours in '
      'alternating pairs, template first. wall s: the whole '
      '`local_runner.py` process, imports included; the median run, in '
      'brackets the range over the runs and their number. vs template: '
      'median against median, in brackets the range of the pairs\' ratios. '
      'peak memory: the most the process and its child processes held at '
      'once (proportional set size, sampled every 1 s), the largest of the '
      'runs. Component columns: executor seconds from ML Metadata, of the '
      'median run (ours runs the ServingCheck after the Evaluator, and '
      "StatisticsGen, Transform's analysis and the Evaluator without Beam). "
      'accuracy and AUC: the trained model through its serving '
      "signature on the run's own eval split (same code for both).", '',
      doc_tables.table(results), '',
      *(['Serving: the 1x model in a fresh process pinned to one core, as '
         'the serving check loads it (pipeline/components/serving_check/'
         'probe.py), eval rows:', '',
         doc_tables.latency_table(results['1']['serving_latency']), '']
        if 'serving_latency' in results.get('1', {}) else []),
      _END])
  replace_block(_START, _END, generated)


def write_alone_doc(results: dict, command: str):
  """The `--alone` sitting's block: ours at each scale and its growth."""
  replace_block(_ALONE_START, _ALONE_END, '\n'.join([
      _ALONE_START, '',
      f'Machine: {doc_tables.machine()}. Reproduce: `{command}`.', '',
      doc_tables.table(results), '',
      *(['Growth between the two largest scales (shown for figures of at '
         'least 0.5 s):', '', doc_tables.growth_table(results), '']
        if len(results) > 1 else []),
      _ALONE_END]))


def replace_block(start: str, end: str, generated: str):
  text = DOC.read_text()
  before, rest = text.split(start, 1)
  DOC.write_text(before + generated + rest.split(end, 1)[1])


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--scales', type=int, nargs='+', default=[1, 10, 100])
  parser.add_argument('--pairs', type=int,
                      help='pairs per scale (default: PAIRS, else 1)')
  parser.add_argument('--work-dir', type=Path,
                      default=configs.DEFAULT_OUTPUT_DIR / 'bench')
  parser.add_argument('--alone', action='store_true',
                      help='ours alone at every scale, how each component '
                      'grows, in a block of its own')
  args = parser.parse_args(argv)
  # Scales not run this time keep their last figures: each scale compares
  # two runs of one sitting, so scales may come from different sittings.
  results_file = args.work_dir / ('alone.json' if args.alone
                                  else 'results.json')
  results = (json.loads(results_file.read_text())
             if results_file.exists() else {})
  for scale in args.scales:
    work = args.work_dir / f'{scale}x{"-alone" if args.alone else ""}'
    if work.exists():
      shutil.rmtree(work)
    data_dir = work / 'data'
    rows = scaled_data.write_scaled(paths.DEFAULT_DATA_PATH / 'data.csv',
                                    data_dir / 'data.csv', scale)
    print(f'{scale}x: {rows:,} rows', flush=True)
    entry = {'rows': rows}
    runs = {'template': [], 'ours': []}
    for pair in range(1, (args.pairs or PAIRS.get(scale, 1)) + 1):
      pair_dir = work / f'pair-{pair}'
      pair_dir.mkdir()
      if scale <= TEMPLATE_MAX_SCALE and not args.alone:
        runs['template'].append(run_template(pair_dir, data_dir / 'data.csv'))
      runs['ours'].append(run_ours(pair_dir, data_dir, 'ours'))
      print(f'  pair {pair}: ' + ', '.join(
          f'{name} {each[-1]["wall_seconds"]:.0f} s'
          for name, each in runs.items() if each), flush=True)
    entry.update({name: median_run(each) for name, each in runs.items()
                  if each})
    if scale == 1 and not args.alone:
      entry['serving_latency'] = measure.serving_latency(
          paths.LocalPaths(pair_dir / 'ours').metadata_path,
          configs.PROJECT_ROOT, pair_dir)
      entry['rerun'] = run_ours(pair_dir, data_dir, 'ours-rerun',
                                trained=False)
      print(f'  ours, unchanged re-run: {entry["rerun"]["wall_seconds"]:.0f} s',
            flush=True)
    results[str(scale)] = entry
    results_file.write_text(json.dumps(results, indent=1))
  results = dict(sorted(results.items(), key=lambda item: int(item[0])))
  scales = ' '.join(results)
  if args.alone:
    write_alone_doc(results, f'make bench-alone ALONE_SCALES="{scales}"')
  else:
    write_doc(results, f'make bench SCALES="{scales}"')
  print(doc_tables.table(results))
  print(f'Written to {DOC}')
  return 0


if __name__ == '__main__':
  sys.exit(main())
