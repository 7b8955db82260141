"""Scheduled retraining on spans through the stand-in of the KFP backend.

The stand-in of the open-source KFP backend keeps its ML Metadata and cache
across runs, builds every input by the driver's rules and runs no lifecycle
hooks (tests/fakes/kfp_launcher.py).
"""

from pathlib import Path
import random

import pytest
import tensorflow as tf

import helpers
from cluster import compiler
from fakes import kfp_launcher
from models import push_destination
from pipeline import pipeline as pipeline_lib


# Rows of each span: enough for a model above the floors, few enough to
# keep each run quick.
SPAN_ROWS = 6000


def _spans(run: kfp_launcher.Run) -> str:
  """The spans ExampleGen read in a run (or the cached run it reused)."""
  return run.outputs['CsvExampleGen']['examples']['metadata']['spans']


def _check_first_push(run: kfp_launcher.Run, version: Path, rows: list):
  """The first run's blessed, pushed model.

  Checked in the pod, recorded, reported, and serving raw examples.
  """
  produced = run.outputs
  assert produced['Evaluator']['blessing']['metadata']['blessed'] == 1
  pushed = produced['Pusher']['pushed_model']['metadata']
  assert pushed['pushed'] == 1 and pushed['pushed_destination'] == str(version)
  # The serving check passed in the pod; the version carries its record
  # (the image it was built by) and its training statistics.
  assert produced['ServingCheck']['infra_blessing']['metadata']['blessed'] == 1
  record = push_destination.version_record(str(version))
  assert record['image'] == helpers.TEST_IMAGE
  # Before the first push the baseline is the candidate itself.
  assert record['metrics']['candidate']['auc'] > 0.9
  assert push_destination.training_statistics(str(version)).num_examples
  # The report is the file at the report artifact's URI, as the dashboard
  # reads it, and names what was pushed.
  page = Path(produced['RunReport']['report']['uri']).read_text()
  assert f'Pushed: <code>{version}</code>' in page
  assert 'Compared with no earlier data' in page
  model = tf.saved_model.load(str(version))
  spec = helpers.raw_feature_spec()
  scores = model.signatures['serving_default'](
      examples=tf.constant([helpers.to_example(r, spec) for r in rows[:200]])
  )['big_tip_probability'].numpy().ravel()
  assert scores.shape == (200,)


@pytest.mark.e2e
def test_no_new_span_is_cached_a_new_span_retrains_bad_data_stops_at_the_gate(
    tmp_path, bundled_rows, held_out_rows):
  span_rows = bundled_rows[:SPAN_ROWS]
  data = tmp_path / 'data'
  helpers.write_csv(data / 'span-1' / 'data.csv', span_rows)
  image = helpers.build_image_tree(tmp_path / 'image')
  storage = tmp_path / 'storage'
  compiled = helpers.compile_kubeflow('kfp', storage, data,
                                      tmp_path / 'package', image_tree=image)
  assert compiled.returncode == 0, compiled.stderr[-3000:]
  package = Path(compiled.stdout.splitlines()[-1])
  serving = storage / 'serving_model' / 'taxi-tips'
  cache = kfp_launcher.Cache()

  def run(run_id: str, fails: bool = False, package: Path = package,
          until=None) -> kfp_launcher.Run:
    logs = tmp_path / 'logs' / run_id
    logs.mkdir(parents=True)
    result = kfp_launcher.run_package(
        package, storage / 'pipelines' / 'taxi-tips',
        helpers.container_env(image), logs, workdir=image, run_id=run_id,
        cache=cache, until=until)
    assert bool(result.failed) == fails, [
        (logs / f'{t}.log').read_text()[-3000:] for t in result.failed]
    return result

  first = run('run-1')
  every_task = helpers.KFP_TASKS
  assert set(first.executed) == every_task
  assert _spans(first) == '1'
  [version] = [p.name for p in serving.iterdir()]
  _check_first_push(first, serving / version, held_out_rows)

  # The schedule fires again, no new span arrived: only the fingerprint runs.
  second = run('run-2')
  assert second.executed == [compiler.FINGERPRINT_TASK]
  assert [p.name for p in serving.iterdir()] == [version]

  # A new span whose labels no longer follow the features: ExampleGen and
  # all after it run on the window, evaluated on the new span against the
  # pushed model, and the worse model stays out.
  rows = [dict(row) for row in span_rows]
  tips = [row['tips'] for row in rows]
  random.Random(0).shuffle(tips)
  for row, tip in zip(rows, tips):
    row['tips'] = tip
  helpers.write_csv(data / 'span-2' / 'data.csv', rows)
  third = run('run-3')
  assert set(third.executed) == every_task - {'ImportSchemaGen', 'EvalSchema'}
  assert _spans(third) == '1,2'
  baseline = third.outputs[pipeline_lib.LATEST_PUSHED_ID]['baseline']
  assert baseline['metadata']['source'] == str(serving / version)
  assert third.outputs['Evaluator']['blessing']['metadata']['blessed'] == 0
  assert [p.name for p in serving.iterdir()] == [version]

  # A span without labels: the gate's task fails with the reason in its log,
  # nothing after it runs, the serving model stays.
  helpers.write_csv(data / 'span-3' / 'data.csv',
                    [dict(row, tips='') for row in span_rows])
  fourth = run('run-4', fails=True)
  assert fourth.failed == ['DataGate']
  assert {'Transform', 'Trainer', 'Evaluator', 'Pusher'} <= set(fourth.skipped)
  gate_log = (tmp_path / 'logs' / 'run-4' / 'DataGate.log').read_text()
  assert 'The data gate stopped the run before training' in gate_log
  assert 'tips: label: expected a value in at least 99% of rows' in gate_log
  assert [p.name for p in serving.iterdir()] == [version]

  # A backfill of span 1 (runtime parameters being broken, a package with
  # the span compiled in): ExampleGen reads that span alone and the gate
  # lets it through; the spans after it do not stop it (run up to the gate:
  # the rest is the path of the runs above).
  backfill = helpers.compile_kubeflow('kfp', storage, data, tmp_path / 'package',
                                      image_tree=image, args=['--span', '1'])
  assert backfill.returncode == 0, backfill.stderr[-3000:]
  fifth = run('run-5', package=Path(backfill.stdout.splitlines()[-1]),
              until='DataGate')
  assert {'CsvExampleGen', 'DataGate'} <= set(fifth.executed)
  assert _spans(fifth) == '1'
