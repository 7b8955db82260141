"""The packages for the whole table: BigQuery spans, Beam on Dataflow.

KFP's package is the scheduled one; Vertex AI's a backfill, its newest span
compiled in.
"""

import json
from pathlib import Path

from apache_beam.options import pipeline_options
import pytest
import yaml

import helpers
from cluster import compiler
from cluster import dataflow
from cluster import settings
from fakes import bigquery_duckdb
from fakes import kfp_backend_rules
from pipeline import query_spans
from pipeline.components import data_fingerprint

BACKFILL_SPAN = 16436  # 2015-01, as TFX numbers a query's span
_BEAM_TASKS = {'BigQueryExampleGen', 'StatisticsGen', 'Transform',
               'Evaluator'}


@pytest.fixture(scope='module')
def packages(tmp_path_factory) -> dict:
  """Target -> the PipelineSpec compiled with BIGQUERY_TABLE on Dataflow."""
  root = tmp_path_factory.mktemp('scale')
  specs = {}
  for target, args in (('kfp', []), ('vertex', ['--span', str(BACKFILL_SPAN)])):
    result = helpers.compile_kubeflow(
        target, 'gs://bucket', root / 'data', root / target, args=args,
        BIGQUERY_TABLE=bigquery_duckdb.TABLE, BEAM_ON_DATAFLOW='true',
        TRAIN_EPOCHS='2')
    assert result.returncode == 0, result.stderr[-3000:]
    text = Path(result.stdout.splitlines()[-1]).read_text()
    specs[target] = (yaml.safe_load(text) if target == 'kfp' else
                     json.loads(text)['pipelineSpec'])
  return specs


def test_both_packages_break_no_rule_of_their_backend(packages):
  for target, spec in packages.items():
    assert kfp_backend_rules.package_problems(spec, target) == [], target


def _parameter(spec, task, name):
  value = spec['root']['dag']['tasks'][task]['inputs']['parameters'][name]
  return value['runtimeValue'].get('constant', value['runtimeValue'].get(
      'constantValue'))


def test_the_kfp_cache_is_keyed_on_the_tables_complete_months(packages):
  spec = packages['kfp']
  tasks = spec['root']['dag']['tasks']
  example_gen = tasks['BigQueryExampleGen']
  assert example_gen['inputs']['parameters'][compiler.FINGERPRINT_PARAMETER][
      'taskOutputParameter']['producerTask'] == compiler.FINGERPRINT_TASK
  probe = query_spans.probe_query(bigquery_duckdb.TABLE)
  assert _parameter(spec, 'BigQueryExampleGen', 'probe_query') == probe
  container = spec['deploymentSpec']['executors'][
      f'{compiler.FINGERPRINT_TASK}_executor']['container']
  assert container['command'][-1] == data_fingerprint.__name__
  assert container['args'] == ['{{$}}', 'bigquery', probe,
                               settings.KubeflowSettings().project]
  query = json.loads(_parameter(spec, 'BigQueryExampleGen', 'input_config'))
  assert query['splits'][0]['pattern'] == query_spans.span_query(
      bigquery_duckdb.TABLE)


def test_the_trainer_passes_twice_over_the_window_not_a_fixed_step_count(
    packages):
  for spec in packages.values():
    train_args, custom_config = (
        _parameter(spec, 'Trainer', name)
        for name in ('train_args', 'custom_config'))
    if isinstance(train_args, dict):  # Vertex AI's typed constants
      train_args, custom_config = (train_args['stringValue'],
                                   custom_config['stringValue'])
    assert json.loads(train_args) == {}
    assert json.loads(custom_config)['train_epochs'] == 2


def test_a_backfill_compiles_its_span_as_a_static_range(packages):
  range_config = _parameter(packages['vertex'], 'BigQueryExampleGen',
                            'range_config')
  assert json.loads(range_config['stringValue']) == {'static_range': {
      'start_span_number': BACKFILL_SPAN, 'end_span_number': BACKFILL_SPAN}}


def _beam_options(spec, task) -> pipeline_options.PipelineOptions:
  args = spec['deploymentSpec']['executors'][f'{task}_executor'][
      'container']['args']
  return pipeline_options.PipelineOptions(
      [arg for arg in args if arg.startswith('--') and '=' in arg])


def test_each_beam_component_runs_its_own_dataflow_job(packages):
  defaults = settings.KubeflowSettings()
  for target, spec in packages.items():
    for task in spec['root']['dag']['tasks']:
      options = _beam_options(spec, task)
      runner = options.view_as(pipeline_options.StandardOptions).runner
      assert (runner == 'DataflowRunner') == (task in _BEAM_TASKS), task
      if task not in _BEAM_TASKS:
        continue
      wanted = dataflow.COMPONENT_WORKERS[
          'ExampleGen' if task.endswith('ExampleGen') else task]
      cloud = options.view_as(pipeline_options.GoogleCloudOptions)
      workers = options.view_as(pipeline_options.WorkerOptions)
      assert (cloud.project, cloud.region, cloud.temp_location) == (
          defaults.project, defaults.region, 'gs://bucket/tmp')
      assert (workers.machine_type, workers.max_num_workers,
              workers.disk_size_gb) == (wanted.machine_type,
                                        wanted.max_workers, wanted.disk_gb)
      assert workers.sdk_container_image == defaults.dataflow_image_name
      assert options.view_as(pipeline_options.DebugOptions).lookup_experiment(
          dataflow.RUNNER_V2), (target, task)


def test_the_dataflow_table_names_each_beam_component_once():
  dataflow.check_components(['CsvExampleGen', 'StatisticsGen', 'Transform',
                             'Evaluator'])
  with pytest.raises(ValueError, match='no entry for BulkInferrer; no Beam '
                     'component for Evaluator'):
    dataflow.check_components(['BigQueryExampleGen', 'StatisticsGen',
                               'Transform', 'BulkInferrer'])


def _modules_the_workers_name(spec: dict) -> set:
  """Modules a Dataflow worker imports by name.

  The Beam components' executors (their Beam functions are pickled by
  reference), the model code they are given and the Evaluator's metrics.
  """
  named = set()
  for task in _BEAM_TASKS:
    args = spec['deploymentSpec']['executors'][f'{task}_executor'][
        'container']['args']
    named.add(args[args.index('--executor_class_path') + 1].rsplit('.', 1)[0])
  named.add(_parameter(spec, 'Transform', 'preprocessing_fn').rsplit('.', 1)[0])
  eval_config = json.loads(_parameter(spec, 'Evaluator', 'eval_config'))
  for metrics in eval_config['metrics_specs']:
    named.update(metric['module'] for metric in metrics['metrics'])
  return named


def test_the_worker_image_holds_what_the_workers_import(packages, tmp_path):
  image = helpers.build_image_tree(tmp_path, helpers.DATAFLOW_DOCKERFILE)
  named = _modules_the_workers_name(packages['kfp'])
  assert {'models.preprocessing', 'pipeline.metrics.histogram_metrics',
          'pipeline.components.bigquery_example_gen.executor'} <= named
  imported = helpers.packages_imported_from(image, named)
  copied = {path.name for path in image.iterdir()}
  assert imported == copied == {'models', 'pipeline'}
