"""Watch scheduled retraining happen on the bundled sample, span by span.

The bundled sample (trips of 2013 to 2016) is cut into half-year spans
(local/span_data.py), and the pipeline runs once per arriving span, as a
daily schedule would run it.

    make demo        # or: .venv/bin/python -m local.retraining_demo

Each run prints the spans it trained on, the candidate and the serving model
on the newest span's eval rows, and whether the candidate was pushed; a last
run with no new span does nothing. The first run starts with two spans: one
half-year is too little to train a first model worth serving.
"""

import os

# Keras 2 for the models it reads back; TensorFlow's start-up notices are not
# the demo's news.
os.environ.setdefault('TF_USE_LEGACY_KERAS', '1')
os.environ['TF_CPP_MIN_LOG_LEVEL'] = '3'

import argparse
import csv
import logging
from pathlib import Path
import subprocess
import sys
import time
import warnings

from local import paths as local_paths
from local import span_data
from pipeline import configs
from pipeline import spans as spans_lib

DEFAULT_DIR = configs.DEFAULT_OUTPUT_DIR / 'demo'
FIRST_SPANS = 2


def _run(data_root: Path, output_dir: Path) -> subprocess.CompletedProcess:
  return subprocess.run(
      [sys.executable, str(configs.PROJECT_ROOT / 'local_runner.py'),
       '--data', str(data_root), '--output-dir', str(output_dir)],
      capture_output=True, text=True, check=False)


def _describe(output_dir: Path, started: float) -> str:
  """One line: what the run trained on, how the models compared, pushed."""
  from local import run_summary  # pylint: disable=g-import-not-at-top
  from pipeline import spans  # pylint: disable=g-import-not-at-top
  from pipeline.metrics import eval_results  # pylint: disable=g-import-not-at-top
  summary = run_summary.latest_run(
      str(local_paths.LocalPaths(output_dir).metadata_path), since=started)
  line = f'trained on {spans.describe(summary.spans)}'
  if summary.evaluation:
    models = eval_results.overall_metrics(summary.evaluation)
    compared = '; '.join(
        f'{"serving model" if name == "baseline" else "candidate"} AUC '
        f'{metrics["auc"]:.3f}' for name, metrics in sorted(
            models.items(), key=lambda m: m[0] == 'baseline'))
    line += f'; on span {summary.spans[-1]}\'s eval rows: {compared}'
  if summary.pushed_model:
    return f'{line} -> pushed {summary.pushed_model}'
  reasons = (eval_results.failed_checks(summary.evaluation)
             if summary.evaluation and summary.blessed is False else [])
  return f'{line} -> not pushed{": " + "; ".join(reasons) if reasons else ""}'


def main(argv=None) -> int:
  """Cuts the sample into spans and runs the pipeline span after span.

  Args:
    argv: the command line without the program name.

  Returns:
    0, or 1 if a run failed, 2 if the output folder already exists.
  """
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--output-dir', type=Path, default=DEFAULT_DIR,
                      help=f'a new folder for the spans and the runs '
                      f'(default: {DEFAULT_DIR})')
  args = parser.parse_args(argv)
  warnings.filterwarnings('ignore', category=FutureWarning)
  logging.getLogger('tensorflow').setLevel(logging.ERROR)
  root = args.output_dir.resolve()
  if root.exists():
    print(f'error: {root} exists; remove it or pass --output-dir',
          file=sys.stderr)
    return 2
  data_root, output_dir = root / 'data', root / 'outputs'
  with open(local_paths.DEFAULT_DATA_PATH / 'data.csv', newline='') as f:
    cut = span_data.cut(list(csv.DictReader(f)))
  print(f'The bundled sample as {len(cut)} spans of half a year '
        f'({", ".join(f"{len(rows):,}" for rows in cut)} trips), under '
        f'{data_root}; every run trains on the newest few and is evaluated '
        'on the newest.')
  for newest in range(FIRST_SPANS, len(cut) + 1):
    for span in range(1, newest + 1):
      if not (data_root / f'{spans_lib.PREFIX}{span}').exists():
        span_data.write_span(cut[span - 1], data_root, span)
    started = time.time()
    result = _run(data_root, output_dir)
    if result.returncode:
      print(f'span {newest} arrived: the run failed:\n{result.stderr}')
      return 1
    print(f'span {newest} arrived: {_describe(output_dir, started)}')
  result = _run(data_root, output_dir)
  print(f'no new span: {result.stdout.strip()}')
  report = local_paths.LocalPaths(output_dir).report_dir / 'latest.html'
  print(f'The last training run\'s report: {report}')
  return result.returncode


if __name__ == '__main__':
  sys.exit(main())
