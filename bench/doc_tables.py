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


def _component_value(result: dict, key: str, name: str):
  """A component's figure in result[key], or None if there is none."""
  # Ours runs ImportSchemaGen and ArrowCsvExampleGen in those columns.
  return next((value for component, value in result.get(key, {}).items()
               if component.endswith(name)), None)


def _component_seconds(result: dict, name: str):
  """A component's executor seconds in a result, or None if it did not run."""
  return _component_value(result, 'components', name)


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


def _grew(before: float, after: float) -> str:
  return f'{after / before:.1f}x' if before >= 0.5 else ''


def growth_table(results: dict) -> str:
  """Ours at the two largest scales: each step's time and memory, and growth.

  A step's memory is the run's peak while it ran (steps side by side share
  it).
  """
  (small, before), (large, after) = list(results.items())[-2:]
  before, after = before['ours'], after['ours']
  rows = results[large]['rows'] / results[small]['rows']
  lines = [f'| ours (rows: {rows:.0f}x) | s {small}x | s {large}x | grew | '
           f'peak MB {small}x | peak MB {large}x | grew |',
           '| --- | --- | --- | --- | --- | --- | --- |']

  def line(label, seconds, memory):
    cells = [f'{seconds[0]:,.1f}', f'{seconds[1]:,.1f}', _grew(*seconds)]
    cells += ([f'{memory[0]:,.0f}', f'{memory[1]:,.0f}', _grew(*memory)]
              if all(memory) else ['', '', ''])
    lines.append(f'| {label} | {" | ".join(cells)} |')

  line('whole run', (before['wall_seconds'], after['wall_seconds']),
       (before['peak_memory_mb'], after['peak_memory_mb']))
  for name in _COMPONENTS:
    line(name, [_component_seconds(r, name) or 0. for r in (before, after)],
         [_component_value(r, 'component_peak_mb', name)
          for r in (before, after)])
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
