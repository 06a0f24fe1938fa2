"""The dashboards' charts: pure functions from figures already computed (no queries here) to
plotly figures. Every bar carries the address of its drill-down list in `customdata`;
`static/js/charts.js` draws the figures and follows a click to that list."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import plotly.graph_objects as go

from .kpis import CSAT_LABELS, WHO, Csat, Share, Timing

Link = Callable[[str, str], str]  # (figure, segment) -> drill-down URL
CONFIRMED_COLOUR = "#2f7d4f"
GAP_COLOUR = "#d08c2a"
BOT_COLOUR = "#3a6ea5"
PEOPLE_COLOUR = "#7a5195"


def _layout(fig: go.Figure, title: str, *, percent: bool = False) -> go.Figure:
    fig.update_layout(
        template="none",
        title={"text": title, "x": 0, "font": {"size": 15}},
        margin={"l": 60, "r": 20, "t": 50, "b": 60},
        height=320,
        hovermode="closest",
        legend={"orientation": "h", "y": -0.2},
        font={"family": "system-ui, sans-serif", "size": 12},
    )
    if percent:
        fig.update_yaxes(tickformat=".0%", rangemode="tozero")
    return fig


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def figure_resolution(
    *, confirmed: Share, bot_confirmed: Share, gap: Share, link: Link
) -> go.Figure:
    """Confirmed resolution beside the bot's contained rate, split into what customers
    confirmed and the gap (contained but never confirmed resolved)."""
    fig = go.Figure()
    fig.add_bar(
        name="Confirmed resolved",
        x=["Confirmed resolution rate (all)", "Contained (AI first)"],
        y=[confirmed.rate or 0, bot_confirmed.rate or 0],
        text=[_pct(confirmed.rate), _pct(bot_confirmed.rate)],
        customdata=[link("confirmed", ""), link("bot_confirmed", "")],
        marker_color=CONFIRMED_COLOUR,
    )
    fig.add_bar(
        name="Gap: contained but not confirmed resolved",
        x=["Contained (AI first)"],
        y=[gap.rate or 0],
        text=[f"gap {_pct(gap.rate)}"],
        customdata=[link("gap", "")],
        marker_color=GAP_COLOUR,
    )
    fig.update_layout(barmode="stack")
    return _layout(fig, "Confirmed resolution vs contained", percent=True)


def figure_csat(*, csat: Sequence[Csat], link: Link) -> go.Figure:
    """Mean rating per group, with the response rate on each bar."""
    fig = go.Figure()
    fig.add_bar(
        x=[CSAT_LABELS[c.segment] for c in csat],
        y=[c.mean or 0 for c in csat],
        text=[
            f"{c.mean:.2f} · {_pct(c.answered.rate)} responded"
            if c.mean is not None
            else f"no ratings · {_pct(c.answered.rate)} responded"
            for c in csat
        ],
        customdata=[link("csat_answered", c.segment) for c in csat],
        marker_color=[BOT_COLOUR, PEOPLE_COLOUR, "#888888"][: len(csat)],
    )
    fig.update_yaxes(range=[0, 5])
    return _layout(fig, "CSAT (mean of 1-5) and response rate")


def figure_escalation(*, shares: Sequence[Share], title: str, link: Link) -> go.Figure:
    """Escalation rates of the segments (categories or triggers)."""
    fig = go.Figure()
    fig.add_bar(
        x=[s.segment for s in shares],
        y=[s.rate or 0 for s in shares],
        text=[f"{_pct(s.rate)} ({s.n} of {s.of})" for s in shares],
        customdata=[link(s.figure, s.segment) for s in shares],
        marker_color=GAP_COLOUR,
    )
    return _layout(fig, title, percent=True)


def figure_times(*, first: Sequence[Timing], resolution: Sequence[Timing], link: Link) -> go.Figure:
    """p50 and p90 of time to first response and to resolution, bot and people, in minutes."""
    fig = go.Figure()
    for who, colour in (("bot", BOT_COLOUR), ("person", PEOPLE_COLOUR)):
        rows = [
            ("First response", next(t for t in first if t.who == who), "first_response"),
            ("Resolution", next(t for t in resolution if t.who == who), "resolution_time"),
        ]
        for name, fraction in (("p50", "p50"), ("p90", "p90")):
            values = [getattr(t, fraction) for _, t, _ in rows]
            fig.add_bar(
                name=f"{WHO[who]} {name}",
                x=[label for label, _, _ in rows],
                y=[(v or 0) / 60 for v in values],
                text=["n/a" if v is None else f"{v / 60:.1f} min" for v in values],
                customdata=[link(figure, who) for _, _, figure in rows],
                marker_color=colour,
                opacity=1.0 if name == "p50" else 0.6,
            )
    fig.update_layout(barmode="group")
    fig.update_yaxes(title_text="minutes")
    return _layout(fig, "Time to first response and to resolution (p50, p90)")


def chart_spec(fig: go.Figure) -> dict[str, Any]:
    """The figure as plain JSON for `json_script` (plotly's encoder handles numpy values)."""
    spec: dict[str, Any] = json.loads(fig.to_json())
    return spec
