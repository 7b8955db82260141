"""Small inline SVG charts for the run report: bars and lines.

Hand-written because the report must open with no network and the lock has
no plotting library; matplotlib would add its import time to every run for
three chart shapes.
"""

from typing import Dict, List, Sequence, Tuple
from xml.sax.saxutils import escape

WIDTH, HEIGHT = 330, 140
_LEFT, _RIGHT, _TOP, _BOTTOM = 44, 8, 8, 34
# One colour per series, in order: the run's data or model first.
COLOURS = ('#1f6fb2', '#b8b8b8', '#d9822b', '#3a9e5c')


def _svg(body: List[str], label: str) -> str:
  return (f'<svg class="chart" role="img" aria-label="{escape(label)}" '
          f'width="{WIDTH}" height="{HEIGHT}" '
          f'viewBox="0 0 {WIDTH} {HEIGHT}" '
          f'xmlns="http://www.w3.org/2000/svg">{"".join(body)}</svg>')


def _text(x: float, y: float, text: str, anchor: str = 'middle',
          extra: str = '') -> str:
  return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" '
          f'font-size="10" {extra}>{escape(text)}</text>')


def _axes(y_lo: float, y_hi: float, y_format: str) -> List[str]:
  bottom = HEIGHT - _BOTTOM
  return [
      f'<line x1="{_LEFT}" y1="{bottom}" x2="{WIDTH - _RIGHT}" y2="{bottom}" '
      'stroke="#444"/>',
      f'<line x1="{_LEFT}" y1="{_TOP}" x2="{_LEFT}" y2="{bottom}" '
      'stroke="#444"/>',
      _text(_LEFT - 4, bottom + 3, format(y_lo, y_format), 'end'),
      _text(_LEFT - 4, _TOP + 8, format(y_hi, y_format), 'end'),
  ]


def _legend(names: Sequence[str]) -> List[str]:
  out, x = [], _LEFT
  for i, name in enumerate(names):
    out.append(f'<rect x="{x}" y="{HEIGHT - 11}" width="9" height="9" '
               f'fill="{COLOURS[i % len(COLOURS)]}"/>')
    out.append(_text(x + 12, HEIGHT - 3, name, 'start'))
    x += 18 + 6 * len(name)
  return out


def bars(labels: Sequence[str], series: Dict[str, Sequence[float]],
         label: str, y_format: str = '.0%') -> str:
  """Grouped bars: one group per label, one bar per series.

  Args:
    labels: the groups, left to right (shown under the axis, thinned out).
    series: name -> one value per label.
    label: the chart's accessible name.
    y_format: how the axis writes values.

  Returns:
    An <svg> element.
  """
  y_max = max([v for values in series.values() for v in values] + [1e-9])
  plot_w = WIDTH - _LEFT - _RIGHT
  plot_h = HEIGHT - _TOP - _BOTTOM
  group_w = plot_w / max(len(labels), 1)
  bar_w = group_w * 0.8 / max(len(series), 1)
  body = _axes(0, y_max, y_format)
  for s, (name, values) in enumerate(series.items()):
    for i, value in enumerate(values):
      h = plot_h * value / y_max
      x = _LEFT + i * group_w + group_w * 0.1 + s * bar_w
      body.append(
          f'<rect x="{x:.1f}" y="{_TOP + plot_h - h:.1f}" width="{bar_w:.1f}" '
          f'height="{h:.1f}" fill="{COLOURS[s % len(COLOURS)]}">'
          f'<title>{escape(f"{name}, {labels[i]}: {value:{y_format}}")}'
          '</title></rect>')
  # As many labels as fit side by side (about 6 px a character).
  widest = 6 * max((len(l[:10]) for l in labels), default=1) + 6
  step = max(1, -(-len(labels) * widest // int(plot_w)))
  for i in range(0, len(labels), step):
    body.append(_text(_LEFT + (i + 0.5) * group_w, HEIGHT - _BOTTOM + 11,
                      labels[i][:10]))
  return _svg(body + _legend(list(series)), label)


def lines(series: Dict[str, Sequence[Tuple[float, float]]], label: str,
          x_name: str, y_range: Tuple[float, float] = None,
          y_format: str = '.2f') -> str:
  """Lines through (x, y) points, one per series; a one-point series is a dot.

  Args:
    series: name -> points in x order.
    label: the chart's accessible name.
    x_name: what x is, written under the axis.
    y_range: the y axis' (low, high); default from the points.
    y_format: how the axis writes values.

  Returns:
    An <svg> element.
  """
  points = [p for values in series.values() for p in values]
  xs = [x for x, _ in points] or [0., 1.]
  ys = [y for _, y in points] or [0., 1.]
  x_lo, x_hi = min(xs), max(xs)
  y_lo, y_hi = y_range or (min(ys), max(ys))
  if x_hi == x_lo:
    x_lo, x_hi = x_lo - 1, x_hi + 1
  if y_hi == y_lo:
    y_lo, y_hi = y_lo - 0.5, y_hi + 0.5
  plot_w = WIDTH - _LEFT - _RIGHT
  plot_h = HEIGHT - _TOP - _BOTTOM

  def at(x, y):
    return (_LEFT + plot_w * (x - x_lo) / (x_hi - x_lo),
            _TOP + plot_h * (1 - (y - y_lo) / (y_hi - y_lo)))

  bottom = HEIGHT - _BOTTOM
  body = _axes(y_lo, y_hi, y_format) + [
      _text(_LEFT, bottom + 11, f'{x_lo:g}', 'start'),
      _text(WIDTH - _RIGHT, bottom + 11, f'{x_hi:g}', 'end'),
      _text((_LEFT + WIDTH - _RIGHT) / 2, bottom + 11, x_name),
  ]
  for s, (name, values) in enumerate(series.items()):
    colour = COLOURS[s % len(COLOURS)]
    xy = [at(x, y) for x, y in values]
    if len(xy) > 1:
      body.append('<polyline fill="none" stroke-width="1.5" '
                  f'stroke="{colour}" points="' +
                  ' '.join(f'{x:.1f},{y:.1f}' for x, y in xy) + '"/>')
    for (x, y), (vx, vy) in zip(xy, values):
      body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2" fill="{colour}">'
                  f'<title>{escape(f"{name}: {vx:g}, {vy:{y_format}}")}'
                  '</title></circle>')
  return _svg(body + _legend(list(series)), label)
