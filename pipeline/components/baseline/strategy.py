"""The local runs' baseline: a Resolver strategy over ML Metadata."""

from tfx.dsl.input_resolution.strategies import latest_blessed_model_strategy

from models import push_destination as destination


def served_model_uri(push_destination: str) -> str:
  """The Trainer output the newest pushed version holds ('' if unknown).

  After a rollback, the model it restored.
  """
  serving = destination.latest_version_dir(push_destination)
  record = destination.version_record(serving) if serving else {}
  while 'original_record' in record:  # a rollback, maybe of a rollback
    record = record['original_record']
  return record.get('model', '')


class PreviousBlessedModelStrategy(
    latest_blessed_model_strategy.LatestBlessedModelStrategy):
  """The served model, if it is not the candidate (channel 'candidate').

  The served model is the one the newest version at the push destination
  holds: the last model pushed, or after `taxi-tips models rollback` the one
  restored; a new model must beat what serves. A blessed model that was
  never pushed (the serving check failed, or a backfill held it back) is no
  baseline. Before the first push there is none, and only the value
  thresholds decide: the rule of the cluster's LatestPushedModel
  (component.py), which there compares the candidate with itself.

  A model is not its own baseline: so a re-run whose Trainer is cached
  resolves the same baseline as the run that trained the model, and the
  Evaluator and Pusher stay cached too.
  """

  def __init__(self, push_destination: str = ''):
    super().__init__()
    self._push_destination = push_destination

  def resolve_artifacts(self, store, input_dict):
    candidates = input_dict['candidate']
    candidate_ids = {model.id for model in candidates}
    served = served_model_uri(self._push_destination)
    serving = [m for m in input_dict['model']
               if served and m.uri == served and m.id not in candidate_ids]
    others = {'model': serving[-1:],
              'model_blessing': input_dict['model_blessing']}
    return dict(super().resolve_artifacts(store, others), candidate=candidates)
