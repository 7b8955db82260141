"""One run at a time per output folder.

Two runs on the same outputs would share one SQLite ML Metadata store and one
push destination: the second gets "database is locked" or, worse, a report
of the other run's components. The lock is an flock on a file in the output
folder: the operating system releases it when its process ends, however it
ends, so a run killed with `kill -9` leaves nothing to clean up.
"""

import fcntl
import json
import os
from pathlib import Path
import sys
import time
from typing import IO


class RunInProgress(RuntimeError):
  """Another run holds the output folder; str() names it."""


def acquire(lock_file: Path) -> IO:
  """Takes the output folder's run lock, or refuses at once.

  Args:
    lock_file: the lock file (LocalPaths.lock_file).

  Returns:
    The open lock file: the lock lasts while it is open (or the process
    lives).

  Raises:
    RunInProgress: another process holds the lock; names its pid, start time
      and command line.
  """
  lock_file.parent.mkdir(parents=True, exist_ok=True)
  handle = lock_file.open('a+')
  try:
    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
  except BlockingIOError:
    handle.seek(0)
    try:
      holder = json.loads(handle.read())
      who = (f'pid {holder["pid"]}, started {holder["started"]}: '
             f'{holder["command"]}')
    except (ValueError, KeyError):
      who = 'a process that is starting'
    handle.close()
    raise RunInProgress(
        f'another run is using {lock_file.parent} ({who}); wait for it to '
        'end, or give this one another --output-dir') from None
  handle.seek(0)
  handle.truncate()
  handle.write(json.dumps({
      'pid': os.getpid(),
      'started': time.strftime('%Y-%m-%d %H:%M:%S'),
      'command': ' '.join(sys.argv),
  }))
  handle.flush()
  return handle
