"""Screen 2, Metrics: one metric's history as a chart, with range presets and aggregation.

Public API
----------
`MetricsView(*, clock=now_utc, tz=timezone.utc, export_dir=None, range="24h", id=None, ...)`
`show(metric, *, device=None, can_aggregate=False)`  show a metric node; posts the first
    `HistoryRequested`
`set_series(series, *, request=None) -> bool`  draw the answer; with `request` (the
    HistoryRequested it answers) a stale answer is ignored and False returned
`set_error(text)`  an error line; the previous chart and summary stay
`reload()`  ask again for the current range (also key `r`)
`tick()`  once a second: ages move on, and every `refresh_every` seconds the range is
    asked again, ending now (quietly: the chart stays until the answer comes)
`metric`, `range_name`, `aggregate`, `bucket`, `pending`, `series`, `shown_points()`
Messages: `HistoryRequested(metric_ref, start, end, aggregate, bucket)`,
`CopyRequested(text)`, `Exported(path, count)`. `ACTIONS` lists every key.

Range keys: `1`..`6` switch screens in the shell, so presets are `h` 1h, `H` 6h,
`d` 24h, `w` 7d, and `[` / `]` step down/up through them. `a` cycles the aggregation
raw → avg → min → max where the profile aggregates on the server; the bucket is the
round interval that gives about 100 points (1h → 1 min, 6h → 5 min, 24h → 15 min,
7d → 2 h).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from tuiot.domain import Aggregate, Node, Point, Series, now_utc
from tuiot.ui.actions import METRIC_ACTIONS as ACTIONS  # the registry (keys.py) reads it there
from tuiot.ui.messages import HistoryRequested
from tuiot.ui.views import TITLES, CopyRequested, ago, bindings, export_rows, value_text

# how a metric comes here: enter on a metric in the Devices tree, or on a Live row (OpenMetric)
HOW_TO_PICK = "press enter on a metric on Devices (1) or on a row on Live (3)"

RANGES: dict[str, timedelta] = {
    "1h": timedelta(hours=1),
    "6h": timedelta(hours=6),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
}
AGGREGATES: list[Aggregate | None] = [None, Aggregate.avg, Aggregate.min, Aggregate.max]
_BUCKETS = [timedelta(minutes=m) for m in (1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440)]
TARGET_POINTS = 100


def bucket_for(span: timedelta, target: int = TARGET_POINTS) -> timedelta:
    """The smallest round bucket giving at most about `target` points over `span`."""
    return next((b for b in _BUCKETS if span / b <= target), _BUCKETS[-1])


def point_value(p: Point, aggregate: Aggregate | None = None) -> float | None:
    """The number to plot for a point: its value, else the aggregate asked for, else avg."""
    v = p.value
    if isinstance(v, bool):
        return float(v)
    if isinstance(v, (int, float)):
        return float(v)
    for name in ([aggregate.value] if aggregate else []) + ["avg", "max", "min"]:
        x = getattr(p, name, None)
        if isinstance(x, (int, float)):
            return float(x)
    return None


def fmt_value(v: Any) -> str:
    """A stat (min, max, avg, last): 4 significant digits, the whole part in full (15460, not 1.546e+04)."""
    return value_text(v, digits=4)


class MetricsView(Vertical):
    """History of one metric; see the module doc for the API."""

    BINDINGS = bindings(ACTIONS)

    can_focus = True

    def __init__(self, *, clock: Callable[[], datetime] = now_utc, tz: tzinfo = UTC,
                 export_dir: Path | None = None, range: str = "24h", name: str | None = None,
                 id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        if range not in RANGES:
            raise ValueError(f"unknown range '{range}' (use {', '.join(RANGES)})")
        self.clock = clock
        self.tz = tz
        self.export_dir = export_dir
        self.metric: Node | None = None
        self.device: Node | None = None
        self.can_aggregate = False
        self.range_name = range
        self.aggregate: Aggregate | None = None
        self.pending: HistoryRequested | None = None
        self.series: Series | None = None
        self.shown_request: HistoryRequested | None = None
        self.error: str | None = None
        self.refresh_every: float | None = None  # s between quiet reloads while shown (the profile's poll)
        self._asked_at = 0.0  # monotonic time of the last request
        self._quiet = False  # the pending request is a refresh: no "loading" line
        # plotext is imported with the first Metrics screen, not at start-up
        from tuiot.ui.widgets.chart import HistoryChart

        self.chart = HistoryChart(tz=tz, id="chart")

    def compose(self) -> ComposeResult:
        yield Static(TITLES["metrics"], classes="view-title", id="title")
        yield Static("", id="controls")
        yield self.chart
        yield Static("", id="summary")
        yield Static("", id="status")

    def on_mount(self) -> None:
        # is_mounted turns true only after this handler: paint the controls and the hint then
        self.call_after_refresh(self._update)
        if self.metric is None:
            self.chart.set_data([], start=self.clock(), end=self.clock(),
                                message=f"no metric selected\n{HOW_TO_PICK}")

    # ---- input API ------------------------------------------------------------------

    @property
    def bucket(self) -> timedelta | None:
        return bucket_for(RANGES[self.range_name]) if self.aggregate else None

    def show(self, metric: Node, *, device: Node | None = None, can_aggregate: bool = False) -> None:
        """Show `metric`'s history; the series, error and aggregation of the last one go."""
        self.metric, self.device, self.can_aggregate = metric, device, can_aggregate
        if not can_aggregate:
            self.aggregate = None
        self.series = None
        self.shown_request = None
        self.error = None
        self.chart.set_data([], start=self.clock(), end=self.clock(), message="loading…")
        self.reload()

    def reload(self, *, quiet: bool = False) -> None:
        """Ask for the current metric, range and aggregation (ending now)."""
        if self.metric is None:
            if not quiet:
                self.notify(f"no metric selected: {HOW_TO_PICK}", severity="warning")
            return
        import time

        self._asked_at, self._quiet = time.monotonic(), quiet
        end = self.clock()
        start = end - RANGES[self.range_name]
        self.pending = HistoryRequested(self.metric.ref, start, end, self.aggregate, self.bucket)
        self.post_message(self.pending)
        self._update()

    def set_series(self, series: Series, *, request: HistoryRequested | None = None) -> bool:
        """Draw `series`; False (and nothing changes) when it answers an older request."""
        if request is not None and request is not self.pending:
            return False
        if self.metric is None or series.metric != self.metric.ref:
            return False
        answered = request or self.pending
        self.pending = None
        self.error = None
        self.series = series
        self.shown_request = answered
        self._draw()
        self._update()
        return True

    def tick(self) -> None:
        """A second went by: the ages in the summary move on; a refresh is asked when due."""
        import time

        due = self.refresh_every is not None and time.monotonic() - self._asked_at >= self.refresh_every
        if due and self.pending is None and self.metric is not None:
            self.reload(quiet=True)
        elif self.is_mounted:
            self.query_one("#summary", Static).update(self._summary())

    def set_error(self, text: str) -> None:
        """Show an error line; what was drawn before stays."""
        self.pending = None
        self.error = text
        self._update()

    def shown_points(self) -> list[Point]:
        """The points of the drawn series (what export writes)."""
        return list(self.series.points) if self.series else []

    # ---- drawing --------------------------------------------------------------------

    def _window(self) -> tuple[datetime, datetime]:
        if self.shown_request is not None:
            return self.shown_request.start, self.shown_request.end
        pts = self.shown_points()
        if pts:
            return pts[0].ts, pts[-1].ts
        now = self.clock()
        return now - RANGES[self.range_name], now

    def _numeric(self) -> list[tuple[datetime, float]]:
        agg = self.series.aggregate if self.series else None
        out = []
        for p in self.shown_points():
            v = point_value(p, agg or self.aggregate)
            if v is not None and not math.isnan(v):  # NaN cannot be drawn
                out.append((p.ts, v))
        out.sort(key=lambda x: x[0])
        return out

    def _draw(self) -> None:
        start, end = self._window()
        numeric = self._numeric()
        pts = self.shown_points()
        message = None
        if pts and not numeric:
            message = "text values: nothing to chart (see the last value below)"
        elif not pts:
            message = self._empty_range()
        self.chart.set_data(numeric, start=start, end=end, message=message)

    def _unit(self) -> str:
        unit = (self.series.unit if self.series else None) or (self.metric.unit if self.metric else None)
        return f" {unit}" if unit else ""

    def _update(self) -> None:
        if not self.is_mounted:
            return
        title = TITLES["metrics"]
        if self.metric is not None:
            title = f"{title} · {self.metric.name}{' (' + self._unit().strip() + ')' if self._unit() else ''}"
            if self.device is not None:
                title += f" · {self.device.name}"
            title += f" · {self.metric.profile}"
        self.query_one("#title", Static).update(Text(title))
        ranges = " ".join(f"[{n}]" if n == self.range_name else n for n in RANGES)
        if self.can_aggregate:
            agg = f"{self.aggregate.value}/{_span(self.bucket)}" if self.aggregate and self.bucket else "raw"
        else:
            agg = "raw (no server aggregation)"
        self.query_one("#controls", Static).update(Text(f"{ranges}  h H d w [ ]  ·  {agg}  a  ·  UTC"
                                                        if self.tz is UTC else
                                                        f"{ranges}  h H d w [ ]  ·  {agg}  a"))
        self.query_one("#summary", Static).update(self._summary())
        status = self.query_one("#status", Static)
        if self.pending is not None:
            if not self._quiet:  # a refresh leaves what is shown as it is until the answer
                status.update(Text(f"⟳ loading {self.range_name}…"))
        elif self.error:
            status.update(Text(f"✖ {self.error}" + (" (showing the previous chart)" if self.series else "")))
        else:
            status.update("")
        status.set_class(bool(self.error) and self.pending is None, "-error")

    def _summary(self) -> Text:
        if self.metric is None:
            return Text("")  # the chart says so, and how to pick one: once is enough
        pts = self.shown_points()
        if not pts:
            return Text("no points yet" if self.series is None else f"no points in the last {self.range_name}",
                        style="dim")
        unit = self._unit()
        numeric = [v for _, v in self._numeric()]
        last = pts[-1]
        last_v = last.value if last.value is not None else point_value(last, self.aggregate)
        now = self.clock()
        when = last.ts.astimezone(self.tz)
        when_text = when.strftime("%H:%M:%S") if now - last.ts < timedelta(hours=24) else when.strftime("%Y-%m-%d %H:%M")
        t = Text()
        agg = self.series.aggregate if self.series else None
        if agg is not None:
            # the stats are of the buckets, and the last bucket began at its time: say so
            t.append(f"{_span(self.bucket)} {agg.value}s: ", style="dim")
        if numeric:
            t.append(f"min {fmt_value(min(numeric))}  max {fmt_value(max(numeric))}  "
                     f"avg {fmt_value(sum(numeric) / len(numeric))}  ")
        t.append(f"{'last bucket' if agg else 'last'} {fmt_value(last_v)}{unit}", style="bold")
        t.append(f" {'from' if agg else 'at'} {when_text} ({ago(last.ts, now)} ago) · {len(pts):,} pts")
        return t

    def _empty_range(self) -> str:
        """An empty range says which, and the key to a longer one: a quiet sensor's last point
        is often just older than the 24 hours shown first."""
        names = list(RANGES)
        said = f"no points in the last {self.range_name}"
        if self.range_name == names[-1]:
            return said
        return f"{said} · ] longer range, w {names[-1]}"

    # ---- keys -------------------------------------------------------------------------

    def action_range(self, name: str) -> None:
        if name not in RANGES:
            return
        self.range_name = name
        self._after_change()

    def action_step_range(self, step: int) -> None:
        names = list(RANGES)
        i = max(0, min(len(names) - 1, names.index(self.range_name) + step))
        if names[i] != self.range_name:
            self.range_name = names[i]
            self._after_change()

    def action_cycle_aggregate(self) -> None:
        if self.metric is None:
            self.notify(f"no metric selected: {HOW_TO_PICK}", severity="warning")
            return
        if not self.can_aggregate:
            profile = self.metric.profile if self.metric else "this profile"
            self.notify(f"{profile} does not aggregate history on the server: raw points only",
                        severity="warning")
            return
        self.aggregate = AGGREGATES[(AGGREGATES.index(self.aggregate) + 1) % len(AGGREGATES)]
        self._after_change()

    def _after_change(self) -> None:
        if self.metric is None:
            self._update()
            return
        self.reload()

    def action_reload(self) -> None:
        self.reload()

    def action_export_csv(self) -> None:
        self.export("csv")

    def action_export_json(self) -> None:
        self.export("json")

    def export_columns(self) -> list[str]:
        cols = ["ts", "value"]
        if any(p.min is not None or p.max is not None or p.avg is not None or p.count is not None
               for p in self.shown_points()):
            cols += ["min", "max", "avg", "count"]
        return cols

    def export_rows_shown(self) -> list[Mapping[str, Any]]:
        return [p.model_dump(mode="python") for p in self.shown_points()]

    def export(self, fmt: str) -> Path | None:
        stem = f"history-{self.metric.id}" if self.metric else "history"
        return export_rows(self, self.export_rows_shown(), self.export_columns(), fmt,
                           directory=self.export_dir, stem=stem)

    def action_copy(self) -> None:
        pts = self.shown_points()
        if not pts:
            self.notify("no value to copy", severity="warning")
            return
        last = pts[-1]
        v = last.value if last.value is not None else point_value(last, self.aggregate)
        self.post_message(CopyRequested(str(v)))

    def action_copy_ref(self) -> None:
        if self.metric is not None:
            self.post_message(CopyRequested(self.metric.ref))


def _span(td: timedelta | None) -> str:
    if td is None:
        return ""
    s = int(td.total_seconds())
    return f"{s // 86400}d" if s % 86400 == 0 else f"{s // 3600}h" if s % 3600 == 0 else f"{s // 60}m"
