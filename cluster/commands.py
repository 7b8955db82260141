"""The cluster commands of kubeflow_runner.py: compile, deploy, run, schedule.

They compile the package, and deploy, run and schedule it on a Kubeflow
Pipelines cluster.

    python kubeflow_runner.py compile [--target kfp|vertex] [--span N] [--output-dir DIR]

writes the package and prints its path as the last line; with --span, a
backfill package training with span N as the newest. For kfp, KServe's
InferenceService of the pushed model is written beside it
(cluster/inference_service.py). Settings (project,
storage root, image, data source, Beam on Dataflow) come from
cluster/settings.py and the environment variables in its KUBEFLOW_ENV.

    python kubeflow_runner.py create | update [--package FILE]
    python kubeflow_runner.py run [--span N] [--wait]
    python kubeflow_runner.py schedule --cron CRON | --pause | --resume | --delete
    python kubeflow_runner.py runs [--limit N]

talk to the Kubeflow Pipelines API at --endpoint (or $KF_PIPELINES_ENDPOINT);
`tfx pipeline create --engine=kubeflow` is broken in TFX 1.16.

With no command it compiles for Vertex AI: that is what
`tfx pipeline create --engine=vertex --pipeline_path=kubeflow_runner.py`
runs.
"""

import argparse
import dataclasses
import datetime
import os
from pathlib import Path
import sys

from cluster import compiler
from cluster import inference_service
from cluster import settings as settings_lib
from cluster.kfp_client import connection
from cluster.kfp_client import cron as kfp_cron
from pipeline import configs
from pipeline import spans


def _timestamp() -> str:
  return datetime.datetime.now(datetime.timezone.utc).strftime('%Y%m%d-%H%M%S')


def _connect(args):
  from cluster.kfp_client import client

  return client.Client(connection.connection(
      args.endpoint, namespace=args.namespace,
      iap_client_id=args.iap_client_id))


def _package(args, settings) -> str:
  """The package to upload: --package, or the KFP package compiled now."""
  if args.package:
    if not args.package.is_file():
      raise ValueError(f'--package {args.package}: no such file')
    return str(args.package)
  settings = dataclasses.replace(settings, target='kfp')
  return str(compiler.compile_package(settings, args.output_dir.resolve()))


def _create(args, settings) -> int:
  package = _package(args, settings)
  api = _connect(args)
  pipeline_id, version_id = api.create_pipeline(
      package, configs.PIPELINE_NAME,
      description=f'Chicago taxi big-tip classifier, image {settings.image_name}')
  print(f'Created pipeline {configs.PIPELINE_NAME} (id {pipeline_id}, '
        f'version {version_id}) from {package}')
  return 0


def _update(args, settings) -> int:
  package = _package(args, settings)
  version_name = args.version_name or (
      f'{configs.PIPELINE_NAME}-{settings_lib.IMAGE_TAG}-{_timestamp()}')
  api = _connect(args)
  _, version_id = api.upload_version(package, configs.PIPELINE_NAME,
                                     version_name)
  print(f'Uploaded version {version_name} (id {version_id}) of pipeline '
        f'{configs.PIPELINE_NAME} from {package}')
  return 0


def _run(args, settings) -> int:
  api = _connect(args)
  name = f'{configs.PIPELINE_NAME}-{_timestamp()}'
  if args.span is None:
    pipeline_id, version_id = api.latest_version(configs.PIPELINE_NAME)
    run = api.start_run(args.experiment, name, settings.pipeline_root,
                        version=(pipeline_id, version_id))
  else:  # a backfill: a package of its own, the span compiled in
    package = compiler.compile_package(
        dataclasses.replace(settings, target='kfp'),
        args.output_dir.resolve(), newest_span=args.span)
    run = api.start_run(args.experiment, f'{name}-span-{args.span}',
                        settings.pipeline_root, package=str(package))
  print(f'Started run {run.name} in experiment {args.experiment}: {run.link}')
  if not args.wait:
    return 0
  steps = (api.task_names(pipeline_id, version_id) if args.span is None else
           compiler.task_names(package))
  run = api.wait_for_run(run.run_id, args.timeout, args.poll_seconds)
  states = {task.name: task.state for task in run.tasks}
  width = max(map(len, steps), default=0)
  for step in steps:
    print(f'  {step:<{width}}  {states.get(step, "NOT STARTED")}')
  print(f'Run {run.name} {run.state}: {run.link}')
  return 0 if run.state == 'SUCCEEDED' else 1


def _schedule(args, settings) -> int:
  name = args.name
  if args.cron:
    cron = kfp_cron.check_cron(args.cron)
    api = _connect(args)
    pipeline_id, _ = api.latest_version(configs.PIPELINE_NAME)
    recurring_run_id, pinned = api.schedule(args.experiment, name, cron,
                                            pipeline_id, settings.pipeline_root)
    print(f'Scheduled {name} (id {recurring_run_id}): cron {cron!r} (UTC), '
          'one run at a time')
    if pinned:
      print(f'This Kubeflow Pipelines release (before 2.5) pinned it to '
            f'version {pinned}: after `update`, `schedule --delete` and '
            'schedule again to run the new version.')
    else:
      print('Each run uses the newest version of the pipeline.')
    return 0
  action = 'pause' if args.pause else 'resume' if args.resume else 'delete'
  recurring_run_id = _connect(args).change_schedule(name, action)
  print(f'{action.capitalize()}d {name} (id {recurring_run_id})')
  return 0


def _runs(args, settings) -> int:
  del settings
  runs = _connect(args).list_runs(args.experiment, args.limit)
  if not runs:
    print(f'No runs in experiment {args.experiment}')
  for run in runs:
    created = run.created_at.strftime('%Y-%m-%d %H:%M') if run.created_at else ''
    print(f'{created:16}  {run.state:<10}  {run.name}  {run.link}')
  return 0


def _parse_args(argv):
  parser = argparse.ArgumentParser(
      prog='kubeflow_runner.py',
      description=' '.join(__doc__.split('\n\n')[0].split()))
  commands = parser.add_subparsers(dest='command')
  output_dir = argparse.ArgumentParser(add_help=False)
  output_dir.add_argument(
      '--output-dir',
      type=Path,
      default=configs.output_dir_from_env() / 'kubeflow',
      help='where packages are written; default: <OUTPUT_DIR>/kubeflow')
  span = argparse.ArgumentParser(add_help=False)
  span.add_argument('--span', type=spans.parse,
                    help='a backfill: train with span N as the newest '
                    '(default: the newest span when the run reads the data)')
  compile_cmd = commands.add_parser('compile', parents=[output_dir, span],
                                    help='write the package')
  compile_cmd.add_argument(
      '--target',
      choices=settings_lib.KUBEFLOW_TARGETS,
      help=f'default: ${settings_lib.KUBEFLOW_ENV["target"]} or kfp')

  api = argparse.ArgumentParser(add_help=False)
  api.add_argument('--endpoint', default=os.environ.get(connection.ENDPOINT_ENV),
                   help=f'KFP API / dashboard URL; ${connection.ENDPOINT_ENV}')
  api.add_argument('--namespace',
                   default=os.environ.get(connection.NAMESPACE_ENV, ''),
                   help='multi-user Kubeflow profile namespace; '
                   f'${connection.NAMESPACE_ENV}')
  api.add_argument('--iap-client-id',
                   default=os.environ.get(connection.IAP_CLIENT_ID_ENV, ''),
                   help='OAuth client id of the Cloud IAP in front of the '
                   f'endpoint; ${connection.IAP_CLIENT_ID_ENV}')
  experiment = argparse.ArgumentParser(add_help=False)
  experiment.add_argument('--experiment', default=settings_lib.KFP_EXPERIMENT)
  package = argparse.ArgumentParser(add_help=False, parents=[output_dir])
  package.add_argument('--package', type=Path,
                       help='upload this file instead of compiling now')

  commands.add_parser('create', parents=[api, package],
                      help='upload the pipeline')
  update = commands.add_parser('update', parents=[api, package],
                               help='upload a new version of the pipeline')
  update.add_argument('--version-name',
                      help='default: <pipeline>-<IMAGE_TAG>-<UTC time>')
  run = commands.add_parser('run', parents=[api, experiment, output_dir, span],
                            help='run the newest version (with --span: a '
                            'backfill package compiled now)')
  run.add_argument('--wait', action='store_true',
                   help='follow the run; report each step\'s final state')
  run.add_argument('--timeout', type=float,
                   default=settings_lib.KFP_RUN_TIMEOUT_SECONDS,
                   help='seconds --wait follows the run')
  run.add_argument('--poll-seconds', type=float, default=10,
                   help=argparse.SUPPRESS)
  schedule = commands.add_parser(
      'schedule', parents=[api, experiment],
      help='recurring retraining runs of the newest version')
  action = schedule.add_mutually_exclusive_group(required=True)
  action.add_argument('--cron', help='6 fields, seconds first, e.g. '
                      f'"{kfp_cron.CRON_EXAMPLE}"')
  action.add_argument('--pause', action='store_true')
  action.add_argument('--resume', action='store_true')
  action.add_argument('--delete', action='store_true')
  schedule.add_argument('--name', default=settings_lib.KFP_SCHEDULE_NAME)
  runs = commands.add_parser('runs', parents=[api, experiment],
                             help='recent runs with state and links')
  runs.add_argument('--limit', type=int, default=10)
  return parser.parse_args(argv)


def _compile(args, settings) -> int:
  if args.target:
    settings = dataclasses.replace(settings, target=args.target)
  package = compiler.compile_package(settings, args.output_dir.resolve(),
                                     newest_span=getattr(args, 'span', None))
  if settings.target == 'kfp':  # KServe serves the pushes on that cluster
    print(inference_service.write(settings, package.parent))
  print(package)
  return 0


_COMMANDS = {'compile': _compile, 'create': _create, 'update': _update,
             'run': _run, 'schedule': _schedule, 'runs': _runs}


def main(argv=None) -> int:
  """Runs one command (default: compile for Vertex AI, as the TFX CLI does).

  Args:
    argv: the command line without the program name; None reads sys.argv.

  Returns:
    The exit status: 0 done, 1 the cluster or the run failed, 2 bad input.
  """
  from cluster.kfp_client.errors import KfpApiError

  args = _parse_args(argv)
  if args.command is None:  # as the TFX CLI (Vertex engine) runs it
    args = _parse_args(['compile', '--target', 'vertex'])
  try:
    settings = settings_lib.kubeflow_settings_from_env()
    return _COMMANDS[args.command](args, settings)
  except ValueError as e:
    print(f'error: {e}', file=sys.stderr)
    return 2
  except KfpApiError as e:
    print(f'error: {e}', file=sys.stderr)
    return 1

