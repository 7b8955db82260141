"""A local run's HTML report (pipeline/report/), from ML Metadata.

Written after every run, failed ones too, as `<output>/reports/<run>.html`
and `latest.html`; `taxi-tips report` writes one for any earlier run.
"""

import os
import shutil
from pathlib import Path
from typing import Optional

from local import metadata
from local import paths as local_paths
from local import run_summary
from pipeline import configs
from pipeline.report import content
from pipeline.report import render

GATE_NODE = 'DataGate'
LATEST = 'latest.html'


def _gate_decision(summary: run_summary.RunSummary,
                   paths: local_paths.LocalPaths) -> Optional[str]:
  """The gate's decision folder, also when its step failed.

  ML Metadata records no output of a failed step, but the gate wrote its
  decision first, where TFX's local orchestrator puts an execution's
  outputs: <root>/<node>/<key>/<id>.
  """
  if summary.gate_decision or GATE_NODE not in summary.execution_ids:
    return summary.gate_decision
  return os.path.join(paths.pipeline_root, GATE_NODE, run_summary.DECISION_KEY,
                      str(summary.execution_ids[GATE_NODE]))


def run_inputs(summary: run_summary.RunSummary, paths: local_paths.LocalPaths,
               failure: Optional[str] = None) -> content.RunInputs:
  """What the report of a local run reads.

  Args:
    summary: the run, read back from ML Metadata.
    paths: the run's output folder.
    failure: why it failed, if it did.

  Returns:
    The report's inputs.
  """
  trainer_config = summary.trainer_config or {}
  return content.RunInputs(
      run=summary.run_id,
      nodes=[content.NodeRun(node, state, summary.node_seconds[node])
             for node, state in summary.node_states.items()],
      data=summary.data or '',
      push_destination=str(paths.serving_model_dir),
      hparams=trainer_config.get('hparams', {}),
      code_fingerprint=trainer_config.get('code_fingerprint', ''),
      eval_thresholds=configs.EVAL_THRESHOLDS,
      failure=failure,
      spans=summary.spans,
      statistics=summary.statistics,
      gate_decision=_gate_decision(summary, paths),
      model_run=summary.model_run,
      evaluation=summary.evaluation,
      blessed=summary.blessed,
      serving_check=summary.serving_check,
      pushed_version=summary.pushed_model)


def write_report(summary: run_summary.RunSummary,
                 paths: local_paths.LocalPaths,
                 failure: Optional[str] = None) -> Path:
  """Writes <reports>/<run>.html, and latest.html for the newest run.

  The report is copied to latest.html if the run is the newest.

  Returns:
    The run's report file.
  """
  paths.report_dir.mkdir(parents=True, exist_ok=True)
  path = paths.report_dir / f'{summary.run_id}.html'
  render.write(run_inputs(summary, paths, failure), str(path))
  if metadata.run_ids(str(paths.metadata_path))[-1:] == [summary.run_id]:
    shutil.copyfile(path, paths.report_dir / LATEST)
  return path


def report_of_run(paths: local_paths.LocalPaths,
                  run_id: Optional[str] = None) -> Path:
  """Writes the report of an earlier run.

  It has everything but the run's failure reason, which only the run's own
  report and log have.

  Args:
    paths: the runs' output folder.
    run_id: the run (default: the newest).

  Returns:
    The report file.

  Raises:
    LookupError: there is no such run.
  """
  summary = run_summary.latest_run(str(paths.metadata_path), run_id=run_id)
  if summary is None:
    known = metadata.run_ids(str(paths.metadata_path))
    raise LookupError(
        f'no run {run_id} in {paths.metadata_path} (runs: '
        f'{", ".join(known[-5:]) or "none"})' if run_id else
        f'no run in {paths.metadata_path}')
  return write_report(summary, paths)
