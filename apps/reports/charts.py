"""Bar charts as inline SVG for the report page (drawn with floats; figures stay Decimal)."""

from __future__ import annotations

from dataclasses import dataclass

from apps.reports.figures import UsageRow

WIDTH = 640
BAR_AREA = 150
LABEL_ROOM = 40


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: str


@dataclass(frozen=True)
class BarChart:
    title: str
    bars: list[Bar]
    width: int = WIDTH
    height: int = BAR_AREA + LABEL_ROOM


def bar_chart(title: str, rows: list[UsageRow]) -> BarChart:
    """One bar per row, its height the row's cost."""
    highest = max((float(row.cost) for row in rows), default=0.0) or 1.0
    step = WIDTH / max(len(rows), 1)
    bars = []
    for index, row in enumerate(rows):
        height = float(row.cost) / highest * (BAR_AREA - 10)
        bars.append(
            Bar(
                x=index * step + step * 0.1,
                y=BAR_AREA - height,
                width=step * 0.8,
                height=height,
                label=row.label,
                value=str(row.cost),
            )
        )
    return BarChart(title, bars)
