"""The HTML run report of real local runs.

Its figures against ML Metadata and the artifacts, the command for earlier
runs, and the page in a browser with no network.
"""

import html.parser
import json
from pathlib import Path
import subprocess

from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2
from PIL import Image
import pytest
import tensorflow as tf
from tensorflow_metadata.proto.v0 import statistics_pb2

import browser
import helpers
from local import paths
from pipeline.metrics import eval_results

pytestmark = pytest.mark.e2e

TAXI_TIPS = str(helpers.VENV_BIN / 'taxi-tips')
SECTIONS = ['The run', 'The data', 'The model', 'The evaluation',
            'The decision', 'The history']


@pytest.fixture(scope='module')
def two_runs(tmp_path_factory, bundled_rows):
  """(output dir, [first run's stdout, second's]) of two local runs.

  The bundled data, then a different part of it, as local_runner.py runs
  them.
  """
  root = tmp_path_factory.mktemp('report')
  first = helpers.write_csv(root / 'first' / 'data.csv', bundled_rows)
  second = helpers.write_csv(root / 'second' / 'data.csv',
                             bundled_rows[::2] + bundled_rows[1::4])
  outputs = root / 'outputs'
  stdouts = []
  for data in (first.parent, second.parent):
    result = helpers.run_local_runner(data, outputs, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    stdouts.append(result.stdout)
  return outputs, stdouts


class _Tables(html.parser.HTMLParser):
  """Section id -> the texts of each table row's cells.

  And the page's text per section.
  """

  def __init__(self):
    super().__init__()
    self.rows, self.text = {}, {}
    self._section, self._row, self._cell = None, None, None

  def handle_starttag(self, tag, attrs):
    if tag == 'section':
      self._section = dict(attrs)['id']
    elif tag == 'tr':
      self._row = []
    elif tag in ('td', 'th') and self._row is not None:
      self._cell = ''

  def handle_endtag(self, tag):
    if tag in ('td', 'th') and self._cell is not None:
      self._row.append(self._cell.strip())
      self._cell = None
    elif tag == 'tr' and self._row is not None:
      self.rows.setdefault(self._section, []).append(self._row)
      self._row = None

  def handle_data(self, data):
    if self._cell is not None:
      self._cell += data
    if self._section:
      self.text[self._section] = self.text.get(self._section, '') + data


def _parse(page: Path) -> _Tables:
  tables = _Tables()
  tables.feed(page.read_text())
  return tables


def _newest_run(outputs: Path):
  """(store, the newest run's executions by node id), read directly."""
  config = metadata_store_pb2.ConnectionConfig()
  config.sqlite.filename_uri = str(paths.LocalPaths(outputs).metadata_path)
  config.sqlite.connection_mode = config.sqlite.READONLY
  store = metadata_store.MetadataStore(config)
  run = max(store.get_contexts_by_type('pipeline_run'),
            key=lambda c: c.create_time_since_epoch)
  executions = {}
  for execution in sorted(store.get_executions_by_context(run.id),
                          key=lambda e: e.id):
    [node] = [c.name.split('.', 1)[1]
              for c in store.get_contexts_by_execution(execution.id)
              if c.type == 'node']
    executions[node] = execution
  return store, run, executions


def _versions(outputs: Path) -> list:
  """The pushed version numbers, newest first."""
  serving = paths.LocalPaths(outputs).serving_model_dir
  return sorted((p.name for p in serving.iterdir() if p.name.isdigit()),
                key=int, reverse=True)


def _output(store, execution, key):
  events = [e for e in store.get_events_by_execution_ids([execution.id])
            if e.type == metadata_store_pb2.Event.OUTPUT and
            e.path.steps[0].key == key]
  [artifact] = store.get_artifacts_by_id([events[0].artifact_id])
  return artifact


def test_each_run_prints_its_report_and_latest_is_the_newest(two_runs):
  outputs, stdouts = two_runs
  reports = paths.LocalPaths(outputs).report_dir
  written = [Path(out.splitlines()[-1].removeprefix('Report: '))
             for out in stdouts]
  assert [p.parent for p in written] == [reports, reports]
  assert written[0] != written[1]
  assert (reports / 'latest.html').read_bytes() == written[1].read_bytes()


def test_report_figures_are_the_runs_own(two_runs):
  outputs, _ = two_runs
  page = _parse(paths.LocalPaths(outputs).report_dir / 'latest.html')
  store, run, executions = _newest_run(outputs)
  state = metadata_store_pb2.Execution.State.Name

  # The run: each node, its state and its duration, as ML Metadata has them.
  assert page.rows['run'][1:] == [
      [node, state(e.last_known_state),
       f'{(e.last_update_time_since_epoch - e.create_time_since_epoch) / 1000:.1f}']
      for node, e in executions.items()]
  report = paths.LocalPaths(outputs).report_dir / 'latest.html'
  assert f'Run <code>{run.name}</code>' in report.read_text()

  # The data: rows per split, from StatisticsGen's output.
  statistics = _output(store, executions['StatisticsGen'], 'statistics').uri
  for split in ('train', 'eval'):
    stats = statistics_pb2.DatasetFeatureStatisticsList.FromString(
        Path(statistics, f'Split-{split}', 'FeatureStats.pb').read_bytes())
    assert [split, f'{stats.datasets[0].num_examples:,}'] in page.rows['data']
  # The gate compared with the first run's model, and passed.
  first_version = _versions(outputs)[-1]
  assert ('Compared with the training data of the serving model '
          f'{paths.LocalPaths(outputs).serving_model_dir / first_version}'
          ': passed') in ' '.join(page.text['data'].split())

  # The model: the hyperparameters the Trainer ran with; the last
  # validation AUC of its TensorBoard logs is on the curve.
  config = json.loads(
      executions['Trainer'].custom_properties['custom_config'].string_value)
  for name, value in config['hparams'].items():
    assert [name, str(value)] in page.rows['model']
  assert ['Model code fingerprint', config['code_fingerprint']] in page.rows[
      'model']
  model_run = _output(store, executions['Trainer'], 'model_run').uri
  [events] = tf.io.gfile.glob(f'{model_run}/validation/events.out.tfevents.*')
  [final_auc] = [
      float(tf.make_ndarray(v.tensor))
      for record in tf.data.TFRecordDataset(events)
      for v in tf.compat.v1.Event.FromString(record.numpy()).summary.value
      if v.tag == 'evaluation_auc_vs_iterations']
  steps = json.loads(executions['Trainer'].custom_properties[
      'train_args'].string_value)['num_steps']
  assert f'eval: {steps}, {final_auc:.2f}' in report.read_text()

  # The evaluation: candidate and baseline on the whole eval split.
  evaluation = _output(store, executions['Evaluator'], 'evaluation').uri
  overall = eval_results.overall_metrics(evaluation)
  assert set(overall) == {'candidate', 'baseline'}
  rows = page.rows['evaluation']
  start = rows.index(next(r for r in rows if r[0] == 'overall'))
  for row, model in zip(rows[start:start + 2], ('candidate', 'baseline')):
    assert row[1] == model
    assert row[3] == f'{overall[model]["auc"]:.3f}'
    assert row[4] == f'{overall[model]["binary_accuracy"]:.3f}'

  # The decision and the history: what the Pusher did, every version.
  pushed = _output(store, executions['Pusher'], 'pushed_model')
  decision = ' '.join(page.text['decision'].split())
  if pushed.custom_properties['pushed'].int_value:
    assert (f'Pushed: {pushed.custom_properties["pushed_destination"].string_value}'
            in decision)
  else:
    assert 'Not pushed' in decision
  assert 'Serving check: passed' in decision or 'Not pushed' in decision
  assert [r[0].split()[0] for r in page.rows['history'][1:]] == _versions(
      outputs)


def test_report_command_writes_an_earlier_runs_report(two_runs):
  outputs, stdouts = two_runs
  reports = paths.LocalPaths(outputs).report_dir
  latest = (reports / 'latest.html').read_bytes()
  first = Path(stdouts[0].splitlines()[-1].removeprefix('Report: '))
  first.unlink()
  env = helpers.venv_env(OUTPUT_DIR=str(outputs))
  listed = subprocess.run([TAXI_TIPS, 'report', '--list'], env=env,
                          capture_output=True, text=True, timeout=120)
  run_ids = listed.stdout.split()
  assert [f'{r}.html' for r in run_ids] == [
      Path(out.splitlines()[-1]).name for out in stdouts]
  result = subprocess.run([TAXI_TIPS, 'report', run_ids[0]], env=env,
                          capture_output=True, text=True, timeout=300)
  assert result.returncode == 0, result.stderr[-2000:]
  assert result.stdout.strip() == str(first) and first.exists()
  assert 'Compared with no earlier data' in first.read_text()
  # An earlier run's report does not replace the newest run's.
  assert (reports / 'latest.html').read_bytes() == latest

  missing = subprocess.run([TAXI_TIPS, 'report', 'no-such-run'], env=env,
                           capture_output=True, text=True, timeout=120)
  assert missing.returncode == 2
  assert missing.stderr.startswith('error: no run no-such-run in ')


def test_report_renders_offline_in_headless_chromium(two_runs, tmp_path):
  outputs, _ = two_runs
  report = paths.LocalPaths(outputs).report_dir / 'latest.html'
  with browser.open_page(tmp_path / 'profile') as page:
    page.send('Page.navigate', url=report.as_uri())
    page.wait_for('Page.loadEventFired')
    headings = page.evaluate(
        "[...document.querySelectorAll('h2')].map(h => h.textContent)")
    charts = page.evaluate(
        "[...document.querySelectorAll('svg.chart')].map(s => {"
        "const box = s.getBoundingClientRect(); return {width: box.width, "
        "height: box.height, marks: s.querySelectorAll("
        "'rect, polyline, circle').length}})")
    shot = page.screenshot(tmp_path / 'report.png')
    events = page.events

  assert headings == SECTIONS
  # Features, training curves, calibration and history all drew something.
  assert len(charts) > 20
  assert all(c['width'] > 100 and c['height'] > 50 and c['marks']
             for c in charts), charts
  errors = [e for e in events if
            e['method'] == 'Runtime.exceptionThrown' or
            (e['method'] == 'Runtime.consoleAPICalled' and
             e['params']['type'] == 'error') or
            (e['method'] == 'Log.entryAdded' and
             e['params']['entry']['level'] == 'error')]
  assert not errors, errors
  # Nothing but the file itself was requested.
  requested = [e['params']['request']['url'] for e in events
               if e['method'] == 'Network.requestWillBeSent']
  assert requested == [report.as_uri()]
  image = Image.open(shot)
  assert image.width >= 1000 and image.height > 3000
  # Not a blank page: many distinct colours (text, bars, lines).
  assert len(image.convert('RGB').getcolors(maxcolors=1 << 20)) > 50
