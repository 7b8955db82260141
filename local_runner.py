"""Runs the taxi-tips pipeline on this machine.

TFX's LocalDagRunner (launching independent steps side by side:
local/dag_runner.py), Beam's DirectRunner and a SQLite ML Metadata store: no
cluster or cloud account needed. With no arguments it trains on data/ and
writes everything under outputs/; DATA_PATH and OUTPUT_DIR (or the flags) move
them. Also the file for
`tfx pipeline create --engine=local --pipeline_path=...`.
"""

import os

# TFT and TFMA need Keras 2; this must be set before TensorFlow first loads.
os.environ.setdefault('TF_USE_LEGACY_KERAS', '1')
# TensorFlow's C++ start-up notices (no GPU, no TensorRT) are not news here.
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

import argparse
import logging
from pathlib import Path
import re
import sys
import time

from absl import logging as absl_logging

from local import data_source
from local import paths as local_paths
from local import run_lock
from local import span_check
from local import startup
from models import features
from pipeline import configs
from pipeline import spans


def _parse_args(argv):
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument(
      '--data',
      type=Path,
      default=local_paths.data_path_from_env(),
      help='a CSV file or a folder of them (default: $DATA_PATH or data/)')
  parser.add_argument(
      '--output-dir',
      type=Path,
      default=configs.output_dir_from_env(),
      help='root of every output (default: $OUTPUT_DIR or outputs/)')
  parser.add_argument(
      '--span',
      type=spans.parse,
      help='train with this span as the newest (a backfill, or a re-run of '
      'a period); default: the newest span, and nothing to do if the '
      'serving model was trained on it')
  parser.add_argument(
      '--infer-schema',
      action='store_true',
      help='let SchemaGen infer the schema instead of using the curated one')
  parser.add_argument(
      '--with-beam',
      action='store_true',
      help="TFX's own StatisticsGen, Transform and Evaluator (Beam), as on "
      'a cluster, instead of the same steps computed in process: for a '
      'preprocessing_fn or eval config those refuse, or to rehearse a '
      'cluster run')
  return parser.parse_args(argv)


_PROGRESS = re.compile(r'Component \S+ is (running|finished)')


def _console_filter(record: logging.LogRecord) -> bool:
  """Whether the console shows a record: component progress and errors.

  Tracebacks go to the log file only.
  """
  return ((record.levelno >= logging.ERROR and not record.exc_info) or
          bool(_PROGRESS.match(record.getMessage())))


def _log_to_file(log_dir: Path) -> Path:
  """Full log to a new file under log_dir, progress to the console."""
  log_dir.mkdir(parents=True, exist_ok=True)
  log_file = log_dir / time.strftime('run-%Y%m%d-%H%M%S.log')
  to_file = logging.FileHandler(log_file)
  to_file.setFormatter(
      logging.Formatter('%(asctime)s %(levelname)s %(name)s: %(message)s'))
  to_console = logging.StreamHandler()
  to_console.addFilter(_console_filter)
  # With handlers on the root logger, libraries' basicConfig() calls add none.
  logging.basicConfig(level=logging.INFO, handlers=[to_file, to_console])
  logging.captureWarnings(True)  # library deprecation warnings go to the file
  # Explicitly, not only by default: TensorFlow's SavedModel export silences
  # absl and then restores the verbosity *flag*, WARNING unless set, which
  # cut every INFO record (progress too) after the Trainer's export.
  absl_logging.set_verbosity(absl_logging.INFO)
  return log_file


def _create_pipeline(args, source, paths):
  """create_pipeline(...) for this machine's data, outputs and ML Metadata."""
  from tfx.orchestration import metadata  # pylint: disable=g-import-not-at-top
  from pipeline import pipeline as pipeline_lib  # pylint: disable=g-import-not-at-top
  return pipeline_lib.create_pipeline(
      pipeline_name=configs.PIPELINE_NAME,
      pipeline_root=str(paths.pipeline_root),
      data_root=str(source.input_base),
      data_pattern=source.pattern,
      newest_span=args.span,
      without_beam=not args.with_beam,
      serving_model_dir=str(paths.serving_model_dir),
      schema_path=None if args.infer_schema else str(configs.SCHEMA_PATH),
      metadata_connection_config=metadata.sqlite_metadata_connection_config(
          str(paths.metadata_path)))


def _report(paths, started: float, failure, log_file: Path) -> int:
  """Prints the run's summary and report (and why it failed).

  Returns the exit status.
  """
  # pylint: disable=g-import-not-at-top
  from local import html_report
  from local import run_summary
  from models import push_destination
  from pipeline.components import data_errors
  # pylint: enable=g-import-not-at-top
  summary = run_summary.latest_run(str(paths.metadata_path), since=started)
  if failure:
    # The data's fault: its reason; else what was raised, in short.
    first_line = (str(failure).splitlines() or [''])[0]
    reason = (data_errors.find_data_error(failure) or
              f'{type(failure).__name__}: {first_line}')
    if summary:
      print(run_summary.format_summary(summary))
      print(f'Report: {html_report.write_report(summary, paths, reason)}')
    print(f'error: {reason}', file=sys.stderr)
    print(f'error: the pipeline run failed; full log: {log_file}',
          file=sys.stderr)
    return 1
  if summary:
    print(run_summary.format_summary(summary))
    latest = push_destination.latest_version_dir(str(paths.serving_model_dir))
    if latest and not summary.pushed_model:  # e.g. a re-run, all cached
      print(f'Serving model (newest pushed version): {latest}')
    print(f'Log: {log_file}')
    print(f'Report: {html_report.write_report(summary, paths)}')
  else:  # `tfx pipeline create` only inspected the pipeline: no run to log
    logging.shutdown()
    log_file.unlink()
  return 0


def main(argv=None) -> int:
  """Checks the data source, runs the pipeline and prints its report.

  Args:
    argv: the command line without the program name; None reads sys.argv.

  Returns:
    The exit status: 0 done, 1 the run failed (or the data gate stopped it),
    2 a bad data source or span, 3 another run is using the output folder.
    No new span is not an error: 0, with one line.
  """
  args = _parse_args(argv)
  try:
    source = data_source.check_csv_source(args.data, features.REQUIRED_COLUMNS)
  except data_source.DataSourceError as e:
    print(f'error: {e}', file=sys.stderr)
    return 2
  if args.span is not None and args.span not in source.spans:
    print(f'error: no span {args.span} under {source.input_base} (spans: '
          f'{", ".join(map(str, source.spans))})', file=sys.stderr)
    return 2

  paths = local_paths.LocalPaths(args.output_dir.resolve())
  try:
    lock = run_lock.acquire(paths.lock_file)  # pylint: disable=unused-variable
  except run_lock.RunInProgress as e:
    print(f'error: {e}', file=sys.stderr)
    return 3
  if args.span is None:
    nothing_new = span_check.nothing_new(source, paths)
    if nothing_new:
      print(nothing_new)
      return 0
  log_file = _log_to_file(paths.log_dir)
  with startup.quick_start():
    # Imported only after the checks above: TensorFlow takes seconds to load.
    from local import dag_runner
    tfx_pipeline = _create_pipeline(args, source, paths)

  started = time.time()
  try:
    dag_runner.ConcurrentDagRunner().run(tfx_pipeline)
    failure = None
  except Exception as e:  # pylint: disable=broad-except
    # The traceback goes to the log; the report below names the failed node.
    logging.getLogger(__name__).exception('The pipeline run failed.')
    failure = e
  return _report(paths, started, failure, log_file)


if __name__ == '__main__':
  sys.exit(main())
