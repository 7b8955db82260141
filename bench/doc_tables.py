"""The bench's Markdown tables: the machine, each run's figures, growth.

bench/run.py writes them into docs/performance.md.
"""

import os
from pathlib import Path
import platform
import re

# The component columns, in DAG order (DataGate and ServingCheck are ours).
_COMPONENTS = ('CsvExampleGen', 'StatisticsGen', 'SchemaGen', 'ExampleValidator',
               'DataGate', 'Transform', 'Trainer', 'Evaluator', 'ServingCheck',
               'Pusher')


def machine() -> str:
  cpu = re.search(r'model name\s*:\s*(.*)', Path('/proc/cpuinfo').read_text())
  memory_kb = int(re.search(r'MemTotal:\s*(\d+)',
                            Path('/proc/meminfo').read_text()).group(1))
  return (f'{os.cpu_count()} cores ({cpu.group(1) if cpu else "unknown CPU"}), '
          f'{memory_kb / 2**20:.0f} GB memory, Python '
          f'{platform.python_version()}, {platform.platform()}')


def _wall(result: dict) -> str:
  runs = result.get('wall_runs', [])
  if len(runs) < 2:
    return f'{result["wall_seconds"]:.0f}'
  return (f'{result["wall_seconds"]:.0f} ({min(runs):.0f}-{max(runs):.0f}, '
          f'{len(runs)} runs)')


def _component_seconds(result: dict, name: str):
  """A component's executor seconds in a result, or None if it did not run."""
  # Ours runs ImportSchemaGen and ArrowCsvExampleGen in those columns.
  return next((seconds for component, seconds
               in result.get('components', {}).items()
               if component.endswith(name)), None)


def _row(label: str, rows: int, result: dict, ratio: str) -> str:
  cells = []
  for name in _COMPONENTS:
    seconds = _component_seconds(result, name)
    cells.append('' if seconds is None else f'{seconds:.1f}')
  quality = (f'{result["accuracy"]:.3f} | {result["auc"]:.3f}'
             if 'accuracy' in result else ' | ')
  return (f'| {rows:,} | {label} | {_wall(result)} | {ratio} | '
          f'{result.get("peak_memory_mb", 0):,.0f} | {" | ".join(cells)} | '
          f'{quality} |')


def _ratio(ours: dict, template: dict) -> str:
  """Median against median; with several pairs, each pair's ratio's range."""
  ratio = f'{ours["wall_seconds"] / template["wall_seconds"]:.2f}'
  pairs = list(zip(ours.get('wall_runs', []), template.get('wall_runs', [])))
  if len(pairs) < 2:
    return ratio
  each = [mine / theirs for mine, theirs in pairs]
  return f'{ratio} ({min(each):.2f}-{max(each):.2f})'


def table(results: dict) -> str:
  header = ('| rows | pipeline | wall s | vs template | peak memory MB | '
            + ' | '.join(_COMPONENTS) + ' | accuracy | AUC |')
  lines = [header, '|' + ' --- |' * (header.count('|') - 1)]
  for scale, entry in results.items():
    rows, tpl = entry['rows'], entry.get('template')
    if tpl:
      lines.append(_row('template', rows, tpl, '1.00'))
    for label, key in (('ours', 'ours'), ('ours, re-run unchanged', 'rerun')):
      if key in entry:
        ratio = _ratio(entry[key], tpl) if tpl else 'not run'
        lines.append(_row(label, rows, entry[key], ratio))
  return '\n'.join(lines)


def growth_table(results: dict) -> str:
  """Ours at the two largest scales: each figure and how much it grew."""
  (small, before), (large, after) = list(results.items())[-2:]
  rows = after['rows'] / before['rows']
  lines = [f'| ours | {small}x | {large}x | grew (rows: {rows:.0f}x) |',
           '| --- | --- | --- | --- |']
  figures = [('wall s', lambda r: r['wall_seconds']),
             ('peak memory MB', lambda r: r['peak_memory_mb'])]
  figures += [(name, lambda r, name=name: _component_seconds(r, name) or 0.)
              for name in _COMPONENTS]
  for label, figure in figures:
    a, b = figure(before['ours']), figure(after['ours'])
    grew = f'{b / a:.1f}x' if a >= 0.5 else ''
    lines.append(f'| {label} | {a:,.1f} | {b:,.1f} | {grew} |')
  return '\n'.join(lines)


def latency_table(latency: dict) -> str:
  """The serving check's figures, per signature and request size."""
  lines = ['| signature | request | p50 ms | p99 ms | rows/s |',
           '| --- | --- | --- | --- | --- |']
  for signature, sizes in latency.items():
    for size, figures in sizes.items():
      lines.append(f'| {signature} | {size} | {figures["p50_ms"]:.2f} | '
                   f'{figures["p99_ms"]:.2f} | '
                   f'{figures["rows_per_second"]:,.0f} |')
  return '\n'.join(lines)
