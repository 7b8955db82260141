"""The local runs' baseline: a Resolver strategy over ML Metadata."""

from tfx.dsl.input_resolution.strategies import latest_blessed_model_strategy

from models import push_destination as destination


def served_model_uri(push_destination: str) -> str:
  """The Trainer output the newest pushed version holds ('' if unknown):
  after a rollback, the model it restored."""
  serving = destination.latest_version_dir(push_destination)
  record = destination.version_record(serving) if serving else {}
  while 'original_record' in record:  # a rollback, maybe of a rollback
    record = record['original_record']
  return record.get('model', '')


class PreviousBlessedModelStrategy(
    latest_blessed_model_strategy.LatestBlessedModelStrategy):
  """The served model, or else the latest blessed model, other than the
  candidate (channel 'candidate').

  The served model is the one at the push destination: after
  `taxi-tips models rollback` it is older than the latest blessed model,
  and a new model must beat what serves. A model is not its own baseline:
  so a re-run whose Trainer is cached resolves the same baseline as the run
  that trained the model, and the Evaluator and Pusher stay cached too.
  """

  def __init__(self, push_destination: str = ''):
    super().__init__()
    self._push_destination = push_destination

  def resolve_artifacts(self, store, input_dict):
    candidates = input_dict['candidate']
    candidate_ids = {model.id for model in candidates}
    models = [m for m in input_dict['model'] if m.id not in candidate_ids]
    served = served_model_uri(self._push_destination)
    serving = [m for m in models if served and m.uri == served]
    others = {'model': serving[-1:] or models,
              'model_blessing': input_dict['model_blessing']}
    return dict(super().resolve_artifacts(store, others), candidate=candidates)
