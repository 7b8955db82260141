"""The compiled packages against the open-source KFP backend's rules
(tests/fakes/kfp_backend_rules.py), and the fixes those rules need."""

import dataclasses
import json
from pathlib import Path

import pytest
import yaml

import helpers
from cluster import compiler
from cluster import settings
from fakes import kfp_backend_rules
from fakes import kfp_launcher


def test_kfp_package_breaks_no_rule_of_the_backend(kfp_spec):
  assert kfp_backend_rules.package_problems(kfp_spec, 'kfp') == []


def test_vertex_package_breaks_no_rule_of_vertex(tmp_path):
  result = helpers.compile_kubeflow('vertex', tmp_path / 'storage',
                                    tmp_path / 'data', tmp_path / 'package')
  assert result.returncode == 0, result.stderr[-3000:]
  job = json.loads(Path(result.stdout.splitlines()[-1]).read_text())
  assert kfp_backend_rules.package_problems(job['pipelineSpec'],
                                            'vertex') == []


def test_csv_example_gen_gets_the_default_limits(kfp_spec):
  executor = kfp_spec['deploymentSpec']['executors']['CsvExampleGen_executor']
  assert executor['container']['resources'] == {
      'cpuLimit': settings.DEFAULT_RESOURCES.cpu,
      'memoryLimit': settings.DEFAULT_RESOURCES.memory_gb}


def test_a_dashboard_run_gets_the_configured_pipeline_root(kfp_spec, kfp_env):
  assert kfp_spec['defaultPipelineRoot'] == (
      f'{kfp_env[0]}/storage/pipelines/taxi-tips')


def test_beam_workers_per_pod_follow_its_cpu_limit(kfp_spec):
  executors = kfp_spec['deploymentSpec']['executors']
  evaluator = executors['Evaluator_executor']['container']['args']
  statistics = executors['StatisticsGen_executor']['container']['args']
  assert '--direct_num_workers=2' in evaluator
  assert '--direct_num_workers=1' in statistics
  assert not any(arg == '--direct_num_workers=0' for arg in evaluator)


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


def test_the_rules_catch_each_defect_of_the_earlier_package(kfp_spec):
  spec = json.loads(json.dumps(kfp_spec))
  tasks = spec['root']['dag']['tasks']
  tasks['latest_pushed_model'] = tasks.pop('latest-pushed-model')
  del spec['deploymentSpec']['executors']['Pusher_executor']['container'][
      'resources']
  del spec['defaultPipelineRoot']
  del tasks['CsvExampleGen']['inputs']['parameters'][
      compiler.FINGERPRINT_PARAMETER]
  problems = kfp_backend_rules.package_problems(spec, 'kfp')
  assert any("'latest_pushed_model-driver'" in p for p in problems)
  assert any("'Pusher': no cpuLimit" in p for p in problems)
  assert any('no defaultPipelineRoot' in p for p in problems)
  assert any("'CsvExampleGen': cached, yet its cache key holds no trace"
             in p for p in problems)


def test_the_launcher_refuses_a_parameter_of_the_wrong_type(kfp_spec,
                                                           tmp_path):
  spec = json.loads(json.dumps(kfp_spec))
  trainer = spec['root']['dag']['tasks']['Trainer']['inputs']['parameters']
  trainer['train_args']['runtimeValue']['constant'] = 300  # a STRING input
  package = tmp_path / 'package.yaml'
  package.write_text(yaml.safe_dump(spec))
  with pytest.raises(kfp_launcher.UnsupportedTask,
                     match='Trainer.train_args: 300 is not a STRING'):
    kfp_launcher.run_package(package, tmp_path / 'root', {}, tmp_path,
                             workdir=tmp_path)
  assert not (tmp_path / 'root').exists()  # refused before any task ran
