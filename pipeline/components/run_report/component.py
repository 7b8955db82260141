"""The run report as the last step of a cluster run.

The page is for the Kubeflow Pipelines dashboard and Vertex AI.

Both display an output artifact of type `system.HTML` on the run's page:
the KFP dashboard lists a run's artifacts of that type and shows the file at
the artifact's URI (frontend MetricsVisualizations.tsx, getHtmlViewerConfig).
TFX's V2 compiler writes a custom artifact type's TYPE_NAME as the output's
schema title, which the backend records as the ML Metadata type name
(backend/src/v2/metadata/client.go, SchemaToArtifactType): the output is of
type system.HTML (system.py), and the step writes the page at the URI
itself, not inside a folder.

Local runs have no such step: the local runner writes a fuller report (each
step's state and duration from ML Metadata), failed runs included
(local/html_report.py). On a cluster, a run that fails earlier has no
report; the failed task's log has the reason.
"""

import json

from tfx.dsl.component.experimental.annotations import InputArtifact
from tfx.dsl.component.experimental.annotations import OutputArtifact
from tfx.dsl.component.experimental.annotations import Parameter
from tfx.dsl.component.experimental.decorators import component
from tfx.dsl.io import fileio
from tfx.types.standard_artifacts import Examples
from tfx.types.standard_artifacts import ExampleStatistics
from tfx.types.standard_artifacts import InfraBlessing
from tfx.types.standard_artifacts import ModelBlessing
from tfx.types.standard_artifacts import ModelEvaluation
from tfx.types.standard_artifacts import ModelRun
from tfx.types.experimental.simple_artifacts import File
from tfx.types.standard_artifacts import PushedModel

from pipeline import configs
from pipeline import spans
from pipeline.components.csv_example_gen import executor as csv_executor
from system import HTML
from pipeline.report import content
from pipeline.report import render


@component
def RunReport(  # pylint: disable=invalid-name
    examples: InputArtifact[Examples],
    statistics: InputArtifact[ExampleStatistics],
    gate_decision: InputArtifact[File],
    model_run: InputArtifact[ModelRun],
    evaluation: InputArtifact[ModelEvaluation],
    blessing: InputArtifact[ModelBlessing],
    infra_blessing: InputArtifact[InfraBlessing],
    pushed_model: InputArtifact[PushedModel],
    report: OutputArtifact[HTML],
    data: Parameter[str],
    push_destination: Parameter[str],
    trainer_config: Parameter[str],
    eval_thresholds: Parameter[str],
):
  """Writes the run's report at the report artifact's URI.

  Args:
    examples: ExampleGen's examples (the spans read).
    statistics: StatisticsGen's statistics.
    gate_decision: the DataGate's decision.
    model_run: the Trainer's TensorBoard logs.
    evaluation: the Evaluator's output.
    blessing: the Evaluator's blessing.
    infra_blessing: the ServingCheck's verdict.
    pushed_model: the Pusher's output.
    report: the page.
    data: what ExampleGen read.
    push_destination: the Pusher's destination (the history).
    trainer_config: the Trainer's custom_config (JSON).
    eval_thresholds: configs.EvalThresholds as JSON.
  """
  config = json.loads(trainer_config)
  pushed = pushed_model.get_int_custom_property('pushed') == 1
  inputs = content.RunInputs(
      run=report.uri,
      nodes=[],
      data=data,
      push_destination=push_destination,
      hparams=config['hparams'],
      code_fingerprint=config['code_fingerprint'],
      eval_thresholds=configs.EvalThresholds(**json.loads(eval_thresholds)),
      spans=spans.parse_list(examples.get_string_custom_property(
          csv_executor.SPANS_PROPERTY)),
      statistics=statistics.uri,
      gate_decision=gate_decision.uri,
      model_run=model_run.uri,
      evaluation=evaluation.uri,
      blessed=blessing.get_int_custom_property('blessed') == 1,
      serving_check=infra_blessing.uri,
      pushed_version=(pushed_model.get_string_custom_property(
          'pushed_destination') if pushed else None))
  # An orchestrator may have made a folder there (TFX's local ones do).
  if fileio.isdir(report.uri):
    fileio.rmtree(report.uri)
  render.write(inputs, report.uri)
