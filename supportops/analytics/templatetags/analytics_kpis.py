"""How the dashboards write rates and durations."""

from __future__ import annotations

from django import template

from supportops.lib.plotly_css import injected_style_ids

register = template.Library()


@register.filter
def pct(value: float | None) -> str:
    """0.4286 → "42.9%"; no value (nothing to divide by) → "n/a"."""
    return "n/a" if value is None else f"{value * 100:.1f}%"


@register.filter
def duration(seconds: float | None) -> str:
    """Seconds as a person reads them: 42 s, 3.5 min, 2.1 h."""
    if seconds is None:
        return "n/a"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


@register.inclusion_tag("analytics/_plotly_head.html")
def plotly_head() -> dict[str, object]:
    """plotly.js and its style sheet without any inline style (see lib.plotly_css)."""
    return {"injected_style_ids": injected_style_ids()}
