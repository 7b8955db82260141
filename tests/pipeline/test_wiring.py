"""Which executor each node runs, in each mode.

The in-process steps only where asked for, TFX's own everywhere else and in
both cluster packages.
"""


import pytest
from tfx.components.evaluator import executor as tfx_evaluator
from tfx.components.statistics_gen import executor as tfx_statistics_gen
from tfx.components.transform import executor as tfx_transform

from pipeline import configs
from pipeline import pipeline as pipeline_lib
from pipeline.in_process.evaluator import executor as in_process_evaluator
from pipeline.in_process.statistics_gen import executor as in_process_statistics
from pipeline.in_process.transform import executor as in_process_transform

BEAM_STEPS = {
    'StatisticsGen': (in_process_statistics.Executor,
                      tfx_statistics_gen.Executor),
    'Transform': (in_process_transform.Executor, tfx_transform.Executor),
    'Evaluator': (in_process_evaluator.Executor, tfx_evaluator.Executor),
}


def _executors(without_beam: bool) -> dict:
  tfx_pipeline = pipeline_lib.create_pipeline(
      pipeline_name=configs.PIPELINE_NAME, pipeline_root='/root',
      data_root='/data', serving_model_dir='/serving',
      without_beam=without_beam)
  return {c.id: c.executor_spec.executor_class for c in tfx_pipeline.components
          if hasattr(c.executor_spec, 'executor_class')}


@pytest.mark.parametrize('without_beam', [True, False])
def test_each_beam_step_runs_the_executor_of_its_mode(without_beam):
  executors = _executors(without_beam)
  for node, (in_process, tfx) in BEAM_STEPS.items():
    assert executors[node] is (in_process if without_beam else tfx), node


def test_every_other_node_is_the_same_in_both_modes():
  local, beam = _executors(True), _executors(False)
  assert local.keys() == beam.keys()
  assert {n: e for n, e in local.items() if n not in BEAM_STEPS} == {
      n: e for n, e in beam.items() if n not in BEAM_STEPS}


def test_the_cluster_packages_run_tfxs_beam_executors(kfp_spec):
  executors = kfp_spec['deploymentSpec']['executors']
  for node, (_, tfx) in BEAM_STEPS.items():
    args = executors[f'{node}_executor']['container']['args']
    class_path = args[args.index('--executor_class_path') + 1]
    assert class_path == f'{tfx.__module__}.{tfx.__qualname__}', node
