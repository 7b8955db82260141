"""The compiled packages against the open-source KFP backend's rules.

The rules are those of tests/fakes/kfp_backend_rules.py; the fixes those
rules need are tested too.
"""

import dataclasses
import json

import pytest

from cluster import compiler
from cluster import settings
from fakes import kfp_backend_rules


def test_kfp_package_breaks_no_rule_of_the_backend(kfp_spec):
  assert kfp_backend_rules.package_problems(kfp_spec, 'kfp') == []


def test_vertex_package_breaks_no_rule_of_vertex(vertex_env):
  assert kfp_backend_rules.package_problems(vertex_env[1]['pipelineSpec'],
                                            'vertex') == []


def test_csv_example_gen_gets_the_default_limits(kfp_spec):
  executor = kfp_spec['deploymentSpec']['executors']['CsvExampleGen_executor']
  assert executor['container']['resources'] == {
      'cpuLimit': settings.DEFAULT_RESOURCES.cpu,
      'memoryLimit': settings.DEFAULT_RESOURCES.memory_gb}


def test_a_dashboard_run_gets_the_configured_pipeline_root(kfp_spec, kfp_env):
  assert kfp_spec['defaultPipelineRoot'] == (
      f'{kfp_env[0]}/storage/pipelines/taxi-tips')


def test_beam_workers_and_tensorflow_threads_follow_the_cpu_limit(kfp_spec):
  executors = kfp_spec['deploymentSpec']['executors']
  evaluator = executors['Evaluator_executor']['container']
  statistics = executors['StatisticsGen_executor']['container']
  assert '--direct_num_workers=2' in evaluator['args']
  assert '--direct_num_workers=1' in statistics['args']
  assert not any(arg == '--direct_num_workers=0' for arg in evaluator['args'])
  for container, threads in ((evaluator, '2'), (statistics, '1')):
    assert container['env'] == [
        {'name': 'TF_NUM_INTRAOP_THREADS', 'value': threads},
        {'name': 'TF_NUM_INTEROP_THREADS', 'value': threads}]


def test_gpus_are_named_for_each_target(monkeypatch):
  monkeypatch.setitem(settings.COMPONENT_RESOURCES, 'Trainer',
                      settings.Resources(cpu=4, memory_gb=16, gpus=1))
  for target, wanted in (('kfp', 'nvidia.com/gpu'),
                         ('vertex', 'NVIDIA_TESLA_T4')):
    pipeline = compiler.build_pipeline(
        dataclasses.replace(settings.KubeflowSettings(), target=target))
    [trainer] = [c for c in pipeline.components if c.id == 'Trainer']
    assert trainer.platform_config.accelerator.type == wanted
    assert trainer.platform_config.accelerator.count == 1


def _rename_task(spec):
  tasks = spec['root']['dag']['tasks']
  tasks['latest_pushed_model'] = tasks.pop('latest-pushed-model')


def _executor(spec, task):
  return spec['deploymentSpec']['executors'][f'{task}_executor']


def _add_resolver(spec):
  _executor(spec, 'Pusher').clear()
  _executor(spec, 'Pusher')['resolver'] = {'outputArtifactQueries': {}}


def _set_workers(spec):
  args = _executor(spec, 'Evaluator')['container']['args']
  args[args.index('--direct_num_workers=2')] = '--direct_num_workers=3'


def _drop_fingerprint(spec):
  del spec['root']['dag']['tasks']['CsvExampleGen']['inputs']['parameters'][
      compiler.FINGERPRINT_PARAMETER]


def _runtime_parameter(spec):
  spec['root']['dag']['tasks']['Trainer']['inputs']['parameters'][
      'train_args'] = {'componentInputParameter': 'train_args'}


# One mutation per rule of kfp_backend_rules.package_problems, and the line
# it must give.
_MUTATIONS = {
    'schema 2.0': (lambda s: s.update(schemaVersion='2.0.0'),
                   'schemaVersion 2.0.0: the driver reads 2.1.0'),
    'minio root': (lambda s: s.update(defaultPipelineRoot='minio://a/b'),
                   'no defaultPipelineRoot'),
    'Argo name': (_rename_task, "'latest_pushed_model-driver'"),
    'resolver': (_add_resolver, "task 'Pusher': executor ['resolver'] is "
                 'not one the backend runs'),
    'no limit': (lambda s: _executor(s, 'Pusher')['container']['resources']
                 .pop('memoryLimit'), "'Pusher': no memoryLimit"),
    'accelerator': (lambda s: _executor(s, 'Trainer')['container'][
        'resources'].update(accelerator={'type': 'NVIDIA_TESLA_T4',
                                         'count': 1}),
                    "accelerator 'NVIDIA_TESLA_T4' is not a kfp accelerator"),
    'workers': (_set_workers, "--direct_num_workers=3 does not fit its CPU "
                'limit'),
    'fingerprint': (_drop_fingerprint, "'CsvExampleGen': cached, yet its "
                    'cache key holds no trace'),
    'runtime parameter': (_runtime_parameter, 'parameter train_args is not '
                          'a 2.1 constant'),
}


@pytest.mark.parametrize('mutation', sorted(_MUTATIONS))
def test_each_rule_fires_on_its_defect(kfp_spec, mutation):
  spec = json.loads(json.dumps(kfp_spec))
  change, wanted = _MUTATIONS[mutation]
  change(spec)
  problems = kfp_backend_rules.package_problems(spec, 'kfp')
  assert [p for p in problems if wanted in p], problems
