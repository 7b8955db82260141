"""make bench-serve: `taxi-tips serve` under load, figures into the docs.

Serves a copy of the newest pushed version (of `make run`'s outputs, or
--push-destination) on 127.0.0.1 and runs locust, headless, against it: one
row a request at 1, 8 and 32 clients, 100 rows a request at 8 clients, and
one row a request at 8 clients while a new version is pushed. Each load is
bounded by time (--seconds) and by requests (MAX_REQUESTS_PER_CLIENT);
the figures go into docs/performance.md between the serve-bench markers.

    python -m bench.serve_load [--output-dir DIR | --push-destination DIR]
        [--seconds 12] [--workers N]
"""

import argparse
import csv
import json
import os
from pathlib import Path
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

from bench import doc_tables
from bench import measure
from local import paths
from models import push_destination
from pipeline import configs

DOC = configs.PROJECT_ROOT / 'docs' / 'performance.md'
_START, _END = '<!-- serve-bench:start -->', '<!-- serve-bench:end -->'
_LOCUSTFILE = Path(__file__).with_name('locustfile_serve.py')
_VENV_BIN = Path(sys.executable).parent
_MODEL = f'/v1/models/{configs.PIPELINE_NAME}'
MAX_REQUESTS_PER_CLIENT = 50_000
# (clients, rows a request); the last is also the load a push is made under.
LOADS = ((1, 1), (8, 1), (32, 1), (8, 100))
PUSH_LOAD = (8, 1)


def _free_port() -> int:
  with socket.socket() as s:
    s.bind(('127.0.0.1', 0))
    return s.getsockname()[1]


def _get(url: str) -> dict:
  with urllib.request.urlopen(url, timeout=10) as response:
    return json.loads(response.read())


def _served(base: str) -> int:
  try:
    return int(_get(base + '/readyz')['version'])
  except OSError:  # not up yet, or 503: nothing loaded yet
    return 0


def _body(work: Path, rows: int) -> Path:
  with open(paths.DEFAULT_DATA_PATH / 'data.csv', newline='') as f:
    instances = [{k: v for k, v in row.items() if k != 'tips'}
                 for _, row in zip(range(rows), csv.DictReader(f))]
  path = work / f'body-{rows}.json'
  path.write_text(json.dumps({'instances': instances}))
  return path


def _start(command: list, log: Path, **options) -> subprocess.Popen:
  """Starts `command`, its standard error to `log`."""
  with open(log, 'w') as errors:
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=errors,
                            **options)


def _locust(base: str, work: Path, clients: int, rows: int,
            seconds: int) -> subprocess.Popen:
  name = work / f'{clients}x{rows}'
  env = dict(os.environ, SERVE_BODY=str(_body(work, rows)),
             SERVE_PATH=f'{_MODEL}:predict',
             SERVE_MAX_REQUESTS=str(MAX_REQUESTS_PER_CLIENT))
  return _start(
      [str(_VENV_BIN / 'locust'), '-f', str(_LOCUSTFILE), '--headless',
       '--host', base, '-u', str(clients), '-r', str(clients), '-t',
       f'{seconds}s', '--reset-stats', '--only-summary', '--csv', str(name)],
      Path(f'{name}.log'), env=env)


def _cpu_seconds(root: int) -> float:
  """The CPU time so far of a process and its descendants (its workers).

  User and system, all their threads.
  """
  ticks = 0
  for pid in measure.descendants(root):
    try:
      fields = Path(f'/proc/{pid}/stat').read_text().rsplit(')', 1)[1].split()
    except OSError:
      continue  # it has ended
    ticks += int(fields[11]) + int(fields[12])
  return ticks / os.sysconf('SC_CLK_TCK')


def _loaded(load: subprocess.Popen, server: subprocess.Popen,
            during=dict) -> dict:
  """Waits for a locust run; the CPU seconds it and the server took.

  The two share the machine's cores: where the CPU went tells which of
  them bounds the load.

  Args:
    load: the locust process, just started.
    server: the server's process.
    during: called while the load runs; its figures are returned too.
  """
  server_before = _cpu_seconds(server.pid)
  figures = during()
  _, _, usage = os.wait4(load.pid, 0)
  load.returncode = 0  # reaped above
  return dict(figures,
              server_cpu_seconds=_cpu_seconds(server.pid) - server_before,
              locust_cpu_seconds=usage.ru_utime + usage.ru_stime)


def _stats(work: Path, clients: int, rows: int) -> dict:
  """Locust's aggregated figures of one load (times in ms)."""
  with open(work / f'{clients}x{rows}_stats.csv', newline='') as f:
    total = next(r for r in csv.DictReader(f) if r['Name'] == 'Aggregated')
  return {'clients': clients, 'rows': rows,
          'requests': int(total['Request Count']),
          'failures': int(total['Failure Count']),
          'p50_ms': float(total['50%']), 'p99_ms': float(total['99%']),
          'requests_per_second': float(total['Requests/s'])}


def _under_push(base: str, work: Path, destination: Path, seconds: int,
                server: subprocess.Popen) -> dict:
  """The push load's figures, and how long the new version took to serve."""
  clients, rows = PUSH_LOAD

  def push() -> dict:
    time.sleep(seconds / 3)
    pushed_at = time.time()
    version = int(Path(push_destination.publish(
        push_destination.latest_version_dir(str(destination)),
        str(destination))).name)
    while _served(base) != version and time.time() < pushed_at + seconds:
      time.sleep(.05)
    return {'swap_seconds': time.time() - pushed_at, 'version': version}

  figures = _loaded(_locust(base, work, clients, rows, seconds), server, push)
  return dict(_stats(work, clients, rows), **figures,
              served=_served(base) == figures['version'])


def serve_and_load(source: str, work: Path, seconds: int, workers: int) -> dict:
  """Serves a copy of `source`'s newest version and loads it."""
  destination = work / configs.PIPELINE_NAME
  push_destination.publish(source, str(destination))
  port = _free_port()
  base = f'http://127.0.0.1:{port}'
  server = _start(
      [sys.executable, '-m', 'serving.cli', 'serve', '--port', str(port),
       '--push-destination', str(destination), '--workers', str(workers)],
      work / 'serve.log', cwd=configs.PROJECT_ROOT)
  try:
    while not _served(base):
      if server.poll() is not None:
        raise RuntimeError((work / 'serve.log').read_text()[-2000:])
      time.sleep(.2)
    loads = []
    for clients, rows in LOADS:
      cpu = _loaded(_locust(base, work, clients, rows, seconds), server)
      loads.append(dict(_stats(work, clients, rows), **cpu))
    return {'loads': loads, 'push': _under_push(base, work, destination,
                                                seconds, server)}
  finally:
    server.terminate()
    server.wait()


def block(results: dict, seconds: int, workers: int) -> str:
  """The figures as the doc's Markdown block."""
  lines = [
      f'Machine: {doc_tables.machine()}; server ({workers} worker '
      f'process{"es" if workers > 1 else ""}) and locust on it together, '
      f'{seconds} s a load, {time.strftime("%Y-%m-%d", time.gmtime())}.', '',
      '| clients | rows a request | requests | failed | p50 ms | p99 ms '
      '| requests/s | rows/s | server CPU s | locust CPU s |',
      '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|']
  for load in results['loads'] + [results['push']]:
    pushed = ' (a push)' if load is results['push'] else ''
    lines.append(
        f'| {load["clients"]}{pushed} | {load["rows"]} | {load["requests"]} '
        f'| {load["failures"]} | {load["p50_ms"]:.0f} | {load["p99_ms"]:.0f} '
        f'| {load["requests_per_second"]:.0f} '
        f'| {load["requests_per_second"] * load["rows"]:.0f} '
        f'| {load["server_cpu_seconds"]:.1f} '
        f'| {load["locust_cpu_seconds"]:.1f} |')
  push = results['push']
  lines += ['', f'The pushed version was served {push["swap_seconds"]:.1f} s '
            'after its folder appeared.' if push['served'] else
            'The pushed version was not served before the load ended.']
  return '\n'.join(lines)


def write_doc(text: str) -> None:
  doc = DOC.read_text()
  start, end = doc.index(_START) + len(_START), doc.index(_END)
  DOC.write_text(f'{doc[:start]}\n{text}\n{doc[end:]}')


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  where = parser.add_mutually_exclusive_group()
  where.add_argument('--output-dir', type=Path,
                     help='a local run\'s outputs (default: $OUTPUT_DIR or '
                     'outputs/)')
  where.add_argument('--push-destination', help='a folder of versions')
  parser.add_argument('--seconds', type=int, default=12,
                      help='each load\'s duration')
  parser.add_argument('--workers', type=int, default=1,
                      help='the server\'s worker processes (default: '
                      '%(default)s)')
  args = parser.parse_args(argv)
  destination = args.push_destination or str(paths.LocalPaths(
      (args.output_dir or configs.output_dir_from_env()).resolve()
  ).serving_model_dir)
  source = push_destination.latest_version_dir(destination)
  if not source:
    print(f'error: no model has been pushed to {destination}: `make run` '
          'first', file=sys.stderr)
    return 2
  with tempfile.TemporaryDirectory() as work:
    results = serve_and_load(source, Path(work), args.seconds, args.workers)
  print(json.dumps(results, indent=1))
  write_doc(block(results, args.seconds, args.workers))
  return 0


if __name__ == '__main__':
  sys.exit(main())
