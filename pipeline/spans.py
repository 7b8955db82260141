"""Spans: the periods the data arrives in, and the window a run trains on.

A data root holds one folder per span, `span-<N>` (N a positive integer,
TFX's `{SPAN}`), each with CSV files of the same header. A data root with
no such folder is one span, number 0: today's layout, the bundled data/.

Each run trains on the newest spans (configs.WINDOW_SPANS of them, up to a
chosen newest span for a backfill) and is evaluated on the newest one. This
runs where the data is read, on every target: ExampleGen's executor, the
Kubeflow data-fingerprint task and the local runner, not in TFX's ExampleGen
driver or a resolver, which the open-source KFP backend does not run.
"""

import argparse
import os
import re
from typing import Dict, List, Optional

PREFIX = 'span-'
_SPAN_DIR = re.compile(rf'{PREFIX}([1-9][0-9]*)')
# The span number of a data root without span folders (TFX's for no span).
NO_SPANS = 0


class SpanError(ValueError):
  """No such span, or none at all; str() is the one-line reason."""


def parse(text: str) -> int:
  """A span number as typed on a command line (argparse's `type`).

  Raises:
    argparse.ArgumentTypeError: not a whole number of 0 or more.
  """
  if not text.strip().isdigit():
    raise argparse.ArgumentTypeError(f'{text!r} is no span: spans are numbered 0 and up '
                    f'(the N of {PREFIX}N folders; 0: a data root without '
                    'them)')
  return int(text)


def folder(data_root: str, span: int) -> str:
  """Where a span's files are."""
  return data_root if span == NO_SPANS else os.path.join(
      data_root, f'{PREFIX}{span}')


def number(name: str) -> Optional[int]:
  """The span a folder name stands for, or None."""
  match = _SPAN_DIR.fullmatch(name.rstrip('/'))
  return int(match.group(1)) if match else None


def find(data_root: str) -> List[int]:
  """The span numbers under a data root (local or gs://), lowest first.

  [NO_SPANS] if it has no span folders.
  """
  # Imported here: it loads TensorFlow, which the local runner's start-up
  # checks do without.
  from tfx.dsl.io import fileio  # pylint: disable=g-import-not-at-top
  found = [number(name) for name in fileio.listdir(data_root)
           if number(name) is not None and
           fileio.isdir(os.path.join(data_root, name.rstrip('/')))]
  return sorted(found) or [NO_SPANS]


def window(data_root: str, size: int, newest: Optional[int] = None
           ) -> List[int]:
  """The spans a run trains on: the newest `size` spans up to `newest`.

  Args:
    data_root: the data root.
    size: how many spans at most.
    newest: the newest span to use (a backfill); None: the newest there is.

  Returns:
    Span numbers, oldest first; the last is the one evaluated on.

  Raises:
    SpanError: `newest` is not a span of the data root.
  """
  return choose(find(data_root), size, newest, data_root)


def choose(found: List[int], size: int, newest: Optional[int],
           source: str) -> List[int]:
  """The newest `size` of the spans a source has, up to `newest`.

  The one rule of the window for every source: span folders (window) and
  a BigQuery table's periods (pipeline/query_spans.py).

  Args:
    found: the source's span numbers, lowest first.
    size: how many spans at most.
    newest: the newest span to use (a backfill); None: the newest there is.
    source: the source's name, for the error.

  Returns:
    Span numbers, oldest first; the last is the one evaluated on.

  Raises:
    SpanError: `newest` is not one of `found`, or nothing was found.
  """
  if not found:
    raise SpanError(f'no span under {source}')
  if newest is not None and newest not in found:
    raise SpanError(f'no span {newest} under {source} (spans: '
                    f'{", ".join(map(str, found))})')
  upto = [s for s in found if newest is None or s <= newest]
  return upto[-size:]


def describe(spans: List[int]) -> str:
  """'span 3', 'spans 1, 2, 3', or 'all the data (no spans)'."""
  if spans == [NO_SPANS]:
    return 'all the data (no spans)'
  return f'span{"s" if len(spans) > 1 else ""} {", ".join(map(str, spans))}'


def trained_and_evaluated(spans: Optional[List[int]]) -> str:
  """'Trained on spans 1, 2; evaluated on span 2.', or ''.

  '' for a run that read no spans (or is not known to have).
  """
  if not spans or spans == [NO_SPANS]:
    return ''
  return f'Trained on {describe(spans)}; evaluated on span {spans[-1]}.'


def parse_list(value: str) -> List[int]:
  """The inverse of format_list."""
  return [int(s) for s in value.split(',') if s]


def format_list(spans: List[int]) -> str:
  """Spans as an artifact's string property: '1,2,3'."""
  return ','.join(map(str, spans))


def newest_trained(record: Dict) -> Optional[int]:
  """The newest span a pushed version was trained on, from its record.

  For a rollback, from its original's record; None if the record has no
  spans.
  """
  spans = record.get('original_record', record).get('spans')
  return max(spans) if spans else None
