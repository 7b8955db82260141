"""Checks of the image definition, without a Docker engine.

Static ones, and the image's project folder, rebuilt from its COPY lines,
against what the compiled package's tasks import.
"""

import json
import re
import sys

import yaml

import helpers
from cluster import settings
from fakes import kfp_launcher
from pipeline import configs

def test_base_image_is_the_pinned_tfx_release():
  [base] = [args for keyword, args in helpers.dockerfile_instructions() if keyword == 'FROM']
  assert base == 'tensorflow/tfx:1.16.0'


def test_runs_as_a_numeric_non_root_user():
  users = [args for keyword, args in helpers.dockerfile_instructions() if keyword == 'USER']
  assert users, 'no USER: the image would run as root'
  user = users[-1].split(':')[0]
  assert user.isdigit() and int(user) != 0


def test_every_copy_source_exists_and_is_not_docker_ignored():
  ignore = (configs.PROJECT_ROOT / '.dockerignore').read_text()
  for keyword, args in helpers.dockerfile_instructions():
    if keyword == 'COPY':
      *sources, _ = args.split()
      for source in sources:
        assert (configs.PROJECT_ROOT / source).exists(), source
        assert f'!{source}' in ignore.splitlines(), source


def test_non_root_user_can_write_where_the_launcher_and_beam_write():
  instructions = helpers.dockerfile_instructions()
  env = ' '.join(args for keyword, args in instructions if keyword == 'ENV')
  assert 'RUN_PYTHON_SDK_IN_DEFAULT_ENVIRONMENT=1' in env
  user = [args for keyword, args in instructions if keyword == 'USER'][-1]
  runs = [args for keyword, args in instructions if keyword == 'RUN']
  assert any('mkdir -p /gcs /minio /s3' in run and
             f'chown {user} /gcs /minio /s3' in run for run in runs)


def test_installs_the_lock_file_the_tests_run_against():
  runs = ' '.join(args for keyword, args in helpers.dockerfile_instructions() if keyword == 'RUN')
  copies = [args for keyword, args in helpers.dockerfile_instructions() if keyword == 'COPY']
  assert 'requirements.lock /tmp/requirements.lock' in copies
  assert '-r /tmp/requirements.lock' in runs and 'pip check' in runs
  makefile = (configs.PROJECT_ROOT / 'Makefile').read_text()
  assert '-r requirements.lock' in makefile


def test_project_lands_where_the_compiled_package_looks_for_it():
  workdirs = [args for keyword, args in helpers.dockerfile_instructions() if keyword == 'WORKDIR']
  assert workdirs[-1] == settings.DEFAULT_CONTAINER_PROJECT_DIR
  env = ' '.join(args for keyword, args in helpers.dockerfile_instructions() if keyword == 'ENV')
  assert f'PYTHONPATH={settings.DEFAULT_CONTAINER_PROJECT_DIR}' in env
  assert 'TF_USE_LEGACY_KERAS=1' in env


def _modules_the_tasks_name(spec: dict) -> set:
  """Every module a task imports by name.

  Entry points, executor classes, the model code, the Evaluator's metrics,
  custom artifact types (TFX's entrypoint imports a type by its schema
  title).
  """
  named = set()
  for component in spec['components'].values():
    for definitions in (component.get('inputDefinitions', {}),
                        component.get('outputDefinitions', {})):
      for artifact in definitions.get('artifacts', {}).values():
        title = yaml.safe_load(
            artifact['artifactType']['instanceSchema'])['title']
        if not title.startswith('tfx.'):
          named.add(title.rsplit('.', 1)[0])
  for executor in spec['deploymentSpec']['executors'].values():
    command, args = executor['container']['command'], executor['container'][
        'args']
    named.add(command[command.index('-m') + 1])
    if '--executor_class_path' in args:
      class_path = args[args.index('--executor_class_path') + 1]
      named.add(class_path.rsplit('.', 1)[0])
  tasks = spec['root']['dag']['tasks']
  for task in tasks.values():
    for parameter in task.get('inputs', {}).get('parameters', {}).values():
      value = parameter.get('runtimeValue', {}).get('constant')
      if isinstance(value, str) and value.startswith('models.'):
        named.add(value.rsplit('.', 1)[0])
  eval_config = json.loads(
      tasks['Evaluator']['inputs']['parameters']['eval_config']
      ['runtimeValue']['constant'])
  for spec_ in eval_config['metrics_specs']:
    named.update(metric['module'] for metric in spec_['metrics'])
  return named


def test_image_holds_exactly_the_packages_the_tasks_import(kfp_env):
  root, package = kfp_env
  image = root / 'image'
  named = _modules_the_tasks_name(kfp_launcher.load_pipeline_spec(package))
  assert {'models.trainer', 'models.preprocessing',
          'pipeline.metrics.histogram_metrics',
          'pipeline.components.data_fingerprint', 'system'} <= named
  imported = helpers.packages_imported_from(image, named)
  copied = {path.stem for path in image.iterdir() if path.name != '__pycache__'}
  assert imported == copied == {'models', 'pipeline', 'system'}


# --- The Dataflow workers' image (Dockerfile.dataflow) -----------------------
# Every instruction a Dockerfile may hold (Docker's reference).
_INSTRUCTIONS = {'ADD', 'ARG', 'CMD', 'COPY', 'ENTRYPOINT', 'ENV', 'EXPOSE',
                 'FROM', 'HEALTHCHECK', 'LABEL', 'ONBUILD', 'RUN', 'SHELL',
                 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR'}


def _locked(name: str) -> str:
  lock = (configs.PROJECT_ROOT / 'requirements.lock').read_text()
  [version] = re.findall(rf'^{name}==(\S+)$', lock, re.MULTILINE)
  return version


def test_dataflow_image_is_beams_custom_container_recipe():
  instructions = helpers.dockerfile_instructions(helpers.DATAFLOW_DOCKERFILE)
  assert {keyword for keyword, _ in instructions} <= _INSTRUCTIONS
  python = f'{sys.version_info.major}.{sys.version_info.minor}'
  assert instructions[0] == ('FROM', f'python:{python}-slim')
  beam = f'apache/beam_python{python}_sdk:{_locked("apache-beam")}'
  assert ('COPY', f'--from={beam} /opt/apache/beam /opt/apache/beam') in (
      instructions)
  assert instructions[-1] == ('ENTRYPOINT', '["/opt/apache/beam/boot"]')
  # The lock the tests run against, as the task image installs it.
  runs = ' '.join(args for keyword, args in instructions if keyword == 'RUN')
  assert ('COPY', 'requirements.lock /tmp/requirements.lock') in instructions
  assert '-r /tmp/requirements.lock' in runs and 'pip check' in runs
  env = ' '.join(args for keyword, args in instructions if keyword == 'ENV')
  assert 'RUN_PYTHON_SDK_IN_DEFAULT_ENVIRONMENT=1' in env
  assert f'PYTHONPATH={settings.DEFAULT_CONTAINER_PROJECT_DIR}' in env

