"""taxi-tips: the pushed models, their predictions and the run reports.

    taxi-tips models list                 versions, newest (served) first
    taxi-tips models show VERSION         its record and, locally, its lineage
    taxi-tips models rollback [VERSION]   serve VERSION (default: the previous)
    taxi-tips models prune --keep N       delete all but the newest N
    taxi-tips predict [FILE]              probabilities for CSV or JSON rows
    taxi-tips serve [--port N]            TF Serving's REST API for the
                                          model, following every push
    taxi-tips report [RUN]                a local run's HTML report (default:
                                          the newest run); --list: the runs

The models are those under --output-dir (default $OUTPUT_DIR or outputs/,
as local_runner.py) or at --push-destination (a folder or gs:// path, e.g.
what a Kubeflow run pushed); reports are of the runs under --output-dir.
Exit status: 0 done, 1 a row was refused (predict), 2 a bad request (no such
version or run, unreadable input).
"""

import os

# The pushed models need Keras 2; this must be set before TensorFlow loads.
os.environ.setdefault('TF_USE_LEGACY_KERAS', '1')
# TensorFlow's C++ start-up notices (CUDA plug-ins, at error level) would
# mix with the command's own errors on standard error.
os.environ['TF_CPP_MIN_LOG_LEVEL'] = '3'

import argparse
import io
import json
import logging
from pathlib import Path
import sys
from typing import List, Optional
import warnings

from local import paths as local_paths
from pipeline import configs
from serving.errors import RequestError


def _at_least_one(text: str) -> int:
  if not text.isdigit() or int(text) < 1:
    raise argparse.ArgumentTypeError(f'{text!r}: expected 1 or more')
  return int(text)


def _parse_args(argv):
  parser = argparse.ArgumentParser(
      prog='taxi-tips', description=__doc__.split('\n')[0],
      formatter_class=argparse.RawDescriptionHelpFormatter,
      epilog=__doc__.split('\n', 2)[2])
  where = argparse.ArgumentParser(add_help=False)
  group = where.add_mutually_exclusive_group()
  group.add_argument('--output-dir', type=Path,
                     help='a local run\'s outputs (default: $OUTPUT_DIR or '
                     'outputs/)')
  group.add_argument('--push-destination',
                     help='the folder of numbered versions (local or gs://)')
  commands = parser.add_subparsers(dest='command', required=True)

  models = commands.add_parser('models', help='list, show, roll back, prune')
  actions = models.add_subparsers(dest='action', required=True)
  actions.add_parser('list', parents=[where], help='versions, newest first')
  show = actions.add_parser('show', parents=[where],
                            help='a version\'s record and lineage')
  show.add_argument('version', type=int)
  rollback = actions.add_parser(
      'rollback', parents=[where],
      help='serve an earlier version again, as a new highest version')
  rollback.add_argument('version', type=int, nargs='?',
                        help='default: the version before the served one')
  prune = actions.add_parser('prune', parents=[where],
                             help='delete old versions, never the served one')
  prune.add_argument('--keep', type=int, required=True)

  predict = commands.add_parser(
      'predict', parents=[where],
      help='one big-tip probability per row, in input order')
  predict.add_argument('input', nargs='?', default='-',
                       help='CSV (the training header, label optional) or '
                       'JSON lines (instances); default: standard input')
  predict.add_argument('--input-format', choices=['csv', 'jsonl'],
                       help='default: from the file name or the first line')
  predict.add_argument('--output-format', choices=['csv', 'jsonl'],
                       default='csv')
  predict.add_argument('--version', type=int,
                       help='default: the served (highest) version')
  predict.add_argument('--strict', action='store_true',
                       help='answer nothing if any row is refused')

  serve = commands.add_parser(
      'serve', parents=[where],
      help='answer TF Serving REST requests with the pushed model')
  serve.add_argument('--port', type=int, default=8501,
                     help='default: %(default)s, TF Serving\'s REST port')
  serve.add_argument('--host', default='127.0.0.1',
                     help='the address to listen on (0.0.0.0: every '
                     'interface; default: this machine only)')
  serve.add_argument('--version', type=int,
                     help='serve this version only (default: the newest, '
                     'following every push and rollback)')
  serve.add_argument('--workers', type=_at_least_one, default=1,
                     help='processes answering requests, each with its own '
                     'copy of the model: one uses one core at most '
                     '(default: %(default)s)')

  report = commands.add_parser(
      'report', help='write the HTML report of a local run')
  report.add_argument('--output-dir', type=Path,
                      help='the runs\' outputs (default: $OUTPUT_DIR or '
                      'outputs/)')
  report.add_argument('run', nargs='?', help='a run id (default: the newest)')
  report.add_argument('--list', action='store_true',
                      help='list the runs, oldest first')
  return parser.parse_args(argv)


def _destination(args) -> str:
  if getattr(args, 'push_destination', None):
    return args.push_destination.rstrip('/')
  return str(local_paths.LocalPaths(_output_dir(args)).serving_model_dir)


def _output_dir(args) -> Path:
  return (args.output_dir or configs.output_dir_from_env()).resolve()


def _metrics(record: dict) -> str:
  from models import push_destination  # pylint: disable=g-import-not-at-top
  mine = push_destination.record_metrics(record)
  return (f'{mine["auc"]:.3f}  {mine["binary_accuracy"]:.3f}'
          if {'auc', 'binary_accuracy'} <= set(mine) else '-      -    ')


def _origin(record: dict) -> str:
  if 'rollback_of' in record:
    return f'rollback to version {record["rollback_of"]}'
  return f'run {record["run_id"]}' if record.get('run_id') else ''


def _list(destination: str) -> None:
  from serving import registry  # pylint: disable=g-import-not-at-top
  versions = registry.list_versions(destination)
  if not versions:
    print(f'no model has been pushed to {destination}')
    return
  print(f'{"VERSION":12} {"PUSHED":21} {"SERVED":6} {"AUC":6} ACCURACY  ORIGIN')
  for index, version in enumerate(versions):
    record = version.record
    print(f'{version.number:<12} {record.get("pushed_at", "?"):21} '
          f'{"*" if index == 0 else "":6} {_metrics(record)}     '
          f'{_origin(record)}')


def _show(args, destination: str) -> None:
  from serving import lineage  # pylint: disable=g-import-not-at-top
  from serving import registry  # pylint: disable=g-import-not-at-top
  version = registry.get(destination, args.version)
  served = registry.served(destination).number == version.number
  print(f'version {version.number}{" (served)" if served else ""}: '
        f'{version.path}')
  print(json.dumps(version.record, indent=1, sort_keys=True))
  if not args.push_destination:
    steps = lineage.lineage(
        str(local_paths.LocalPaths(_output_dir(args)).metadata_path),
        version.path)
    if steps:
      print('lineage (ML Metadata):')
      print('\n'.join(f'  {step}' for step in steps))


def _report(args) -> None:
  paths = local_paths.LocalPaths(_output_dir(args))
  if args.list:
    from local import metadata  # pylint: disable=g-import-not-at-top
    print('\n'.join(metadata.run_ids(str(paths.metadata_path))))
    return
  from local import html_report  # pylint: disable=g-import-not-at-top
  # TFMA's reader logs a TensorFlow deprecation notice on each use.
  logging.getLogger('tensorflow').setLevel(logging.ERROR)
  try:
    print(html_report.report_of_run(paths, args.run))
  except LookupError as e:
    raise RequestError(str(e)) from None


def _predict(args, destination: str) -> int:
  from serving import predict  # pylint: disable=g-import-not-at-top
  from serving import registry  # pylint: disable=g-import-not-at-top
  model_dir = (registry.served(destination) if args.version is None else
               registry.get(destination, args.version)).path
  if args.input == '-':
    name, text = None, sys.stdin.read()
  else:
    try:
      name, text = args.input, Path(args.input).read_text()
    except (OSError, UnicodeDecodeError) as e:
      raise RequestError(f'{args.input}: {e}') from None
  input_format = args.input_format or predict.guess_format(name, text[:100])
  predictor = predict.Predictor(model_dir)
  rows = list(predict.read_rows(io.StringIO(text), input_format))
  if input_format == 'csv' and rows:
    predictor.check_columns(rows[0])
  answers = list(predictor.predict(rows))
  refused = [a for _, a in answers if isinstance(a, predict.RowError)]
  for error in refused:
    print(f'error: {error}', file=sys.stderr)
  if not (refused and args.strict):
    predict.write_answers(answers, sys.stdout, args.output_format)
  return 1 if refused else 0


def _serve(args, destination: str) -> None:
  from serving import launch  # pylint: disable=g-import-not-at-top
  logging.basicConfig(level=logging.INFO, format='%(levelname)s: %(message)s')
  launch.serve({'destination': destination,
                'model_name': configs.PIPELINE_NAME, 'pinned': args.version},
               args.host, args.port, args.workers)


def main(argv: Optional[List[str]] = None) -> int:
  """The taxi-tips command.

  Args:
    argv: the arguments without the program name; None reads sys.argv.

  Returns:
    The exit status (module docstring).
  """
  args = _parse_args(argv)
  # Deprecation notices of the Google client libraries TFX loads.
  warnings.filterwarnings('ignore', category=FutureWarning)
  from serving import registry  # pylint: disable=g-import-not-at-top
  destination = _destination(args)
  try:
    if args.command == 'report':
      _report(args)
    elif args.command == 'predict':
      return _predict(args, destination)
    elif args.command == 'serve':
      _serve(args, destination)
    elif args.action == 'list':
      _list(destination)
    elif args.action == 'show':
      _show(args, destination)
    elif args.action == 'rollback':
      version = registry.rollback(destination, args.version)
      print(f'version {version.number} now serves the model of version '
            f'{version.record["rollback_of"]}: {version.path}')
    else:
      removed = registry.prune(destination, args.keep)
      print(f'deleted version(s): {", ".join(map(str, removed))}'
            if removed else 'nothing to delete')
  except RequestError as e:
    print(f'error: {e}', file=sys.stderr)
    return 2
  return 0


if __name__ == '__main__':
  sys.exit(main())
