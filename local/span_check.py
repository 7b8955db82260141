"""Is there a new span to train on? Asked before a local run starts.

A scheduled run must never retrain on data it has already learned from
(the TFX periodic-training RFC's warning): when the newest span is one the
serving model was trained on, or one the last finished run already trained
on and evaluated (a model that was not pushed, as it would not be again),
there is nothing to do. A folder without span folders is always read anew.
"""

import warnings

from local import data_source
from local import paths as local_paths
from pipeline import spans

# The Pusher ran (or was cached): the run trained, evaluated and decided.
_DECIDED = ('COMPLETE', 'CACHED')


def nothing_new(source: data_source.CsvSource,
                paths: local_paths.LocalPaths) -> str:
  """Why there is nothing to train, in one line; '' if there is something.

  Args:
    source: the data the run would read.
    paths: the run's output folder.

  Returns:
    'No new span since span N, trained at <when> (...)' or ''.
  """
  if source.spans == [spans.NO_SPANS]:
    return ''
  # Imported here: they load TensorFlow, which a bad data path never needs.
  with warnings.catch_warnings():  # the Google clients' Python notices
    warnings.simplefilter('ignore', FutureWarning)
    from local import run_summary  # pylint: disable=g-import-not-at-top
    from models import push_destination  # pylint: disable=g-import-not-at-top
  newest = source.spans[-1]
  serving = push_destination.latest_version_dir(str(paths.serving_model_dir))
  if serving:
    record = push_destination.version_record(serving)
    trained = spans.newest_trained(record)
    if trained is not None and newest <= trained:
      return (f'No new span since span {trained}, trained at '
              f'{record.get("original_record", record).get("pushed_at", "?")} '
              f'(the serving model, {serving}): nothing to train. '
              '--span N re-runs a period.')
  last = run_summary.latest_run(str(paths.metadata_path))
  if (last and last.spans and last.spans[-1] >= newest and
      last.node_states.get('Pusher') in _DECIDED):
    return (f'No new span since span {last.spans[-1]}, trained at '
            f'{last.run_id} (the last run; its model was not pushed, the '
            f'serving model is {serving or "none"}): nothing to train. '
            '--span N re-runs a period.')
  return ''
