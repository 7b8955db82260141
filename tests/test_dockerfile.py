"""Static checks of the image definition (no Docker engine here)."""

import re

from pipeline import configs

DOCKERFILE = configs.PROJECT_ROOT / 'Dockerfile'


def _instructions():
  """(INSTRUCTION, arguments) pairs, continuation lines joined."""
  text = re.sub(r'\\\n', ' ', DOCKERFILE.read_text())
  pairs = []
  for line in text.splitlines():
    line = line.strip()
    if line and not line.startswith('#'):
      keyword, _, rest = line.partition(' ')
      pairs.append((keyword.upper(), rest.strip()))
  return pairs


def test_base_image_is_the_pinned_tfx_release():
  [base] = [args for keyword, args in _instructions() if keyword == 'FROM']
  assert base == 'tensorflow/tfx:1.16.0'


def test_runs_as_a_numeric_non_root_user():
  users = [args for keyword, args in _instructions() if keyword == 'USER']
  assert users, 'no USER: the image would run as root'
  user = users[-1].split(':')[0]
  assert user.isdigit() and int(user) != 0


def test_every_copy_source_exists_and_is_not_docker_ignored():
  ignore = (configs.PROJECT_ROOT / '.dockerignore').read_text()
  for keyword, args in _instructions():
    if keyword == 'COPY':
      *sources, _ = args.split()
      for source in sources:
        assert (configs.PROJECT_ROOT / source).exists(), source
        assert f'!{source}' in ignore.splitlines(), source


def test_installs_the_lock_file_the_tests_run_against():
  runs = ' '.join(args for keyword, args in _instructions() if keyword == 'RUN')
  copies = [args for keyword, args in _instructions() if keyword == 'COPY']
  assert 'requirements.lock /tmp/requirements.lock' in copies
  assert '-r /tmp/requirements.lock' in runs and 'pip check' in runs
  makefile = (configs.PROJECT_ROOT / 'Makefile').read_text()
  assert '-r requirements.lock' in makefile


def test_project_lands_where_the_compiled_package_looks_for_it():
  workdirs = [args for keyword, args in _instructions() if keyword == 'WORKDIR']
  assert workdirs[-1] == configs.DEFAULT_CONTAINER_PROJECT_DIR
  env = ' '.join(args for keyword, args in _instructions() if keyword == 'ENV')
  assert f'PYTHONPATH={configs.DEFAULT_CONTAINER_PROJECT_DIR}' in env
  assert 'TF_USE_LEGACY_KERAS=1' in env
