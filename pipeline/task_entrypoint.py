"""The container entrypoint of every TFX task in the compiled packages.

    python -m pipeline.task_entrypoint --executor_class_path ... \
        --json_serialized_invocation_args EXECUTOR_INPUT \
        [--json_serialized_inputs_spec_args INPUTS_SPEC] [beam args]

takes the arguments of TFX's own entrypoint
(`tfx.orchestration.kubeflow.v2.container.kubeflow_v2_run_executor`),
rewrites the ExecutorInput so that TFX can read what the open-source KFP 2
backend sends, and hands over to TFX's entrypoint in this process. TFX makes
an artifact of every input and output artifact in the ExecutorInput,
importing its class from the artifact's type
(`kubeflow_v2_entrypoint_utils._retrieve_class_path`), and two things the
backend sends stop it before the executor starts:

- Input artifacts from an upstream task come without a type: the driver
  reads them back from ML Metadata with an empty instance schema
  (`backend/src/v2/metadata/client.go`, `GetOutputArtifactsByExecutionId`),
  and TFX 1.16 fails with "'NoneType' object has no attribute 'get'"
  (tensorflow/tfx#7768). Each gets the type its component declares, from
  the inputs spec that TFX's compiler passes to every task of a schema 2.1
  package (the KFP target).
- Since KFP 2.14 the driver adds an output `executor-logs` of type
  `system.Artifact` to every task (`driver/driver.go`, `provisionOutputs`,
  publish_logs on by default), which TFX would import as the class
  `system.Artifact`. The launcher writes that artifact itself
  (`launcher_v2.go`, `getLogWriter`); TFX is not shown it.

Vertex AI sends each input with its type and adds no output (a 2.0
package, no inputs spec); there nothing is changed.

Once TFX's executor has written its outputs, the empty "folder/" objects
TensorFlow leaves in GCS are removed from them (pipeline/directory_markers.py:
the launcher of the next task could not copy them), and the process ends
without the interpreter's teardown: its outputs are written, and C++
destructors of protobuf and ML Metadata have crashed it there ("pure
virtual method called"), which would fail a finished task.
"""

import json
import os
import runpy
import sys
from typing import List, Tuple

from pipeline import directory_markers

TFX_ENTRYPOINT = 'tfx.orchestration.kubeflow.v2.container.kubeflow_v2_run_executor'
COMMAND = ['python', '-m', __name__]
# Outputs the KFP launcher adds and writes itself.
LAUNCHER_OUTPUTS = ('executor-logs',)
_INVOCATION_FLAG = '--json_serialized_invocation_args'
_INPUTS_SPEC_FLAG = '--json_serialized_inputs_spec_args'


class UntypedInputError(ValueError):
  """An input artifact has no type and its component declares none."""


def _has_type(artifact: dict) -> bool:
  artifact_type = artifact.get('type') or {}
  return bool(artifact_type.get('instanceSchema') or
              artifact_type.get('schemaTitle'))


def executor_input_for_tfx(executor_input: dict, inputs_spec: dict) -> dict:
  """The ExecutorInput with input artifacts typed, launcher outputs dropped.

  Each untyped input artifact is given its declared type; the outputs the
  launcher writes itself are left out.

  Args:
    executor_input: the ExecutorInput as JSON (protobuf's JSON mapping).
    inputs_spec: the component's inputDefinitions as JSON; {} if the package
      passes none.

  Returns:
    A copy of executor_input; artifacts that carry a type keep it.

  Raises:
    UntypedInputError: an input artifact has no type and inputs_spec
      declares none for its key.
  """
  typed = json.loads(json.dumps(executor_input))
  declared = inputs_spec.get('artifacts', {})
  for key, artifact_list in typed.get('inputs', {}).get('artifacts',
                                                         {}).items():
    for artifact in artifact_list.get('artifacts', []):
      if _has_type(artifact):
        continue
      artifact_type = declared.get(key, {}).get('artifactType')
      if not artifact_type:
        raise UntypedInputError(
            f'input artifact {key!r} (name {artifact.get("name")!r}) arrived '
            'without a type, and the task names no declared type for it '
            f'({_INPUTS_SPEC_FLAG} is missing or lacks {key!r})')
      artifact['type'] = dict(artifact_type)
  for key in LAUNCHER_OUTPUTS:
    typed.get('outputs', {}).get('artifacts', {}).pop(key, None)
  return typed


def _flag_index(argv: List[str], flag: str) -> int:
  """The index of flag's value in argv, or -1.

  Either `--flag value` or `--flag=value`; the latter is split in place into
  `--flag` and `value`, so the value can be replaced by index.
  """
  for i, arg in enumerate(argv):
    if arg == flag and i + 1 < len(argv):
      return i + 1
    if arg.startswith(flag + '='):
      argv[i:i + 1] = [flag, arg[len(flag) + 1:]]
      return i + 1
  return -1


def argv_for_tfx(argv: List[str]) -> Tuple[List[str], dict]:
  """TFX's entrypoint arguments, the ExecutorInput rewritten.

  The ExecutorInput is rewritten by executor_input_for_tfx.

  Args:
    argv: the task's arguments (without the program name).

  Returns:
    A copy of argv with the invocation argument rewritten, and the
    rewritten ExecutorInput.

  Raises:
    UntypedInputError: as executor_input_for_tfx.
    ValueError: argv has no ExecutorInput.
  """
  argv = list(argv)
  invocation = _flag_index(argv, _INVOCATION_FLAG)
  if invocation < 0:
    raise ValueError(f'{_INVOCATION_FLAG} is required')
  spec_index = _flag_index(argv, _INPUTS_SPEC_FLAG)
  inputs_spec = json.loads(argv[spec_index]) if spec_index >= 0 else {}
  executor_input = executor_input_for_tfx(json.loads(argv[invocation]),
                                          inputs_spec)
  argv[invocation] = json.dumps(executor_input)
  return argv, executor_input


def main() -> None:
  """Rewrites sys.argv and runs TFX's entrypoint as `python -m` would.

  Then it tidies the entrypoint's GCS outputs and exits.
  """
  try:
    sys.argv[1:], executor_input = argv_for_tfx(sys.argv[1:])
  except ValueError as e:
    sys.exit(f'error: {e}')
  try:
    runpy.run_module(TFX_ENTRYPOINT, run_name='__main__', alter_sys=True)
  except SystemExit as e:  # absl's app.run ends with sys.exit
    if e.code:
      raise
  # A task with no output artifact (VertexDeploy) gets no map on Vertex AI:
  # protobuf's JSON leaves empty maps out.
  outputs = executor_input['outputs'].get('artifacts', {}).values()
  uris = [artifact['uri'] for listed in outputs
          for artifact in listed['artifacts']]
  for name in directory_markers.remove(uris):
    print(f'removed the folder marker {name}')
  sys.stdout.flush()
  sys.stderr.flush()
  os._exit(0)  # pylint: disable=protected-access

if __name__ == '__main__':
  main()
