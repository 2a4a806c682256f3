"""The reports' charts as SVG geometry in user units: the templates only draw it."""

import math
from dataclasses import dataclass, field
from datetime import date

from portal.audit.models import Action
from reports.funnel import FunnelStep
from reports.queries import ApiLatency


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float
    css: str
    title: str


@dataclass(frozen=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float
    css: str = "grid"


@dataclass(frozen=True)
class Text:
    x: float
    y: float
    text: str
    anchor: str = "start"
    css: str = "tick"


@dataclass
class Chart:
    width: int
    height: int
    rects: list[Rect] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    texts: list[Text] = field(default_factory=list)


def nice_step(value: float) -> float:
    """A tick step of 1, 2 or 5 times a power of ten, at least 1, near `value`."""
    if value <= 1:
        return 1
    power = 10 ** math.floor(math.log10(value))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= value)


def axis(maximum: float, ticks: int = 4) -> tuple[float, list[float]]:
    """The axis top and its tick values for data up to `maximum`."""
    step = nice_step(maximum / ticks)
    top = step * max(1, math.ceil(maximum / step))
    return top, [step * n for n in range(round(top / step) + 1)]


def _svg_number(value: float) -> float:
    """A coordinate or length rounded to a tenth of a user unit: short SVG, no visible loss."""
    return round(value, 1)


@dataclass(frozen=True)
class DayVolume:
    day: date
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


ACTION_LABELS = dict(Action.choices)


def volume_chart(days: list[DayVolume], width: int = 760, height: int = 250) -> Chart:
    """Stacked bars: calls per day, one colour per action."""
    left, right, top, bottom = 48, 8, 10, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    y_top, ticks = axis(max((day.total for day in days), default=0))
    chart = Chart(width, height)
    for tick in ticks:
        y = _svg_number(top + plot_h - tick / y_top * plot_h)
        chart.lines.append(Line(left, y, width - right, y))
        chart.texts.append(Text(left - 6, y + 4, f"{int(tick):,}", "end"))
    slot = plot_w / max(len(days), 1)
    bar = max(slot * (0.72 if len(days) <= 62 else 0.9), 0.5)
    label_every = max(1, math.ceil(len(days) / 10))
    for index, day in enumerate(days):
        x = left + index * slot + (slot - bar) / 2
        base = top + plot_h
        for action in ACTION_LABELS:
            count = day.counts.get(action, 0)
            if not count:
                continue
            h = count / y_top * plot_h
            base -= h
            title = f"{day.day:%a %b} {day.day.day}: {ACTION_LABELS[action]} {count:,}"
            chart.rects.append(
                Rect(
                    _svg_number(x),
                    _svg_number(base),
                    _svg_number(bar),
                    _svg_number(h),
                    f"series-{action}",
                    title,
                )
            )
        if index % label_every == 0:
            chart.texts.append(
                Text(
                    _svg_number(left + (index + 0.5) * slot),
                    height - 10,
                    _day_label(day.day),
                    "middle",
                )
            )
    chart.lines.append(Line(left, top + plot_h, width - right, top + plot_h, "axis"))
    return chart


def _day_label(day: date) -> str:
    return f"{day:%b} {day.day}"


def latency_chart(apis: list[ApiLatency], width: int = 440) -> Chart:
    """Two bars per API: p50 and p95 latency."""
    rows = [
        (
            api.label,
            [
                Bar(f"series-{name}", value, f"{api.label}: {name} {value:,} ms over "
                    f"{api.calls:,} calls", f"{name} {value:,} ms")
                for name, value in (("p50", api.p50), ("p95", api.p95))
            ],
        )
        for api in apis
    ]  # fmt: skip
    return _paired_bars(rows, LATENCY_LAYOUT, width)


def funnel_chart(steps: list[FunnelStep], width: int = 440) -> Chart:
    """Centred bars, each as wide as its count against the first step (all it is a part of)."""
    row, bar_h, top = 56, 26, 4
    chart = Chart(width, top + row * len(steps))
    widest = max((step.count for step in steps), default=0) or 1
    for index, step in enumerate(steps):
        y = top + index * row
        share = f" · {step.share}" if step.share else ""
        chart.texts.append(
            Text(width / 2, y + 16, f"{step.label}: {step.count:,}{share}", "middle", "label")
        )
        w = _svg_number(step.count / widest * (width - 20)) if step.count else 0
        if w:
            chart.rects.append(
                Rect(
                    _svg_number((width - max(w, 2)) / 2),
                    y + 24,
                    max(w, 2),
                    bar_h,
                    f"funnel-{index}",
                    f"{step.label}: {step.count:,}",
                )
            )
        else:
            chart.lines.append(
                Line(width / 2 - 40, y + 24 + bar_h / 2, width / 2 + 40, y + 24 + bar_h / 2, "axis")
            )
    return chart


@dataclass(frozen=True)
class PairRow:
    """One label with this week's and last week's value."""

    label: str
    this: int
    last: int


def comparison_chart(rows: list[PairRow], width: int = 440) -> Chart:
    """Two bars per row: this week, and last week below it, on one shared scale."""
    pairs = [
        (
            item.label,
            [
                Bar(css, value, f"{item.label}, {name}: {value:,}", f"{value:,}")
                for name, css, value in (
                    ("this week", "series-this", item.this),
                    ("last week", "series-last", item.last),
                )
            ],
        )
        for item in rows
    ]
    return _paired_bars(pairs, COMPARISON_LAYOUT, width)


@dataclass(frozen=True)
class Bar:
    css: str
    value: int
    title: str
    text: str


@dataclass(frozen=True)
class PairLayout:
    """Where a paired-bar chart puts things: margins, each row's height and label line, the
    two bars' offsets in it and their height, the tick labels' unit."""

    left: int
    right: int
    row: int
    label_y: int
    offsets: tuple[int, int]
    bar_height: int
    unit: str = ""


LATENCY_LAYOUT = PairLayout(142, 84, 48, 27, (6, 24), 15, " ms")
COMPARISON_LAYOUT = PairLayout(150, 40, 44, 24, (4, 21), 14)
TOP, BOTTOM = 8, 26


def _paired_bars(rows: list[tuple[str, list[Bar]]], layout: PairLayout, width: int) -> Chart:
    """A label and two bars a row, on one scale from 0 to the largest value, with its grid."""
    plot_w = width - layout.left - layout.right
    height = TOP + layout.row * max(len(rows), 1) + BOTTOM
    x_top, ticks = axis(max((bar.value for _, bars in rows for bar in bars), default=0))
    chart = Chart(width, height)
    for tick in ticks:
        x = _svg_number(layout.left + tick / x_top * plot_w)
        chart.lines.append(Line(x, TOP, x, height - BOTTOM))
        chart.texts.append(Text(x, height - 8, f"{int(tick):,}{layout.unit}", "middle"))
    for index, (label, bars) in enumerate(rows):
        y = TOP + index * layout.row
        chart.texts.append(Text(layout.left - 10, y + layout.label_y, label, "end", "label"))
        for offset, bar in zip(layout.offsets, bars, strict=True):
            w = max(_svg_number(bar.value / x_top * plot_w), 1)
            chart.rects.append(
                Rect(layout.left, y + offset, w, layout.bar_height, bar.css, bar.title)
            )
            text_y = y + offset + layout.bar_height - 3
            chart.texts.append(Text(_svg_number(layout.left + w + 6), text_y, bar.text))
    return chart
