"""local_runner.py end to end, as a user runs it: console and log file."""

from pathlib import Path

import pytest

import helpers

pytestmark = pytest.mark.e2e


def test_a_run_shows_every_component_and_logs_it(bundled_run):
  result = bundled_run.result
  # The last lines: where the log and the HTML report are.
  *_, log_line, report_line = result.stdout.splitlines()
  log_file = Path(log_line.removeprefix('Log: '))
  assert log_file.parent == bundled_run.output_dir / 'logs'
  log = log_file.read_text()
  # Every node, also those after the Trainer's export (TensorFlow's export
  # used to turn absl INFO records off for the rest of the run).
  for node in helpers.ALL_NODES:
    assert f'Component {node} is finished.' in result.stderr, node  # console
    assert f'Component {node} is finished.' in log, node
    assert f'  {node:32} COMPLETE' in result.stdout  # the run report
  report = Path(report_line.removeprefix('Report: '))
  assert report.parent == bundled_run.output_dir / 'reports'
  assert report.is_file()
