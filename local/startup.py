"""Every start-up tweak of a local run's process, in one call.

They make the process quick to start and lean. None changes what a run
computes; each is measured in docs/performance.md, "The local run's
process".
"""

import contextlib

from local import heap
from local import lazy_components
from pipeline.components.serving_check import probe_process


@contextlib.contextmanager
def quick_start():
  """Import the libraries and build the pipeline inside this.

  At most two malloc heaps for the run's threads; the serving check's probe
  process started now, so its TensorFlow import runs on the other core; the
  libraries' objects kept out of Python's full collections; TFX's components
  imported when first named.

  Yields:
    Nothing.
  """
  heap.limit_malloc_arenas()
  probe_process.prestart()
  with heap.long_lived():
    lazy_components.defer_tfx_components()
    yield
