"""Series to accessible inline SVG, drawn on the server: nothing to load, nothing the CSP
blocks, the same picture offline.

Every chart is an `<svg role="img">` named by its `<title>` and summarised by its `<desc>`,
and carries its numbers as table rows (`Chart.columns`, `Chart.rows`) that the template shows
under a `<details>`: screen readers and people who want exact figures read those. Colours
come from classes styled by dashboard/static/dashboard/dashboard.css (the site's palette,
light and dark, at least 3:1 against the background); the presentation attributes are the
fallback when no stylesheet applies.
"""

import html
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from django.utils.safestring import SafeString, mark_safe

WIDTH = 640
HEIGHT = 260
LEFT = 52
RIGHT = 12
TOP = 14
BOTTOM = 36
MAX_X_LABELS = 8
# Fallback fills (the stylesheet's light-scheme colours): teal and amber, both over 4.5:1
# against white.
FALLBACK_FILLS = ("#0f766e", "#b45309")

Formatter = Callable[[float], str]


def _escaped(value: object) -> str:
    # What format_html does to an argument (Django's escape is the standard library's), without
    # its lazy-string plumbing: a year draws thousands of bars and cells.
    if type(value) is int or type(value) is float:
        return str(value)  # nothing to escape in a number
    if hasattr(value, "__html__"):
        return str(value.__html__())
    return html.escape(str(value))


def format_html(template: str, *args: object, **kwargs: object) -> SafeString:
    """django.utils.html.format_html, for the plain values charts interpolate."""
    return mark_safe(
        template.format(*(_escaped(a) for a in args), **{k: _escaped(v) for k, v in kwargs.items()})
    )


def _remembered(formatter: Formatter) -> Formatter:
    """The formatter, each value formatted once per chart (the same figure reads in a tooltip
    and in the table, and many cells are empty)."""
    known: dict[float, str] = {}

    def formatted(value: float) -> str:
        text = known.get(value)
        if text is None:
            text = known[value] = formatter(value)
        return text

    return formatted


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    description: str
    svg: SafeString
    columns: list[str]
    rows: list[list[str]]
    has_data: bool
    legend: list[tuple[str, str]] = field(default_factory=list)  # (css class, series name)


def nice_ceiling(value: float) -> float:
    """A round axis end at or above `value`: 2, 4, 6, 8 or 10 × 10ⁿ, at least 2, so that the
    middle gridline is a whole number too."""
    if value <= 2:
        return 2.0
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 4, 6, 8):
        if value <= step * magnitude:
            return float(step * magnitude)
    return float(10 * magnitude)


def _svg(key: str, title: str, description: str, height: int, body: SafeString) -> SafeString:
    return format_html(
        '<svg class="chart" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" '
        'aria-labelledby="{key}-title {key}-desc" focusable="false" '
        'preserveAspectRatio="xMinYMin meet" font-size="12">'
        '<title id="{key}-title">{title}</title><desc id="{key}-desc">{desc}</desc>{body}</svg>',
        w=WIDTH,
        h=height,
        key=key,
        title=title,
        desc=description,
        body=body,
    )


def _x_label_step(count: int) -> int:
    return max(1, math.ceil(count / MAX_X_LABELS))


def bar_chart(
    *,
    key: str,
    title: str,
    description: str,
    labels: Sequence[str],
    series: Sequence[Series],
    formatter: Formatter,
    label_column: str,
    maximum: float | None = None,
) -> Chart:
    """Vertical bars, one group per label and one bar per series (at most two, so that each
    keeps a colour of its own). Missing values (None) leave a gap and read "–" in the table."""
    if not 1 <= len(series) <= len(FALLBACK_FILLS):
        raise ValueError("A bar chart draws one or two series.")
    formatter = _remembered(formatter)
    values = [v for s in series for v in s.values if v is not None]
    top = maximum if maximum is not None else nice_ceiling(max(values, default=0))
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    parts: list[SafeString] = []
    for fraction in (0, 0.5, 1):
        y = TOP + plot_h * (1 - fraction)
        parts.append(
            format_html(
                '<line class="chart-grid" x1="{}" x2="{}" y1="{y}" y2="{y}" stroke="#cbd5e1"/>'
                '<text class="chart-axis" x="{}" y="{}" text-anchor="end" fill="#475569">{}</text>',
                LEFT,
                WIDTH - RIGHT,
                LEFT - 6,
                round(y + 4, 1),
                formatter(top * fraction),
                y=round(y, 1),
            )
        )
    count = len(labels)
    if count:
        band = plot_w / count
        bar_w = band * 0.8 / len(series)
        step = _x_label_step(count)
        for index, label in enumerate(labels):
            x0 = LEFT + band * index + band * 0.1
            for number, one in enumerate(series):
                value = one.values[index]
                if value is None or value <= 0:
                    continue
                bar_h = plot_h * min(value, top) / top
                parts.append(
                    format_html(
                        '<rect class="chart-series-{}" x="{}" y="{}" width="{}" height="{}" '
                        'fill="{}"><title>{}: {} ({})</title></rect>',
                        number,
                        round(x0 + bar_w * number, 1),
                        round(TOP + plot_h - bar_h, 1),
                        round(max(bar_w - 1, 1), 1),
                        round(bar_h, 1),
                        FALLBACK_FILLS[number],
                        label,
                        formatter(value),
                        one.name,
                    )
                )
            if index % step == 0:
                parts.append(
                    format_html(
                        '<text class="chart-axis" x="{}" y="{}" text-anchor="middle" '
                        'fill="#475569">{}</text>',
                        round(LEFT + band * (index + 0.5), 1),
                        HEIGHT - BOTTOM + 16,
                        label,
                    )
                )
    parts.append(
        format_html(
            '<line class="chart-baseline" x1="{}" x2="{}" y1="{y}" y2="{y}" stroke="#475569"/>',
            LEFT,
            WIDTH - RIGHT,
            y=TOP + plot_h,
        )
    )
    rows = [
        [label, *("–" if s.values[i] is None else formatter(s.values[i] or 0) for s in series)]
        for i, label in enumerate(labels)
    ]
    return Chart(
        key=key,
        title=title,
        description=description,
        svg=_svg(key, title, description, HEIGHT, mark_safe("".join(parts))),
        columns=[label_column, *(s.name for s in series)],
        rows=rows,
        # A rate of 0 % is news (nobody met), a count of 0 is not.
        has_data=bool(values) if maximum is not None else any(v > 0 for v in values),
        legend=[(f"chart-series-{n}", s.name) for n, s in enumerate(series)],
    )


def heatmap(
    *,
    key: str,
    title: str,
    description: str,
    row_labels: Sequence[str],
    column_labels: Sequence[str],
    value: Callable[[int, int], float],
    formatter: Formatter,
    corner: str,
) -> Chart:
    """A grid of cells (rows × columns) whose opacity grows with the value; each cell names
    its row, column and value in a tooltip, and the table repeats the grid."""
    formatter = _remembered(formatter)
    cell_w = (WIDTH - LEFT - RIGHT) / len(column_labels)
    cell_h = 24
    top = 20
    height = top + cell_h * len(row_labels) + 4
    grid = [[value(r, c) for c in range(len(column_labels))] for r in range(len(row_labels))]
    highest = max((v for row in grid for v in row), default=0)
    parts: list[SafeString] = []
    for c, label in enumerate(column_labels):
        if c % 3 == 0:
            parts.append(
                format_html(
                    '<text class="chart-axis" x="{}" y="{}" fill="#475569">{}</text>',
                    round(LEFT + cell_w * c + 1, 1),
                    top - 6,
                    label,
                )
            )
    for r, row_label in enumerate(row_labels):
        y = top + cell_h * r
        parts.append(
            format_html(
                '<text class="chart-axis" x="{}" y="{}" text-anchor="end" fill="#475569">{}</text>',
                LEFT - 6,
                round(y + cell_h / 2 + 4, 1),
                row_label,
            )
        )
        for c, label in enumerate(column_labels):
            amount = grid[r][c]
            # A floor of 15% keeps any use visible next to an empty hour.
            opacity = 0 if amount <= 0 or highest <= 0 else 0.15 + 0.85 * amount / highest
            parts.append(
                format_html(
                    '<rect class="{}" x="{}" y="{}" width="{}" height="{}" fill="{}" '
                    'fill-opacity="{}"><title>{} {}: {}</title></rect>',
                    "chart-heat" if opacity else "chart-heat-empty",
                    round(LEFT + cell_w * c + 1, 1),
                    y + 1,
                    round(cell_w - 2, 1),
                    cell_h - 2,
                    FALLBACK_FILLS[0] if opacity else "#f1f5f9",
                    round(opacity, 3) if opacity else 1,
                    row_label,
                    label,
                    formatter(amount),
                )
            )
    rows = [[row_label, *(formatter(v) for v in grid[r])] for r, row_label in enumerate(row_labels)]
    return Chart(
        key=key,
        title=title,
        description=description,
        svg=_svg(key, title, description, height, mark_safe("".join(parts))),
        columns=[corner, *column_labels],
        rows=rows,
        has_data=highest > 0,
    )
