"""One pipeline, two engines, one answer.

`local_runner.py` as users run it (StatisticsGen, Transform and the
Evaluator in process) and with `--with-beam` (TFX's Beam executors, as on a
cluster), on the bundled data: the same gate decision, the same blessing,
the same metrics within tolerance. This is the suite's deliberate run of
TFX's Beam path.
"""

import pytest

import helpers
from local import paths as local_paths
from local import run_summary
from pipeline.components.data_gate import component as data_gate
from pipeline.metrics import eval_results

pytestmark = pytest.mark.e2e

# Transform's vocabularies may order tokens of equal count differently
# (tests/pipeline/test_transform.py), so the two models are trained from
# slightly different id layouts: their metrics agree closely, not exactly.
METRIC_TOLERANCE = 0.01


def _run(data, output_dir, *args):
  result = helpers.run_local_runner(data, output_dir, *args, timeout=900)
  assert result.returncode == 0, result.stderr[-3000:]
  return run_summary.latest_run(
      str(local_paths.LocalPaths(output_dir).metadata_path))


def test_with_and_without_beam_decide_the_same(tmp_path, bundled_run):
  in_process = bundled_run.summary
  beam = _run(bundled_run.data, tmp_path / 'beam', '--with-beam')

  assert in_process.node_states == beam.node_states
  assert set(in_process.node_states.values()) == {'COMPLETE'}
  gates = [data_gate.read_decision(s.gate_decision)
           for s in (in_process, beam)]
  assert gates[0] == gates[1] and gates[0]['passed']
  assert in_process.blessed is beam.blessed is True
  assert bool(in_process.pushed_model) and bool(beam.pushed_model)
  [ours] = eval_results.overall_metrics(in_process.evaluation).values()
  [theirs] = eval_results.overall_metrics(beam.evaluation).values()
  assert ours.keys() == theirs.keys()
  for name in ours:
    assert ours[name] == pytest.approx(theirs[name], abs=METRIC_TOLERANCE), name
