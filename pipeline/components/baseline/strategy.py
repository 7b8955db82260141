"""The local runs' baseline: a Resolver strategy over ML Metadata."""

from tfx.dsl.input_resolution.strategies import latest_blessed_model_strategy


class PreviousBlessedModelStrategy(
    latest_blessed_model_strategy.LatestBlessedModelStrategy):
  """The latest blessed model other than the candidate (channel
  'candidate'): a model is not its own baseline. So a re-run whose Trainer
  is cached resolves the same baseline as the run that trained the model,
  and the Evaluator and Pusher stay cached too."""

  def resolve_artifacts(self, store, input_dict):
    candidates = input_dict['candidate']
    candidate_ids = {model.id for model in candidates}
    others = {
        'model': [m for m in input_dict['model'] if m.id not in candidate_ids],
        'model_blessing': input_dict['model_blessing'],
    }
    return dict(super().resolve_artifacts(store, others), candidate=candidates)
