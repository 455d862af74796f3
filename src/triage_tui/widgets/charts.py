"""Charts drawn with block characters: columns, sparklines, bars, ranges and stacked bars.

No plotting library: eighth blocks (``▁▂▃▄▅▆▇█``, ``▏▎▍▌▋▊▉``) give 8x the resolution of a
cell, need no colour to be read (shape and glyph carry the meaning, so 16-colour terminals and
colour-blind users lose nothing), and every chart has an ASCII form (``#``, ``=``, ``-``, ``.``).
The drawing functions are pure (width in, :class:`rich.text.Text` out) and tested alone;
:class:`Chart` puts one in a widget that redraws at its own width.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from rich.style import Style
from rich.text import Text
from textual.widget import Widget

__all__ = [
    "ASCII",
    "UNICODE",
    "Chart",
    "ChartGlyphs",
    "bucket",
    "column_chart",
    "fmt_hours",
    "hbars",
    "range_bars",
    "sparkline",
    "stacked_bars",
]


@dataclass(frozen=True, slots=True)
class ChartGlyphs:
    columns: str
    """Empty, then 1/8 .. 8/8 of a cell, bottom up."""
    bars: str
    """Empty, then 1/8 .. 8/8 of a cell, left to right."""
    track: str
    """The rest of a bar's scale (breaches: threads not breached)."""
    range: str
    """From the median to the 90th percentile."""
    stack: tuple[str, ...]
    """One glyph per stacked series (backlog ages, youngest first)."""
    axis: str


UNICODE = ChartGlyphs(columns=" ▁▂▃▄▅▆▇█", bars=" ▏▎▍▌▋▊▉█", track="·", range="░",
                      stack=("░", "▒", "▓", "█"), axis="│")
ASCII = ChartGlyphs(columns="        #", bars="        #", track=".", range="-",
                    stack=(".", "-", "=", "#"), axis="|")


@dataclass(frozen=True, slots=True)
class Styles:
    """Rich styles of a chart's parts (from the widget's component classes)."""

    bar: Style | str = ""
    range: Style | str = "dim"
    label: Style | str = ""
    axis: Style | str = "dim"
    note: Style | str = "dim"


PLAIN = Styles()


def fmt_hours(h: float | None) -> str:
    if h is None:
        return "-"
    if h < 1:
        return f"{round(h * 60)}m"
    if h < 10:
        return f"{h:.1f}h"
    return f"{round(h)}h"


def bucket(values: Sequence[int], width: int) -> tuple[list[int], int]:
    """Sum consecutive values so that at most ``width`` remain: (sums, values per bucket)."""
    if not values:
        return [], 1
    k = max(1, math.ceil(len(values) / max(1, width)))
    return [sum(values[i:i + k]) for i in range(0, len(values), k)], k


def _cells(value: float, scale: float, cells: int) -> int:
    """Eighths of a cell for ``value`` on ``cells`` cells worth ``scale`` (a non-zero value
    shows at least one eighth)."""
    if value <= 0 or scale <= 0:
        return 0
    return max(1, round(value / scale * cells * 8))


def _hbar(eighths: int, glyphs: ChartGlyphs) -> str:
    full, part = divmod(eighths, 8)
    return glyphs.bars[8] * full + (glyphs.bars[part] if part else "")


def sparkline(values: Sequence[int], width: int, glyphs: ChartGlyphs = UNICODE,
              top: int | None = None) -> str:
    """One row of columns (summed into ``width`` buckets); zero is a blank... except in ASCII,
    where any non-zero bucket shows as ``#`` only above half of ``top``, else ``.``."""
    vals, _ = bucket(values, width)
    hi = top if top is not None else max(vals, default=0)
    if hi <= 0:
        return glyphs.track * len(vals)
    out = []
    for v in vals:
        if v <= 0:
            out.append(glyphs.track if glyphs is ASCII else glyphs.columns[0])
        elif glyphs is ASCII:
            out.append("#" if v * 2 > hi else "+")
        else:
            out.append(glyphs.columns[max(1, round(v / hi * 8))])
    return "".join(out)


def column_chart(values: Sequence[int], days: Sequence[date], width: int, height: int,
                 glyphs: ChartGlyphs = UNICODE, styles: Styles = PLAIN) -> Text:
    """Vertical columns of daily values, ``height`` rows plus an axis line; days are summed
    into wider buckets when there are more days than columns (a note says so)."""
    top_label = str(max(values, default=0))
    pad = len(top_label) + 1
    room = max(4, width - pad - 1)
    n = len(values)
    if n and room // n >= 2:
        cw = min(5, room // n - 1)  # column width, with a gap of one
        gap = 1
        vals, k = list(values), 1
    else:
        vals, k = bucket(values, room)
        cw, gap = 1, 0
    hi = max(vals, default=0)
    text = Text(no_wrap=True, overflow="crop")
    for row in range(height, 0, -1):
        label = top_label if row == height else ("0" if row == 1 and hi == 0 else "")
        text.append(label.rjust(pad - 1) + " ", styles.axis)
        text.append(glyphs.axis, styles.axis)
        line = []
        for v in vals:
            eighths = _cells(v, hi, height)
            fill = eighths - (row - 1) * 8
            ch = glyphs.columns[8] if fill >= 8 else glyphs.columns[max(0, fill)]
            line.append(ch * cw + " " * gap)
        text.append("".join(line).rstrip(), styles.bar)
        text.append("\n")
    # axis labels: per column when wide enough, else first and last day
    text.append(" " * pad + glyphs.axis, styles.axis)
    span = len(vals) * (cw + gap)
    if days and cw >= 5:  # "Th  6": weekday and day of month under each column
        text.append("".join((f"{d:%a}"[:2] + f"{d.day:>3}")[:cw].ljust(cw + gap) for d in days)
                    .rstrip(), styles.note)
    elif days:
        first, last = f"{days[0]:%d %b}", f"{days[-1]:%d %b}"
        inner = max(1, span - len(first) - len(last))
        text.append(first + " " * inner + last, styles.note)
    if k > 1:
        text.append(f"\n{' ' * (pad + 1)}one column = {k} days", styles.note)
    return text


def hbars(rows: Sequence[tuple[str, float, str]], width: int, glyphs: ChartGlyphs = UNICODE,
          styles: Styles = PLAIN, label_width: int | None = None,
          note_width: int | None = None, scale: float | None = None) -> Text:
    """One bar per row: ``label  ████▌····  note``; bars scale to ``scale`` (default: the
    largest value); with a ``scale`` the rest of the bar shows as ``glyphs.track``."""
    lw = label_width if label_width is not None else max((len(r[0]) for r in rows), default=0)
    nw = note_width if note_width is not None else max((len(r[2]) for r in rows), default=0)
    cells = max(4, width - lw - nw - 3)
    hi = scale if scale is not None else max((r[1] for r in rows), default=0)
    text = Text(no_wrap=True, overflow="ellipsis")
    for i, (label, value, note) in enumerate(rows):
        if i:
            text.append("\n")
        text.append(label[:lw].ljust(lw) + " ", styles.label)
        bar = _hbar(min(_cells(value, hi, cells), cells * 8), glyphs)
        text.append(bar, styles.bar)
        text.append((glyphs.track if scale is not None else " ") * (cells - len(bar)),
                    styles.axis)
        text.append("  " + note, styles.note)
    return text


def range_bars(rows: Sequence[tuple[str, float | None, float | None, str]], width: int,
               glyphs: ChartGlyphs = UNICODE, styles: Styles = PLAIN) -> Text:
    """Median as a solid bar, then the range glyph on to the 90th percentile."""
    lw = max((len(r[0]) for r in rows), default=0)
    nw = max((len(r[3]) for r in rows), default=0)
    cells = max(4, width - lw - nw - 3)
    hi = max((r[2] or 0 for r in rows), default=0)
    text = Text(no_wrap=True, overflow="ellipsis")
    for i, (label, med, p90, note) in enumerate(rows):
        if i:
            text.append("\n")
        text.append(label[:lw].ljust(lw) + " ", styles.label)
        solid = _cells(med or 0, hi, cells)
        full = max(solid, _cells(p90 or 0, hi, cells))
        bar = _hbar(solid, glyphs)
        rest = max(0, math.ceil(full / 8) - len(bar))
        text.append(bar, styles.bar)
        text.append(glyphs.range * rest, styles.range)
        text.append(" " * max(0, cells - len(bar) - rest))
        text.append("  " + note, styles.note)
    return text


def stacked_bars(rows: Sequence[tuple[str, Sequence[int], str]], width: int,
                 glyphs: ChartGlyphs = UNICODE, styles: Styles = PLAIN) -> Text:
    """Stacked horizontal bars, one glyph per series (``glyphs.stack``), whole cells; each
    non-zero part gets at least one cell so that no series disappears."""
    lw = max((len(r[0]) for r in rows), default=0)
    nw = max((len(r[2]) for r in rows), default=0)
    cells = max(4, width - lw - nw - 3)
    hi = max((sum(r[1]) for r in rows), default=0)
    text = Text(no_wrap=True, overflow="ellipsis")
    for i, (label, parts, note) in enumerate(rows):
        if i:
            text.append("\n")
        text.append(label[:lw].ljust(lw) + " ", styles.label)
        used = 0
        for j, v in enumerate(parts):
            n = 0 if v <= 0 or hi <= 0 else max(1, round(v / hi * cells))
            text.append(glyphs.stack[j % len(glyphs.stack)] * n, styles.bar)
            used += n
        text.append(" " * max(0, cells - used))
        text.append("  " + note, styles.note)
    return text


class Chart(Widget):
    """A chart that redraws at its width: ``draw(width, glyphs, styles) -> Text``."""

    COMPONENT_CLASSES = {"chart--bar", "chart--range", "chart--label", "chart--axis",
                         "chart--note"}
    DEFAULT_CSS = """
    Chart { height: auto; }
    Chart > .chart--bar { color: $primary; }
    Chart > .chart--range { color: $secondary; }
    Chart > .chart--label { color: $foreground; }
    Chart > .chart--axis { color: $foreground-muted; }
    Chart > .chart--note { color: $foreground-muted; }
    """

    def __init__(self, draw: Callable[[int, ChartGlyphs, Styles], Text] | None = None, *,
                 ascii_only: bool = False, **kw) -> None:
        super().__init__(**kw)
        self._draw = draw
        self.glyphs = ASCII if ascii_only else UNICODE

    def show(self, draw: Callable[[int, ChartGlyphs, Styles], Text] | None) -> None:
        self._draw = draw
        self.refresh(layout=True)

    def _styles(self) -> Styles:
        get = self.get_component_rich_style
        return Styles(bar=get("chart--bar", partial=True), range=get("chart--range", partial=True),
                      label=get("chart--label", partial=True),
                      axis=get("chart--axis", partial=True), note=get("chart--note", partial=True))

    def _text(self, width: int) -> Text:
        if self._draw is None:
            return Text("")
        return self._draw(max(10, width), self.glyphs, self._styles())

    def get_content_height(self, container, viewport, width: int) -> int:
        return len(self._text(width).plain.split("\n"))

    def render(self) -> Text:
        return self._text(self.content_size.width or self.size.width or 80)
