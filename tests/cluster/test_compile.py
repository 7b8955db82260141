"""kubeflow_runner.py's compiled packages.

tests/cluster/test_retraining.py runs the KFP package end to end.
"""

import dataclasses
import json
from pathlib import Path
import subprocess
import sys

import kfp
import pytest
import yaml

import helpers
from cluster import compiler
from cluster import settings
from pipeline import configs
from pipeline import pipeline as pipeline_lib
from pipeline.components.vertex_deploy.settings import DeploySettings

# Node id -> ids of the nodes it takes inputs from, in pipeline/pipeline.py.
TFX_EDGES = {
    'CsvExampleGen': set(),
    'ImportSchemaGen': set(),
    'StatisticsGen': {'CsvExampleGen'},
    'ExampleValidator': {'StatisticsGen', 'ImportSchemaGen'},
    'DataGate': {'StatisticsGen', 'ExampleValidator', 'ImportSchemaGen'},
    # Nothing trains before the gate passed.
    'Transform': {'CsvExampleGen', 'ImportSchemaGen', 'DataGate'},
    'Trainer': {'CsvExampleGen', 'Transform', 'ImportSchemaGen', 'DataGate'},
    'EvalSchema': {'ImportSchemaGen'},
    'Evaluator': {'CsvExampleGen', 'Trainer', 'EvalSchema'},
    # Side by side with the Evaluator: the Pusher needs both verdicts.
    'ServingCheck': {'Trainer', 'CsvExampleGen'},
    # Statistics: stored with the pushed model, for the next run's gate.
    # Examples: the spans trained on, for the record and the backfill check.
    'Pusher': {'Trainer', 'Evaluator', 'ServingCheck', 'StatisticsGen',
               'CsvExampleGen'},
    'RunReport': {'CsvExampleGen', 'StatisticsGen', 'DataGate', 'Trainer',
                  'Evaluator', 'ServingCheck', 'Pusher'},
}


def test_compile_prints_the_package_path_last(kfp_env):
  root, package = kfp_env
  assert package == root / 'package' / 'taxi-tips-kfp.yaml'
  assert package.is_file()


def test_kfp_loader_accepts_the_package(kfp_env):
  component = kfp.components.load_component_from_file(str(kfp_env[1]))
  assert component.name == configs.PIPELINE_NAME


def test_every_task_runs_the_configured_image(kfp_spec):
  executors = kfp_spec['deploymentSpec']['executors'].values()
  assert {e['container']['image'] for e in executors} == {helpers.TEST_IMAGE}


def test_task_graph_matches_the_tfx_dag(kfp_spec):
  tasks = kfp_spec['root']['dag']['tasks']
  edges = {name: set(t.get('dependentTasks', [])) for name, t in tasks.items()}
  baseline = pipeline_lib.LATEST_PUSHED_ID
  fingerprint = compiler.FINGERPRINT_TASK
  assert edges == {
      **TFX_EDGES,
      'Evaluator': TFX_EDGES['Evaluator'] | {baseline},
      baseline: {'Trainer'},
      'CsvExampleGen': {fingerprint},
      fingerprint: set(),
  }


def test_parameters_resources_and_caching_are_as_configured(kfp_spec, kfp_env):
  tasks = kfp_spec['root']['dag']['tasks']
  trainer = tasks['Trainer']['inputs']['parameters']
  assert json.loads(trainer['train_args']['runtimeValue']['constant']) == {
      'num_steps': configs.TRAIN_STEPS}
  custom_config = json.loads(trainer['custom_config']['runtimeValue']['constant'])
  assert custom_config['hparams'] == configs.HPARAMS
  assert trainer['run_fn']['runtimeValue']['constant'] == configs.RUN_FN
  baseline = tasks[pipeline_lib.LATEST_PUSHED_ID]['inputs']['parameters']
  storage = kfp_env[0] / 'storage'
  assert baseline['push_destination']['runtimeValue']['constant'] == (
      f'{storage}/serving_model/{configs.PIPELINE_NAME}')
  # Everything is cached but the data fingerprint, which ExampleGen's key
  # holds.
  assert {name for name, t in tasks.items()
          if t['cachingOptions'].get('enableCache')} == set(tasks) - {
              compiler.FINGERPRINT_TASK}
  assert tasks['CsvExampleGen']['inputs']['parameters'][
      compiler.FINGERPRINT_PARAMETER]['taskOutputParameter'][
          'producerTask'] == compiler.FINGERPRINT_TASK

  executors = kfp_spec['deploymentSpec']['executors']
  trainer_resources = executors['Trainer_executor']['container']['resources']
  wanted = settings.COMPONENT_RESOURCES['Trainer']
  assert trainer_resources['cpuLimit'] == wanted.cpu
  assert trainer_resources['memoryLimit'] == wanted.memory_gb


def test_report_output_has_the_type_the_dashboard_renders(kfp_spec):
  # The KFP dashboard shows artifacts whose ML Metadata type is system.HTML;
  # the backend takes that name from the instance schema's title.
  outputs = kfp_spec['components']['RunReport']['outputDefinitions']
  schema = outputs['artifacts']['report']['artifactType']['instanceSchema']
  assert yaml.safe_load(schema)['title'] == 'system.HTML'


def test_vertex_package_carries_the_root_and_the_same_tasks(vertex_env):
  root, job = vertex_env
  assert set(job['pipelineSpec']['root']['dag']['tasks']) == helpers.VERTEX_TASKS
  executors = job['pipelineSpec']['deploymentSpec']['executors']
  assert all(set(e) == {'container'} for e in executors.values())
  assert job['runtimeConfig']['gcsOutputDirectory'] == (
      f'{root}/storage/pipelines/{configs.PIPELINE_NAME}')


def test_vertex_package_deploys_each_push_after_the_pusher(vertex_env,
                                                          kfp_spec):
  tasks = vertex_env[1]['pipelineSpec']['root']['dag']['tasks']
  deploy = tasks['VertexDeploy']
  assert deploy['dependentTasks'] == ['Pusher']
  assert deploy['inputs']['artifacts']['pushed_model'][
      'taskOutputArtifact'] == {'producerTask': 'Pusher',
                                'outputArtifactKey': 'pushed_model'}
  compiled = DeploySettings.from_json(deploy['inputs']['parameters'][
      'settings']['runtimeValue']['constantValue']['stringValue'])
  cluster = settings.KubeflowSettings()
  assert compiled == DeploySettings(project=cluster.project,
                                    region=cluster.region)
  assert 'VertexDeploy' not in kfp_spec['root']['dag']['tasks']


def test_the_deploy_task_runs_as_compiled_when_nothing_was_pushed(
    vertex_env, tmp_path):
  # As Vertex AI starts it: its ExecutorInput names each input by resource
  # name, with its type; no Google credentials here, so the step must
  # neither make an API client nor call one.
  spec = vertex_env[1]['pipelineSpec']
  settings_value = spec['root']['dag']['tasks']['VertexDeploy']['inputs'][
      'parameters']['settings']['runtimeValue']['constantValue']
  executor_input = json.dumps({
      'inputs': {'parameters': {'settings': settings_value},
                 'artifacts': {'pushed_model': {'artifacts': [{
                     'name': 'projects/1/locations/us-central1/'
                             'metadataStores/default/artifacts/7',
                     'uri': str(tmp_path / 'pushed_model'),
                     'type': {'instanceSchema':
                              'title: tfx.PushedModel\ntype: object\n'},
                     'metadata': {'pushed': 0.0}}]}}},
      'outputs': {'outputFile': str(tmp_path / 'output_metadata.json')}})
  container = spec['deploymentSpec']['executors']['VertexDeploy_executor'][
      'container']
  result = subprocess.run(
      [sys.executable, *container['command'][1:],
       *[executor_input if a == '{{$}}' else a for a in container['args']]],
      cwd=configs.PROJECT_ROOT, capture_output=True, text=True, timeout=300,
      env=helpers.venv_env(GOOGLE_APPLICATION_CREDENTIALS=str(
          tmp_path / 'no-credentials.json')))
  assert result.returncode == 0, result.stderr[-3000:]
  assert 'the Pusher pushed no model' in result.stderr


def test_a_bad_vertex_setting_stops_the_compile_naming_it():
  # `compile` prints a ValueError as one `error:` line, exit status 2.
  bad = dataclasses.replace(settings.KubeflowSettings(), target='vertex',
                            region='us central')
  with pytest.raises(ValueError) as e:
    compiler.build_pipeline(bad)
  assert str(e.value) == ("Vertex AI deploy settings: region='us central': "
                          'expected [a-z]+(-[a-z]+)+[0-9]+')
  # The KFP package has no deploy step, so nothing there reads it.
  compiler.build_pipeline(dataclasses.replace(bad, target='kfp'))


def test_a_backfill_package_has_its_span_compiled_in(tmp_path):
  # Runtime parameters are broken in TFX 1.16's V2 runner: the span is a
  # constant of the package, for Vertex AI as for KFP.
  result = helpers.compile_kubeflow('vertex', tmp_path / 'storage',
                                    tmp_path / 'data', tmp_path / 'package',
                                    args=['--span', '3'])
  assert result.returncode == 0, result.stderr[-3000:]
  package = Path(result.stdout.splitlines()[-1])
  assert package.name == f'{configs.PIPELINE_NAME}-vertex-span-3.json'
  job = json.loads(package.read_text())
  parameters = job['pipelineSpec']['root']['dag']['tasks']['CsvExampleGen'][
      'inputs']['parameters']
  # Schema 2.0, which Vertex AI reads: typed constants.
  assert parameters['newest_span']['runtimeValue'] == {
      'constantValue': {'intValue': '3'}}


def test_unknown_target_is_one_clear_line(tmp_path):
  result = helpers.compile_kubeflow('argo', tmp_path, tmp_path, tmp_path)
  assert result.returncode == 2
  assert result.stderr.splitlines() == [
      "error: KUBEFLOW_TARGET='argo': expected one of kfp, vertex"
  ]


@pytest.mark.parametrize('epochs', ['0', 'two', '-1'])
def test_train_epochs_not_a_whole_number_is_refused(monkeypatch, epochs):
  # The runner prints the error as one line (the test above).
  monkeypatch.setenv('TRAIN_EPOCHS', epochs)
  with pytest.raises(ValueError, match=(
      f"^TRAIN_EPOCHS='{epochs}': expected a whole number of passes over "
      'the train split, 1 or more$')):
    settings.kubeflow_settings_from_env()


def test_tfx_cli_creates_the_vertex_pipeline(tmp_path):
  # The CLI looks for kfp with `pip freeze` from PATH: the venv's pip.
  env = helpers.venv_env(HOME=str(tmp_path), STORAGE_ROOT='gs://bucket')
  result = subprocess.run(
      [str(helpers.VENV_BIN / 'tfx'), 'pipeline', 'create', '--engine=vertex',
       '--pipeline_path=kubeflow_runner.py'],
      cwd=configs.PROJECT_ROOT, env=env, capture_output=True, text=True,
      timeout=300)
  assert result.returncode == 0, result.stderr[-3000:]
  package = tmp_path / 'tfx' / 'vertex' / configs.PIPELINE_NAME / 'pipeline.json'
  assert str(package) in result.stdout  # the runner reports the real path
  job = json.loads(package.read_text())
  assert job['runtimeConfig']['gcsOutputDirectory'] == (
      f'gs://bucket/pipelines/{configs.PIPELINE_NAME}')


def test_a_span_below_zero_is_one_line_before_compiling(tmp_path):
  result = helpers.compile_kubeflow('kfp', tmp_path, tmp_path, tmp_path,
                                    args=['--span', '-3'])
  assert result.returncode == 2
  assert result.stderr.splitlines()[-1].endswith(
      "argument --span: '-3' is no span: spans are numbered 0 and up (the N "
      'of span-N folders; 0: a data root without them)')
  assert not list(tmp_path.iterdir())
