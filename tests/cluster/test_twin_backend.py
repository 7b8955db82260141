"""The stand-in backend's driver and launcher rules, each on a small package.

Each package is of `python -c` tasks; tests/fakes/kfp_launcher.py runs the
real package in test_compile.py and test_retraining.py.
"""

import json
from pathlib import Path
import sys

import yaml

from fakes import container_process
from fakes import kfp_launcher

# Writes its ExecutorInput to its `data` output, the metadata and output
# parameters it is given as argv[2] (JSON) to the executor output file, and
# the files named in argv[3] (JSON: output parameter -> text).
_TASK = '''
import json, os, sys
executor_input = json.loads(sys.argv[1])
outputs = executor_input['outputs']
data = outputs['artifacts'].get('data')
if data:
  with open(data['artifacts'][0]['uri'], 'w') as f:
    json.dump(executor_input, f)
written = json.loads(sys.argv[2])
with open(outputs['outputFile'], 'w') as f:
  json.dump(written, f)
for name, text in json.loads(sys.argv[3]).items():
  with open(outputs['parameters'][name]['outputFile'], 'w') as f:
    f.write(text)
'''
_ARTIFACT = {'artifactType': {'schemaTitle': 'system.Dataset'}}


def _task(parameters=None, artifacts=None, outputs=(), output_parameters=(),
          inputs_declared=None, written=None, files=None, after=()):
  return {'parameters': parameters or {}, 'artifacts': artifacts or {},
          'outputs': outputs, 'output_parameters': output_parameters,
          'declared': inputs_declared or {}, 'written': written or {},
          'files': files or {}, 'after': after}


def _package(path: Path, tasks: dict) -> Path:
  """A schema 2.1 package of the tasks, breaking no backend rule."""
  spec = {'schemaVersion': '2.1.0', 'pipelineInfo': {'name': 'twin'},
          'defaultPipelineRoot': '/pipeline-root', 'components': {},
          'deploymentSpec': {'executors': {}}, 'root': {'dag': {'tasks': {}}}}
  for name, task in tasks.items():
    inputs = {'parameters': {k: {'runtimeValue': {'constant': v}} for k, v
                             in task['parameters'].items()},
              'artifacts': {k: {'taskOutputArtifact': {
                  'producerTask': producer, 'outputArtifactKey': key}}
                            for k, (producer, key) in
                            task['artifacts'].items()}}
    spec['root']['dag']['tasks'][name] = {
        'componentRef': {'name': name}, 'taskInfo': {'name': name},
        'inputs': inputs, 'cachingOptions': {'enableCache': True},
        'dependentTasks': sorted({*task['after'], *(
            producer for producer, _ in task['artifacts'].values())})}
    spec['components'][name] = {
        'executorLabel': f'{name}_executor',
        'inputDefinitions': {'parameters': task['declared'], 'artifacts': {
            k: _ARTIFACT for k in task['artifacts']}},
        'outputDefinitions': {
            'artifacts': {k: _ARTIFACT for k in task['outputs']},
            'parameters': {k: {'parameterType': 'STRING'}
                           for k in task['output_parameters']}}}
    spec['deploymentSpec']['executors'][f'{name}_executor'] = {'container': {
        'image': 'python', 'command': [sys.executable, '-c', _TASK],
        'args': ['{{$}}', json.dumps(task['written']),
                 json.dumps(task['files'])],
        'resources': {'cpuLimit': 1, 'memoryLimit': 1}}}
  path.write_text(yaml.safe_dump(spec))
  return path


def _run(tmp_path, tasks, cache=None, run_id='run-1', until=None):
  logs = tmp_path / 'logs' / run_id
  logs.mkdir(parents=True)
  return kfp_launcher.run_package(
      _package(tmp_path / 'package.yaml', tasks), tmp_path / 'root', {},
      logs, workdir=tmp_path, run_id=run_id, cache=cache, until=until)


def _received(run, task: str) -> dict:
  """The ExecutorInput the task's container was given."""
  return json.loads(Path(run.outputs[task]['data']['uri']).read_text())


def test_an_upstream_artifact_arrives_as_the_driver_reads_it_back(tmp_path):
  metadata = {'count': 3, 'ok': True, 'names': ['a'], 'nested': {'k': 1},
              'label': 'x'}
  run = _run(tmp_path, {
      'make': _task(outputs=['data'], output_parameters=['word'],
                    written={'artifacts': {'data': {'artifacts': [
                        {'metadata': metadata}]}}},
                    files={'word': 'hello'}),
      'use': _task(artifacts={'examples': ('make', 'data')},
                   parameters={'word_in': 'w'}, outputs=['data'])})
  assert run.failed == []
  [artifact] = _received(run, 'use')['inputs']['artifacts']['examples'][
      'artifacts']
  assert int(artifact['name']) > 0  # its ML Metadata id
  assert artifact['type'] == {'instanceSchema': ''}
  assert artifact['uri'] == run.outputs['make']['data']['uri']
  assert artifact['metadata'] == {
      'count': 3.0, 'ok': 1.0, 'names': {'list': ['a']},
      'nested': {'struct': {'k': 1.0}}, 'label': 'x', 'display_name': 'data',
      'store_session_info': '{"Provider":"gs","Params":{"fromEnv":"true"}}'}
  assert run.parameters['make'] == {'word': 'hello'}
  # The launcher's own output, beside the declared ones.
  outputs = _received(run, 'use')['outputs']['artifacts']
  assert outputs['executor-logs']['artifacts'][0]['type'] == {
      'schemaTitle': 'system.Artifact'}
  assert outputs['data']['artifacts'][0]['name'] == 'data'


def test_the_container_specs_env_is_set_over_the_images(tmp_path):
  package = _package(tmp_path / 'package.yaml',
                     {'show': _task(output_parameters=['seen'])})
  spec = yaml.safe_load(package.read_text())
  container = spec['deploymentSpec']['executors']['show_executor'][
      'container']
  container['env'] = [{'name': 'THREADS', 'value': '2'}]
  container['command'] = [sys.executable, '-c', (
      'import json, os, sys\n'
      'outputs = json.loads(sys.argv[1])["outputs"]\n'
      'with open(outputs["parameters"]["seen"]["outputFile"], "w") as f:\n'
      '  f.write(os.environ["THREADS"] + os.environ["IMAGE_ONLY"])')]
  container['args'] = ['{{$}}']
  package.write_text(yaml.safe_dump(spec))
  (tmp_path / 'logs').mkdir()
  run = kfp_launcher.run_package(
      package, tmp_path / 'root', {'THREADS': '8', 'IMAGE_ONLY': '+image'},
      tmp_path / 'logs', workdir=tmp_path)
  assert run.failed == [], (tmp_path / 'logs' / 'show.log').read_text()
  assert run.parameters['show'] == {'seen': '2+image'}


def test_a_string_parameter_given_another_kind_gets_its_text(tmp_path):
  declared = {name: {'parameterType': 'STRING'}
              for name in ('count', 'ratio', 'items', 'flag')}
  run = _run(tmp_path, {'use': _task(
      parameters={'count': 300, 'ratio': 1.5, 'items': [1, 'a<b'],
                  'flag': True}, inputs_declared=declared, outputs=['data'])})
  assert run.failed == []
  assert _received(run, 'use')['inputs']['parameterValues'] == {
      'count': '300', 'ratio': '1.5', 'items': '[1,"a\\u003cb"]',
      'flag': 'true'}


def test_the_driver_checks_each_task_when_it_starts(tmp_path):
  run = _run(tmp_path, {
      'first': _task(outputs=['data']),
      'second': _task(inputs_declared={
          'needed': {'parameterType': 'STRING'},
          'steps': {'parameterType': 'NUMBER_INTEGER'}},
                      parameters={'steps': 'ten'}, after=['first']),
      'third': _task(after=['second'])})
  assert run.executed == ['first']
  assert run.failed == ['second'] and run.skipped == ['third']
  log = (tmp_path / 'logs' / 'run-1' / 'second.log').read_text()
  assert log.startswith('driver: failed to resolve inputs: ')
  # The driver visits the declared parameters in a Go map's order.
  assert ('neither value nor default value provided for non-optional '
          'parameter "needed"' in log or
          'input parameter "steps" type mismatch: expect NUMBER_INTEGER, '
          'got string' in log)


def test_defaults_reach_the_container_not_the_cache_key(tmp_path):
  declared = {'optional': {'parameterType': 'STRING', 'isOptional': True,
                           'defaultValue': 'dflt'}}
  run = _run(tmp_path, {'use': _task(inputs_declared=declared,
                                     outputs=['data'])})
  assert _received(run, 'use')['inputs']['parameterValues'] == {
      'optional': 'dflt'}
  assert run.executor_inputs['use']['inputs']['parameterValues'] == {}


def test_declared_output_parameters_are_read_from_their_files(tmp_path):
  run = _run(tmp_path, {
      'unwritten': _task(output_parameters=['word']),
      'undeclared': _task(written={'parameterValues': {'extra': 'kept'}})})
  assert run.failed == ['unwritten']
  log = (tmp_path / 'logs' / 'run-1' / 'unwritten.log').read_text()
  assert 'launcher: failed to read output parameter name="word" ' in log
  assert '/tmp/kfp/outputs/word' in log
  assert run.parameters['undeclared'] == {'extra': 'kept'}


def test_an_executor_output_protojson_rejects_fails_the_task(tmp_path):
  run = _run(tmp_path, {'bad': _task(written={'parameterValue': {}})})
  assert run.failed == ['bad']
  assert 'failed to unmarshall ExecutorOutput' in (
      tmp_path / 'logs' / 'run-1' / 'bad.log').read_text()


def test_null_metadata_cannot_be_recorded(tmp_path):
  run = _run(tmp_path, {'bad': _task(outputs=['data'], written={
      'artifacts': {'data': {'artifacts': [{'metadata': {'n': None}}]}}})})
  assert run.failed == ['bad']
  assert ('unable to produce MLMD artifact for output "data": failed to '
          'convert RuntimeArtifact to MLMD artifact: unknown/unsupported '
          'value type') in (tmp_path / 'logs' / 'run-1' / 'bad.log').read_text()


def test_the_cache_hands_on_the_same_artifacts(tmp_path):
  tasks = {'make': _task(outputs=['data']),
           'use': _task(artifacts={'examples': ('make', 'data')},
                        outputs=['data'])}
  cache = kfp_launcher.Cache()
  first = _run(tmp_path, tasks, cache)
  second = _run(tmp_path, tasks, cache, run_id='run-2')
  assert first.executed == ['make', 'use'] and second.executed == []
  assert second.outputs == first.outputs
  tasks['use']['parameters'] = {'changed': 1}
  third = _run(tmp_path, tasks, cache, run_id='run-3')
  assert third.executed == ['use']


def test_until_runs_a_task_and_what_it_needs_only(tmp_path):
  tasks = {'make': _task(outputs=['data']),
           'use': _task(artifacts={'examples': ('make', 'data')},
                        outputs=['data']),
           'apart': _task()}
  run = _run(tmp_path, tasks, until='use')
  assert sorted(run.executed) == ['make', 'use'] and not run.skipped


# Prints what a container's process can see of itself, then exits with 3.
_PROBE = '''
import json, os, sys
print(json.dumps({'cwd': os.getcwd(), 'path': sys.path, 'argv': sys.argv[1:],
                  'env': dict(os.environ), 'name': __name__,
                  'file': __file__, 'tensorflow': 'tensorflow' in sys.modules}))
sys.exit(3)
'''


def test_a_forked_task_sees_what_a_new_process_sees(tmp_path, monkeypatch):
  image = tmp_path / 'image'
  image.mkdir()
  (image / 'probe.py').write_text(_PROBE)
  env = {'PATH': f'{Path(sys.executable).parent}:/usr/bin:/bin', 'X': '1'}
  argv = ['python', '-m', 'probe', '--flag', 'a b']
  forked = container_process.run(argv, env, image, timeout=120)
  monkeypatch.setenv(container_process.FRESH_PROCESSES_VARIABLE, '1')
  fresh = container_process.run(argv, env, image, timeout=120)
  assert forked[0] == fresh[0] == 3
  seen, expected = json.loads(forked[1]), json.loads(fresh[1])
  # Only what the fork server loaded differs: the point of it.
  assert (seen.pop('tensorflow'), expected.pop('tensorflow')) == (True, False)
  assert seen == expected
  assert seen['argv'] == ['--flag', 'a b'] and seen['name'] == '__main__'
