"""HistoryChart: a metric's history drawn with plotext (textual-plotext), time on x.

Points are downsampled to about two per column (min and max of each column's time
bucket, in time order) before plotting, so a redraw costs O(width) whatever the series
length and spikes survive the reduction. The x axis is epoch seconds with tick labels
at round times: HH:MM for spans up to 24 h, dates beyond. Times are UTC unless a `tz`
is given. Colours come from the app theme.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, tzinfo

from rich.text import Text
from textual.app import RenderResult
from textual.color import Color, ColorParseError
from textual_plotext import PlotextPlot

# tick steps in seconds, smallest first
_STEPS = (60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 14400, 21600, 43200, 86400, 172800, 604800)


def downsample(xs: Sequence[float], ys: Sequence[float], start: float, end: float,
               buckets: int) -> tuple[list[float], list[float]]:
    """At most 2 points per bucket of [start, end]: each bucket's min and max, in time order.

    `xs` must be ascending. Series already short enough are returned unchanged.
    """
    if len(xs) <= 2 * buckets or buckets <= 0 or end <= start:
        return list(xs), list(ys)
    width = (end - start) / buckets
    out_x: list[float] = []
    out_y: list[float] = []
    i, n = 0, len(xs)
    while i < n:
        b = min(buckets - 1, max(0, int((xs[i] - start) / width)))
        lo = hi = i
        j = i + 1
        while j < n and min(buckets - 1, max(0, int((xs[j] - start) / width))) == b:
            if ys[j] < ys[lo]:
                lo = j
            if ys[j] > ys[hi]:
                hi = j
            j += 1
        for k in sorted({lo, hi}):
            out_x.append(xs[k])
            out_y.append(ys[k])
        i = j
    return out_x, out_y


def time_ticks(start: float, end: float, max_ticks: int, tz: tzinfo = UTC) -> tuple[list[float], list[str]]:
    """Round tick positions within [start, end] and their labels (HH:MM or dates)."""
    span = max(1.0, end - start)
    max_ticks = max(2, max_ticks)
    step = next((s for s in _STEPS if span / s <= max_ticks), _STEPS[-1])
    offset = datetime.fromtimestamp(start, tz).utcoffset() or timedelta(0)
    off = offset.total_seconds()
    # align to the step in local time so ticks read 12:00, 13:00 and days start at midnight
    first = ((start + off) // step + 1) * step - off
    ticks = []
    t = first
    while t <= end:
        ticks.append(t)
        t += step
    fmt = "%H:%M" if span <= 86400 else ("%b %d" if step >= 86400 else "%d %H:%M")
    return ticks, [datetime.fromtimestamp(t, tz).strftime(fmt) for t in ticks]


class HistoryChart(PlotextPlot):
    """A line chart of (time, value) points; `set_data` replaces what is drawn."""

    def __init__(self, *, tz: tzinfo = UTC, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.tz = tz
        self._xs: list[float] = []
        self._ys: list[float] = []
        self._start = 0.0
        self._end = 0.0
        self._message: str | None = "no data"
        self.plotted_points = 0  # points handed to plotext in the last render (for tests)

    def set_data(self, points: Sequence[tuple[datetime, float]], *, start: datetime, end: datetime,
                 message: str | None = None) -> None:
        """Draw `points` (ascending times) over [start, end]; `message` replaces the chart."""
        self._xs = [p[0].timestamp() for p in points]
        self._ys = [float(p[1]) for p in points]
        self._start, self._end = start.timestamp(), end.timestamp()
        self._message = message or (None if points else "no data in this range")
        self.refresh()

    def render(self) -> RenderResult:
        width, height = self.size.width, self.size.height
        if self._message is not None or width < 10 or height < 3:
            return Text(self._message or "", style="dim", justify="center")
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        xs, ys = downsample(self._xs, self._ys, self._start, self._end, max(1, width - 8))
        self.plotted_points = len(xs)
        color = self._color("primary")
        plt.plot(xs, ys, marker="braille", color=color)
        plt.xlim(self._start, self._end)
        lo, hi = min(ys), max(ys)
        if lo == hi:  # a flat line would sit on the frame; give it room
            pad = abs(lo) * 0.05 or 1.0
            plt.ylim(lo - pad, hi + pad)
        ticks, labels = time_ticks(self._start, self._end, max(2, width // 12), self.tz)
        plt.xticks(ticks, labels)
        return super().render()

    def _color(self, variable: str) -> tuple[int, int, int] | str:
        try:
            return Color.parse(self.app.theme_variables[variable]).rgb
        except (KeyError, ColorParseError):  # an exotic theme without the variable: plotext's default colour
            return "default"
