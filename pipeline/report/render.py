"""The run report as one self-contained HTML page.

Everything is inline (style, SVG charts; no script, font or image is
fetched), so the file opens from disk with no network, in the Kubeflow
dashboard's frame and on paper.
"""

import dataclasses
import datetime
import os

import jinja2
import tensorflow as tf

from pipeline import configs
from pipeline import spans
from pipeline.components.data_gate import component as data_gate
from pipeline.components.serving_check import component as serving_check_lib
from pipeline.report import charts
from pipeline.report import content
from pipeline.metrics import eval_results
from pipeline.metrics import histogram_metrics

_TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(os.path.dirname(__file__)),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True)


def _data_section(inputs: content.RunInputs):
  if not inputs.statistics:
    return None
  splits = content.split_statistics(inputs.statistics)
  decision = (data_gate.read_decision(inputs.gate_decision)
              if inputs.gate_decision else None)
  before = content.baseline_statistics(decision)
  train = splits.get(configs.TRAIN_SPLIT) or next(iter(splits.values()))
  rows = []
  for view in content.feature_views(train, before):
    series = {'this run': view.shares}
    if view.shares_before is not None:
      series['serving model\'s data'] = view.shares_before
    rows.append((view, charts.bars(view.labels, series,
                                   f'{view.name}: share of rows')
                 if view.labels else ''))
  return {'splits': {name: s.num_examples for name, s in splits.items()},
          'features': rows, 'decision': decision,
          'compared': before is not None}


def _model_section(inputs: content.RunInputs):
  section = {'hparams': inputs.hparams,
             'code_fingerprint': inputs.code_fingerprint, 'charts': []}
  if inputs.model_run:
    curves = content.training_curves(inputs.model_run)
    for metric, y_range in (('loss', None), ('auc', (0.5, 1.))):
      series = {split: points for split, points in curves[metric].items()
                if points}
      if series:
        section['charts'].append(charts.lines(
            series, f'training {metric}', 'step', y_range=y_range))
  return section


def _required(thresholds: configs.EvalThresholds) -> dict:
  """Metric -> what blessing requires of it on the overall slice."""
  return {
      histogram_metrics.AUCFromHistogram.DEFAULT_NAME:
          f'\u2265 {thresholds.min_auc:g}',
      histogram_metrics.BinaryAccuracyFromHistogram.DEFAULT_NAME:
          f'\u2265 {thresholds.min_accuracy:g}',
  }


def _evaluation_section(inputs: content.RunInputs):
  if not inputs.evaluation:
    return None
  slices = content.slice_metrics(inputs.evaluation)
  models = sorted({m for _, per_model in slices for m in per_model},
                  key=lambda m: m == 'baseline')
  calibration = content.calibration(inputs.evaluation)
  diagonal = {'perfect': [(0., 0.), (1., 1.)]}
  return {
      'metrics': eval_results.SLICE_METRICS, 'models': models,
      'slices': slices,
      'thresholds': dataclasses.asdict(inputs.eval_thresholds),
      'required': _required(inputs.eval_thresholds),
      'failed': eval_results.failed_checks(inputs.evaluation),
      'calibration': charts.lines(
          {**calibration, **diagonal}, 'calibration: mean label per tenth of '
          'predictions', 'mean prediction', y_range=(0., 1.)),
  }


def _history_section(inputs: content.RunInputs):
  rows = content.history(inputs.push_destination)
  points = [(number, auc) for number, _, auc in rows if auc is not None]
  return {'rows': rows[::-1],
          'chart': charts.lines({'AUC': [(i + 1, auc) for i, (_, auc)
                                         in enumerate(points)]},
                                'eval AUC of each pushed version', 'push',
                                y_range=(0.5, 1.), y_format='.3f')
          if points else ''}


def render(inputs: content.RunInputs) -> str:
  """The report of one run.

  Args:
    inputs: where the run's artifacts are.

  Returns:
    The HTML page.
  """
  serving_check = (serving_check_lib.read_result(inputs.serving_check)
                   if inputs.serving_check else None)
  return _TEMPLATES.get_template('report.html.j2').render(
      run=inputs,
      spans_line=spans.trained_and_evaluated(inputs.spans),
      written=datetime.datetime.now(datetime.timezone.utc).strftime(
          '%Y-%m-%d %H:%M UTC'),
      data=_data_section(inputs),
      model=_model_section(inputs),
      evaluation=_evaluation_section(inputs),
      serving_check=serving_check,
      history=_history_section(inputs))


def write(inputs: content.RunInputs, path: str) -> str:
  """Renders the report to path (local or gs://).

  Returns:
    path.
  """
  with tf.io.gfile.GFile(path, 'w') as f:
    f.write(render(inputs))
  return path
