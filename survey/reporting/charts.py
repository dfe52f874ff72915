"""The report's charts, as Plotly figures rendered to HTML fragments without Plotly's script.

Every chart has a title and axis labels, distinguishes its series by pattern and by printed
values as well as by colour, and is followed in the report by the table of its numbers (its
text alternative). The script itself (`plotly_script`) is embedded once per report.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache

import plotly.graph_objects as go
import plotly.io as pio
from markupsafe import escape
from plotly.offline import get_plotlyjs

# Colour-blind-safe sequential blues for scales (Okabe–Ito inspired for categories).
SCALE_COLOURS = ("#b2182b", "#ef8a62", "#d9d9d9", "#67a9cf", "#2166ac")
PATTERNS = ("x", "/", "", "\\", "+", ".", "-", "|")
CATEGORY_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00")
FONT = {"family": "system-ui, Arial, sans-serif", "size": 13}
CONFIG = {"displaylogo": False, "responsive": True, "modeBarButtonsToRemove": ["toImage"]}

Text = Callable[[str], str]


@lru_cache(maxsize=1)
def plotly_script() -> str:
    """plotly.min.js, embedded once in each report so that it opens without network."""
    return get_plotlyjs()


def to_fragment(figure: go.Figure, element_id: str, title: str) -> str:
    """The chart as a `<figure>` whose caption is its title in HTML (issue #15): the title
    wraps with the page at any width, where Plotly's title inside the SVG was cut at 320 px."""
    chart = pio.to_html(
        figure, include_plotlyjs=False, full_html=False, config=CONFIG, div_id=element_id
    )
    return (f'<figure class="chart-figure" aria-labelledby="{element_id}-title">'
            f'<figcaption class="chart-title" id="{element_id}-title">{escape(title)}'
            f"</figcaption>{chart}</figure>")


def wrap_label(text: str, width: int = 36) -> str:
    """A chart label on lines of at most about `width` characters (Plotly breaks on `<br>`),
    so that a long question is written whole beside its bar rather than cut mid-word."""
    lines: list[str] = []
    for word in str(text).split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return "<br>".join(lines)


def _layout(figure: go.Figure, title: str, x_title: str, y_title: str, height: int) -> None:
    has_legend = any(trace.showlegend is not False for trace in figure.data) and len(
        figure.data) > 1
    # The title is the figure's HTML caption (`to_fragment`), not drawn in the SVG.
    figure.update_layout(
        font=FONT,
        # Room under the axis for the legend, which is laid out against the figure's bottom
        # edge (not the axis's), so it never covers the axis title.
        height=height + (60 if has_legend else 0) - 40,
        margin={"l": 10, "r": 10, "t": 20, "b": 110 if has_legend else 50},
        plot_bgcolor="white",
        legend={"orientation": "h", "yref": "container", "y": 0, "yanchor": "bottom", "x": 0},
    )
    figure.update_xaxes(title_text=x_title, gridcolor="#e5e5e5", automargin=True)
    figure.update_yaxes(title_text=y_title, gridcolor="#e5e5e5", automargin=True)


def _error_arrays(
    values: Sequence[float | None], lows: Sequence[float | None], highs: Sequence[float | None]
) -> dict[str, list[float]]:
    """Plotly's asymmetric error bars from interval ends (none where a value is missing)."""

    def gap(a: float | None, b: float | None) -> float:
        return a - b if a is not None and b is not None else 0.0

    return {
        "array": [gap(h, v) for v, h in zip(values, highs, strict=True)],
        "arrayminus": [gap(v, lo) for v, lo in zip(values, lows, strict=True)],
    }


def _scale_colour(position: int, points: int) -> str:
    if points <= len(SCALE_COLOURS):
        return SCALE_COLOURS[round(position * (len(SCALE_COLOURS) - 1) / max(points - 1, 1))]
    # Long scales (NPS 0–10): detractor red, passive grey, promoter blue.
    return (
        SCALE_COLOURS[0]
        if position <= 6
        else SCALE_COLOURS[2]
        if position <= 8
        else SCALE_COLOURS[4]
    )


def distribution_chart(
    rows: Sequence[tuple[str, Mapping[int, float]]],
    point_labels: Mapping[int, str],
    title: str,
    t: Text,
    element_id: str,
) -> str:
    """Stacked horizontal bars: one bar per question, one segment per point of the scale."""
    figure = go.Figure()
    points = sorted(point_labels)
    for position, point in enumerate(points):
        figure.add_trace(
            go.Bar(
                name=point_labels[point],
                y=[wrap_label(label) for label, _ in rows],
                x=[100 * shares.get(point, 0.0) for _, shares in rows],
                orientation="h",
                marker={
                    "color": _scale_colour(position, len(points)),
                    "pattern": {"shape": PATTERNS[position % len(PATTERNS)], "fgcolor": "#333"},
                    "line": {"color": "white", "width": 1},
                },
                text=[f"{100 * shares.get(point, 0.0):.0f}" for _, shares in rows],
                textposition="inside",
                insidetextanchor="middle",
                hovertemplate="%{y}<br>" + point_labels[point] + ": %{x:.1f} %<extra></extra>",
            )
        )
    figure.update_layout(barmode="stack")
    lines = sum(wrap_label(label).count("<br>") + 1 for label, _ in rows)
    # No axis title: centred under a phone's narrow plot it ran past the edge, and the caption
    # already says the bars are shares in percent.
    _layout(figure, title, "", "", 120 + max(42 * len(rows), 20 * lines))
    figure.update_xaxes(range=[0, 100])
    figure.update_yaxes(autorange="reversed")
    return to_fragment(figure, element_id, title)


def interval_chart(
    labels: Sequence[str],
    estimates: Sequence[float | None],
    lows: Sequence[float | None],
    highs: Sequence[float | None],
    title: str,
    x_title: str,
    element_id: str,
    *,
    markers: Sequence[str] = (),
) -> str:
    """Estimates with their confidence intervals as horizontal error bars, values printed."""
    shown = [
        (lab, e, lo, hi) for lab, e, lo, hi in zip(labels, estimates, lows, highs, strict=True)
    ]
    figure = go.Figure(
        go.Scatter(
            y=[wrap_label(label + (f" {markers[i]}" if i < len(markers) and markers[i] else ""))
               for i, (label, *_rest) in enumerate(shown)],
            x=[e for _, e, _, _ in shown],
            mode="markers+text",
            text=[f"{e:.1f}" if e is not None else "" for _, e, _, _ in shown],
            textposition="top center",
            marker={"size": 10, "color": CATEGORY_COLOURS[0], "symbol": "diamond"},
            error_x={
                "type": "data",
                "symmetric": False,
                **_error_arrays(list(estimates), list(lows), list(highs)),
                "thickness": 2,
                "width": 6,
                "color": "#333",
            },
            hovertemplate="%{y}: %{x:.1f}<extra></extra>",
            showlegend=False,
        )
    )  # fmt: skip
    lines = sum(wrap_label(label).count("<br>") + 1 for label, *_ in shown)
    _layout(figure, title, x_title, "", 140 + max(40 * len(shown), 20 * lines))
    figure.update_yaxes(autorange="reversed")
    return to_fragment(figure, element_id, title)


def trend_chart(
    years: Sequence[int],
    series: Sequence[
        tuple[str, Sequence[float | None], Sequence[float | None], Sequence[float | None]]
    ],
    title: str,
    y_title: str,
    t: Text,
    element_id: str,
) -> str:
    """One line per indicator across the programme's campaigns, with interval bars."""
    figure = go.Figure()
    symbols = ("circle", "square", "diamond", "triangle-up")
    dashes = ("solid", "dash", "dot", "dashdot")
    for position, (name, values, lows, highs) in enumerate(series):
        figure.add_trace(
            go.Scatter(
                name=name,
                x=[str(year) for year in years],
                y=values,
                mode="lines+markers+text",
                text=[f"{v:.1f}" if v is not None else "" for v in values],
                textposition="top center",
                line={"dash": dashes[position % 4], "color": CATEGORY_COLOURS[position % 6]},
                marker={"symbol": symbols[position % 4], "size": 10},
                error_y={
                    "type": "data",
                    "symmetric": False,
                    **_error_arrays(values, lows, highs),
                },
            )
        )  # fmt: skip
    _layout(figure, title, t("year"), y_title, 420)
    figure.update_xaxes(type="category")
    return to_fragment(figure, element_id, title)


def drivers_chart(
    points: Sequence[tuple[str, float, float, str]],
    importance_median: float,
    performance_median: float,
    title: str,
    t: Text,
    element_id: str,
) -> str:
    """The importance–performance grid: items as labelled points, medians as dashed lines."""
    quadrants = sorted({quadrant for *_, quadrant in points})
    symbols = ("circle", "square", "diamond", "triangle-up")
    # A label goes above its point unless a neighbour's label already sits there; then below.
    xs = [importance for _, importance, _, _ in points]
    ys = [100 * performance for _, _, performance, _ in points]
    x_span = (max(xs) - min(xs)) or 1.0
    y_span = (max(ys) - min(ys)) or 1.0
    placed: list[tuple[float, float, str]] = []
    position_of: dict[str, str] = {}
    for label, x, y in sorted(zip([p[0] for p in points], xs, ys, strict=True),
                              key=lambda item: (-item[2], item[1])):
        near = [where for px, py, where in placed
                if abs(px - x) < 0.15 * x_span and abs(py - y) < 0.12 * y_span]
        where = "bottom center" if "top center" in near else "top center"
        placed.append((x, y, where))
        position_of[label] = where
    figure = go.Figure()
    for position, quadrant in enumerate(quadrants):
        members = [p for p in points if p[3] == quadrant]
        figure.add_trace(
            go.Scatter(
                name=t(f"quadrant_{quadrant}"),
                x=[importance for _, importance, _, _ in members],
                y=[100 * performance for _, _, performance, _ in members],
                mode="markers+text",
                text=[wrap_label(label, 18) for label, *_ in members],
                textposition=[position_of[label] for label, *_ in members],
                marker={"symbol": symbols[position % 4], "size": 12,
                        "color": CATEGORY_COLOURS[position % 6]},
                hovertemplate="%{text}<br>%{x:.2f} ; %{y:.0f} %<extra></extra>",
            )
        )  # fmt: skip
    figure.add_vline(x=importance_median, line_dash="dash", line_color="#555")
    figure.add_hline(y=100 * performance_median, line_dash="dash", line_color="#555")
    _layout(figure, title, t("importance_axis"), t("performance_axis"), 520)
    # Room around the points for their labels, which the plot area would otherwise cut.
    figure.update_xaxes(range=[min(xs) - 0.12 * x_span, max(xs) + 0.12 * x_span])
    figure.update_yaxes(range=[min(ys) - 0.15 * y_span, max(ys) + 0.15 * y_span])
    return to_fragment(figure, element_id, title)


def funnel_chart(
    labels: Sequence[str], counts: Sequence[int], title: str, t: Text, element_id: str
) -> str:
    figure = go.Figure(
        go.Bar(
            x=list(counts),
            y=list(labels),
            orientation="h",
            text=[str(c) for c in counts],
            textposition="auto",
            marker={"color": CATEGORY_COLOURS[0], "pattern": {"shape": "/"}},
            hovertemplate="%{y}: %{x}<extra></extra>",
        )
    )
    _layout(figure, title, t("count"), "", 140 + 36 * len(labels))
    figure.update_yaxes(autorange="reversed")
    return to_fragment(figure, element_id, title)
