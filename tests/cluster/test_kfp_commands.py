"""kubeflow_runner.py's cluster commands against a local KFP API server.

create / update / run / schedule / runs, against a local server that
implements and checks the KFP v2beta1 REST calls they make.
"""

import re

import pytest
import yaml

import helpers
import kfp_commands
from kfp_commands import cli, ok, one_error_line
from cluster import settings
from pipeline import configs

PIPELINE_ROOT = (f'{kfp_commands.STORAGE_ROOT}/pipelines/'
                 f'{configs.PIPELINE_NAME}')


@pytest.fixture
def created(server, kfp_env):
  """The compiled package uploaded as the pipeline."""
  package = kfp_env[1]
  ok(cli(server.url, 'create', '--package', str(package)))
  return package


def test_create_uploads_the_compiled_package(server, created):
  [pipeline] = server.state.pipelines.values()
  assert pipeline['display_name'] == configs.PIPELINE_NAME
  [(version_id, uploaded)] = server.state.uploads.items()
  assert uploaded == created.read_bytes()
  assert server.state.versions[version_id]['pipeline_id'] == (
      pipeline['pipeline_id'])


def test_create_compiles_the_package_when_none_is_given(server, tmp_path):
  out = ok(cli(server.url, 'create', '--output-dir', str(tmp_path),
               PIPELINE_IMAGE=helpers.TEST_IMAGE))
  package = tmp_path / f'{configs.PIPELINE_NAME}-kfp.yaml'
  assert str(package) in out
  [uploaded] = server.state.uploads.values()
  assert uploaded == package.read_bytes()
  assert helpers.TEST_IMAGE.encode() in uploaded


def test_second_create_is_refused_and_changes_nothing(server, created):
  line = one_error_line(cli(server.url, 'create', '--package', str(created)))
  assert 'already exists' in line and '`update`' in line
  assert len(server.state.pipelines) == 1
  assert len(server.state.versions) == 1


def test_update_uploads_a_new_version(server, created, tmp_path):
  changed = tmp_path / 'changed.yaml'
  changed.write_bytes(created.read_bytes() + b'\n# new version\n')
  out = ok(cli(server.url, 'update', '--package', str(changed)))
  assert len(server.state.versions) == 2
  newest = max(server.state.versions.values(), key=lambda v: v['created_at'])
  assert server.state.uploads[newest['pipeline_version_id']] == (
      changed.read_bytes())
  assert re.fullmatch(
      rf'{configs.PIPELINE_NAME}-{re.escape(settings.IMAGE_TAG)}-\d{{8}}-\d{{6}}',
      newest['display_name'])
  assert newest['pipeline_version_id'] in out


def _two_versions(server, created, tmp_path) -> str:
  """Uploads a second version; returns its id."""
  changed = tmp_path / 'changed.yaml'
  changed.write_bytes(created.read_bytes() + b'\n# new version\n')
  out = ok(cli(server.url, 'update', '--package', str(changed)))
  return out.split('(id ')[1].split(')')[0]


def test_run_and_schedule_after_update_use_the_newest_version(
    server, created, tmp_path):
  newest = _two_versions(server, created, tmp_path)
  ok(cli(server.url, 'run'))
  [entry] = server.state.runs.values()
  assert entry['run']['pipeline_version_reference'][
      'pipeline_version_id'] == newest


def test_schedule_on_kfp_before_2_5_says_it_is_pinned(server, created,
                                                      tmp_path):
  server.state.pins_recurring_runs = True
  newest = _two_versions(server, created, tmp_path)
  out = ok(cli(server.url, 'schedule', '--cron', '0 0 3 * * *'))
  [job] = server.state.recurring_runs.values()
  assert job['pipeline_version_reference']['pipeline_version_id'] == newest
  assert f'pinned it to version {newest}' in out
  assert '`schedule --delete` and schedule again' in out


def test_update_before_create_says_what_to_do(server, kfp_env):
  line = one_error_line(
      cli(server.url, 'update', '--package', str(kfp_env[1])))
  assert f"no pipeline named '{configs.PIPELINE_NAME}'" in line
  assert 'run `create` first' in line


def test_run_wait_reports_every_step_of_the_newest_version(server, created):
  result = cli(server.url, 'run', '--wait', '--poll-seconds', '0.05')
  out = ok(result)

  [entry] = server.state.runs.values()
  run = entry['run']
  newest = max(server.state.versions.values(), key=lambda v: v['created_at'])
  assert run['pipeline_version_reference']['pipeline_version_id'] == (
      newest['pipeline_version_id'])
  assert run['runtime_config']['pipeline_root'] == PIPELINE_ROOT
  [experiment] = server.state.experiments.values()
  assert run['experiment_id'] == experiment['experiment_id']
  assert experiment['display_name'] == settings.KFP_EXPERIMENT

  steps = dict(line.split() for line in out.splitlines()
               if line.startswith('  '))
  assert set(steps) == set(helpers.KFP_TASKS)
  assert set(steps.values()) == {'SUCCEEDED'}
  assert out.splitlines()[-1] == (
      f'Run {run["display_name"]} SUCCEEDED: '
      f'{server.url}/#/runs/details/{run["run_id"]}')


def test_run_span_starts_a_backfill_package_with_the_span_compiled_in(
    server, created, tmp_path):
  out = ok(cli(server.url, 'run', '--span', '2', '--wait', '--poll-seconds',
               '0.05', '--output-dir', str(tmp_path)))
  [entry] = server.state.runs.values()
  run = entry['run']
  # Not the uploaded version: the backfill's own package, inline.
  assert not run.get('pipeline_version_reference')
  package = yaml.safe_load((tmp_path / 'taxi-tips-kfp-span-2.yaml').read_text())
  tasks = run['pipeline_spec']['root']['dag']['tasks']
  assert set(tasks) == set(package['root']['dag']['tasks'])
  parameters = tasks['CsvExampleGen']['inputs']['parameters']
  assert parameters['newest_span']['runtimeValue']['constant'] == 2
  assert run['runtime_config']['pipeline_root'] == PIPELINE_ROOT
  assert run['display_name'].startswith(f'{configs.PIPELINE_NAME}-')
  assert run['display_name'].endswith('-span-2')
  steps = dict(line.split() for line in out.splitlines()
               if line.startswith('  '))
  assert set(steps) == set(helpers.KFP_TASKS)
  assert out.splitlines()[-1].startswith(f'Run {run["display_name"]} SUCCEEDED')


def test_run_wait_names_the_failed_step_and_exits_1(server, created):
  server.state.fail_task = 'Trainer'
  result = cli(server.url, 'run', '--wait', '--poll-seconds', '0.05')
  assert result.returncode == 1, result.stderr
  steps = dict(line.split(maxsplit=1) for line in result.stdout.splitlines()
               if line.startswith('  '))
  assert steps['Trainer'] == 'FAILED'
  assert steps['Transform'] == 'SUCCEEDED'
  assert steps['Pusher'] == 'NOT STARTED'
  assert ' FAILED: ' in result.stdout.splitlines()[-1]


def test_run_without_wait_returns_once_started(server, created):
  out = ok(cli(server.url, 'run'))
  [entry] = server.state.runs.values()
  assert entry['polls'] == 0
  assert f'/#/runs/details/{entry["run"]["run_id"]}' in out


def test_schedule_runs_one_at_a_time_on_the_cron(server, created):
  out = ok(cli(server.url, 'schedule', '--cron', '0 0 3 * * *'))
  [job] = server.state.recurring_runs.values()
  assert job['display_name'] == settings.KFP_SCHEDULE_NAME
  assert job['trigger']['cron_schedule']['cron'] == '0 0 3 * * *'
  assert int(job['max_concurrency']) == 1
  assert job['no_catchup'] is True
  assert job['mode'] == 'ENABLE'
  assert job['runtime_config']['pipeline_root'] == PIPELINE_ROOT
  # Not pinned: KFP 2.5 and later start each run from the newest version.
  [pipeline_id] = server.state.pipelines
  assert job['pipeline_version_reference'] == {'pipeline_id': pipeline_id}
  assert 'Each run uses the newest version of the pipeline.' in out

  # A second schedule would double the retraining: refused.
  line = one_error_line(cli(server.url, 'schedule', '--cron', '0 0 4 * * *'))
  assert 'already exists' in line
  assert len(server.state.recurring_runs) == 1

  ok(cli(server.url, 'schedule', '--pause'))
  assert job['mode'] == 'DISABLE'
  ok(cli(server.url, 'schedule', '--resume'))
  assert job['mode'] == 'ENABLE'
  ok(cli(server.url, 'schedule', '--delete'))
  assert server.state.recurring_runs == {}
  line = one_error_line(cli(server.url, 'schedule', '--pause'))
  assert f"no recurring run named '{settings.KFP_SCHEDULE_NAME}'" in line


def test_five_field_cron_is_refused_before_any_request(server):
  line = one_error_line(cli(server.url, 'schedule', '--cron', '0 3 * * *'),
                        returncode=2)
  assert "cron '0 3 * * *'" in line and '6 fields' in line
  assert server.state.requests == []


def test_runs_lists_newest_first_with_dashboard_links(server, created):
  assert 'No runs' in ok(cli(server.url, 'runs'))
  for _ in range(2):
    ok(cli(server.url, 'run'))
  lines = ok(cli(server.url, 'runs', '--limit', '5')).splitlines()
  newest_first = sorted(server.state.runs.values(),
                        key=lambda e: e['run']['created_at'], reverse=True)
  assert len(lines) == 2
  for line, entry in zip(lines, newest_first):
    run = entry['run']
    assert run['display_name'] in line and 'PENDING' in line
    assert line.endswith(f'{server.url}/#/runs/details/{run["run_id"]}')
