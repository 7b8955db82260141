"""Keeps the run's own process memory small.

The libraries' objects kept out of Python's collections, few malloc heaps,
and what a finished step freed handed back to the system.
"""

import contextlib
import ctypes
import gc

# glibc's; other C libraries (macOS) return freed heap pages in other ways.
_LIBC = ctypes.CDLL(None)
_malloc_trim = getattr(_LIBC, 'malloc_trim', None)
_mallopt = getattr(_LIBC, 'mallopt', None)
_M_ARENA_MAX = -8  # glibc's malloc.h
# glibc gives each thread that allocates while another does a heap (arena)
# of its own, up to 8 per core, and what a step frees stays scattered over
# them; the run's steps mostly hold one interpreter lock, so two are enough
# (docs/performance.md, "At most two malloc heaps").
_ARENAS = 2

# A count of younger collections that never comes: no full collection.
_NEVER = 2**31 - 1


@contextlib.contextmanager
def long_lived():
  """A block whose objects are frozen out of every later collection.

  The objects made inside are the libraries' imports: a million objects that
  live as long as the process. No full collection runs inside either: each
  would walk the whole growing heap, seconds in all (docs/performance.md,
  "No full collection during the imports"); young objects are still
  collected, so what the imports drop is freed.

  Yields:
    Nothing.
  """
  young, middle, full = gc.get_threshold()
  gc.set_threshold(young, middle, _NEVER)
  try:
    yield
  finally:
    gc.freeze()
    gc.set_threshold(young, middle, full)


def release_freed_memory():
  """Hands what a finished step freed back to the system.

  That is its objects' reference cycles (a Keras model is full of them) and
  the heap pages they leave empty, so the steps after it, and the serving
  check's process beside them, start from less.
  """
  gc.collect()
  if _malloc_trim:
    _malloc_trim(0)


def limit_malloc_arenas():
  """At most _ARENAS heaps for this process's threads.

  Call before they start.
  """
  if _mallopt:
    _mallopt(_M_ARENA_MAX, _ARENAS)
