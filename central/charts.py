"""Charts as inline SVG, drawn on the server: no script, no CDN, nothing fetched by the page.

Pure functions from figures to markup. Colours come from the page's stylesheet through the
series' CSS classes, so the palette lives in one place; every bar carries a <title> that the
browser shows on hover, and the page puts a table of the same numbers beside each chart.

A long period is charted by week or month (`by_period`), chosen from its length alone: a
half-year by day is 181 bars nobody can read, by week 27.
"""

from __future__ import annotations

import datetime as dt
import math
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

from common.marks import N_

WIDTH = 720
LEFT, RIGHT, TOP, BOTTOM = 52, 12, 34, 30


@dataclass(frozen=True)
class Series:
    name: str       # the legend's text, already translated
    css_class: str  # e.g. "s-loans"; the stylesheet gives it a colour


def axis_step(value: float, lines: int = 4) -> int:
    """A round step for `lines` grid lines that reach at least `value` (1, 2, 5, 10 ...)."""
    need = value / lines
    if need <= 1:
        return 1
    power = 10 ** math.floor(math.log10(need))
    for step in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if need <= step * power:
            return int(step * power)
    return int(10 * power)


DAY, WEEK, MONTH = "day", "week", "month"
# At most this many days are charted a bar a day (a month and a half: 45 bars), at most
# BY_WEEK_DAYS a bar a week (up to 30 bars); longer periods a bar a month (ten years: 121).
BY_DAY_DAYS, BY_WEEK_DAYS = 45, 200
PERIOD_TITLES = {DAY: N_("Loans and returns per day"), WEEK: N_("Loans and returns per week"),
                 MONTH: N_("Loans and returns per month")}
PERIOD_HEADS = {DAY: N_("Day"), WEEK: N_("Week"), MONTH: N_("Month")}
# The axis labels say the grouping: `11-24`, `11-23周` (the Monday), `2026年7月`.
LABEL_WORDS = {WEEK: N_("{date} week"), MONTH: N_("{year}-{month} month")}
LABEL_PX = {DAY: 40, WEEK: 56, MONTH: 64}  # room an axis label needs, for how many to skip


def grouping(days: int) -> str:
    """DAY, WEEK or MONTH for a period of `days` days."""
    if days <= BY_DAY_DAYS:
        return DAY
    return WEEK if days <= BY_WEEK_DAYS else MONTH


def period_start(day: dt.date, unit: str) -> dt.date:
    """The first day of `day`'s period: itself, its week's Monday (as weeks start in China,
    ISO 8601 too) or the first of its month."""
    if unit == WEEK:
        return day - dt.timedelta(days=day.weekday())
    if unit == MONTH:
        return day.replace(day=1)
    return day


@dataclass(frozen=True)
class Periods:
    """Daily series summed into periods; each period is cut to the days asked for, so the
    first week of a period starting on a Wednesday holds five days."""
    unit: str                               # DAY, WEEK or MONTH
    starts: list[dt.date]                   # each period's own start (a Monday, a 1st)
    spans: list[tuple[dt.date, dt.date]]    # the days of it that were asked for
    values: list[list[int]]                 # per series, a sum per period

    @property
    def title(self) -> str:
        return PERIOD_TITLES[self.unit]

    @property
    def head(self) -> str:
        return PERIOD_HEADS[self.unit]

    @property
    def label_px(self) -> int:
        return LABEL_PX[self.unit]

    def labels(self, t: Callable[..., str]) -> list[str]:
        """Short axis labels, in the words of `t(msgid, **args)`."""
        if self.unit == DAY:
            return [f"{d:%m-%d}" for d in self.starts]
        if self.unit == WEEK:
            return [t(LABEL_WORDS[WEEK], date=f"{d:%m-%d}") for d in self.starts]
        return [t(LABEL_WORDS[MONTH], year=str(d.year), month=str(d.month), mm=f"{d:%m}")
                for d in self.starts]

    def rows(self) -> list[tuple[str, list[int]]]:
        """The table's rows: the days each period covers (`2026-11-24`, `2026-07`, or
        `2026-11-23 – 11-29`), with its sum per series."""
        return [(_days_text(first, last, self.unit), [v[i] for v in self.values])
                for i, (first, last) in enumerate(self.spans)]


def by_period(first_day: dt.date, values: list[list[int]], unit: str | None = None) -> Periods:
    """`values` (per series, one a day from `first_day`) summed by the period `grouping`
    chooses from their length (or by `unit`)."""
    days = max((len(v) for v in values), default=0)
    unit = unit or grouping(days)
    starts: list[dt.date] = []
    spans: list[tuple[dt.date, dt.date]] = []
    sums: list[list[int]] = [[] for _ in values]
    for i in range(days):
        day = first_day + dt.timedelta(days=i)
        start = period_start(day, unit)
        if not starts or starts[-1] != start:
            starts.append(start)
            spans.append((day, day))
            for one in sums:
                one.append(0)
        spans[-1] = (spans[-1][0], day)
        for one, series in zip(sums, values):
            one[-1] += series[i]
    return Periods(unit, starts, spans, sums)


def _days_text(first: dt.date, last: dt.date, unit: str) -> str:
    if first == last:
        return first.isoformat()
    if unit == MONTH and first.day == 1 and (last + dt.timedelta(days=1)).day == 1:
        return f"{first:%Y-%m}"
    return f"{first} – {last:%m-%d}" if first.year == last.year else f"{first} – {last}"


def grouped_bars(labels: list[str], series: list[Series], values: list[list[int]], *,
                 title: str, empty_text: str, height: int = 260,
                 label_px: int = 40) -> Markup:
    """Vertical bars, one group per label (a day, an hour), one bar per series in each."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, height - TOP - BOTTOM
    top = 4 * axis_step(max((max(v, default=0) for v in values), default=0))
    parts = [_open(WIDTH, height, title), _legend(series, LEFT)]
    for i in range(5):  # grid lines and the value axis
        y = TOP + plot_h - plot_h * i / 4
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" '
                     f'y2="{y:.1f}"/><text class="axis" x="{LEFT - 6}" y="{y + 4:.1f}" '
                     f'text-anchor="end">{top * i // 4:,}</text>')
    n = max(len(labels), 1)
    group = plot_w / n
    bar = max(group * 0.8 / max(len(series), 1), 0.5)
    every = max(1, math.ceil(n * label_px / plot_w))
    for g, label in enumerate(labels):
        x0 = LEFT + g * group + group * 0.1
        for s, one in enumerate(series):
            value = values[s][g]
            h = plot_h * value / top
            parts.append(f'<rect class="{one.css_class}" x="{x0 + s * bar:.1f}" '
                         f'y="{TOP + plot_h - h:.1f}" width="{bar:.1f}" height="{h:.1f}">'
                         f'<title>{escape(label)} · {escape(one.name)}: {value:,}</title></rect>')
        if g % every == 0:
            parts.append(f'<text class="axis" x="{LEFT + (g + 0.5) * group:.1f}" '
                         f'y="{height - BOTTOM + 16}" text-anchor="middle">{escape(label)}</text>')
    if not any(any(v) for v in values):
        parts.append(_empty(WIDTH / 2, TOP + plot_h / 2, empty_text))
    parts.append("</svg>")
    return Markup("".join(parts))


def horizontal_bars(labels: list[str], series: list[Series], values: list[list[int]], *,
                    title: str, empty_text: str, label_width: int = 200) -> Markup:
    """One stacked bar per label (a title, a category, a failure), longest first as given."""
    row_h = 24
    height = TOP + max(len(labels), 1) * row_h + 8
    x0, plot_w = label_width, WIDTH - label_width - RIGHT - 56
    totals = [sum(values[s][r] for s in range(len(series))) for r in range(len(labels))]
    top = max(totals, default=0) or 1
    parts = [_open(WIDTH, height, title), _legend(series, 8)]
    for r, label in enumerate(labels):
        y = TOP + r * row_h
        parts.append(f'<text class="label" x="{x0 - 8}" y="{y + 16}" text-anchor="end">'
                     f'<title>{escape(label)}</title>{escape(shorten(label, 26))}</text>')
        x = float(x0)
        for s, one in enumerate(series):
            w = plot_w * values[s][r] / top
            if w > 0:
                parts.append(f'<rect class="{one.css_class}" x="{x:.1f}" y="{y + 4}" '
                             f'width="{w:.1f}" height="{row_h - 8}"><title>{escape(label)} · '
                             f'{escape(one.name)}: {values[s][r]:,}</title></rect>')
            x += w
        parts.append(f'<text class="value" x="{x + 6:.1f}" y="{y + 16}">{totals[r]:,}</text>')
    if not labels:
        parts.append(_empty(WIDTH / 2, TOP + row_h / 2 + 4, empty_text))
    parts.append("</svg>")
    return Markup("".join(parts))


def shorten(text: str, units: int) -> str:
    """At most `units` wide, counting a Chinese character as two, with an ellipsis if cut."""
    if _width(text) <= units:
        return text
    out, used = [], 0
    for ch in text:
        used += _width(ch)
        if used > units - 1:
            break
        out.append(ch)
    return "".join(out) + "…"


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _open(width: int, height: int, title: str) -> str:
    return (f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
            f'xmlns="http://www.w3.org/2000/svg" aria-label="{escape(title)}">'
            f'<title>{escape(title)}</title>')


def _legend(series: list[Series], x: float) -> str:
    parts = []
    for one in series:
        parts.append(f'<rect class="{one.css_class}" x="{x:.0f}" y="8" width="12" height="12" '
                     f'rx="2"/><text class="legend" x="{x + 17:.0f}" y="19">'
                     f'{escape(one.name)}</text>')
        x += 28 + _width(one.name) * 7.5
    return "".join(parts)


def _empty(x: float, y: float, text: str) -> str:
    return f'<text class="empty" x="{x:.0f}" y="{y:.0f}" text-anchor="middle">{escape(text)}</text>'
