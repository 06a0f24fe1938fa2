"""The rollout readout page: per phase, AI-first against control with always-valid
intervals, charts of the difference over time, and the power calculator. Everyone in the
workspace reads it; outsiders get 404."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from supportops.accounts.access import workspace_view
from supportops.accounts.models import Role
from supportops.rollout import stats
from supportops.rollout.selectors import phase_get, rollout_settings_get

from . import readout

READERS = (Role.ADMIN, Role.MANAGER, Role.AGENT, Role.FINANCE)


def _number(request: HttpRequest, name: str, low: float, high: float) -> tuple[float | None, str]:
    raw = request.GET.get(name, "").strip().rstrip("%")
    if not raw:
        return None, ""
    try:
        value = float(raw)
    except ValueError:
        return None, f"“{raw}” is not a number."
    if not low <= value <= high:
        return None, f"Choose a value from {low:g} to {high:g}."
    return value, ""


@workspace_view(*READERS)
@require_GET
def phase_readout(request: HttpRequest, phase_id: int) -> HttpResponse:
    workspace = request.workspace  # type: ignore[attr-defined]
    phase = phase_get(workspace=workspace, phase_id=phase_id)
    built = readout.readout_build(phase=phase)
    baseline, baseline_error = _number(request, "baseline", 1, 99)
    effect, effect_error = _number(request, "effect", 0.5, 50)
    share, share_error = _number(request, "share", 1, 99)
    errors = {
        k: v
        for k, v in (("baseline", baseline_error), ("effect", effect_error), ("share", share_error))
        if v
    }
    power = built.power
    if baseline is not None or effect is not None or share is not None:
        power = readout.power_plan(
            phase=phase,
            baseline=baseline / 100 if baseline is not None else None,
            effect_pts=effect,
            control_share=share / 100 if share is not None else None,
            control_fcr=built.results[0].control,
        )
    charts = []
    if built.series:
        labels = {r.metric.key: r.metric.label for r in built.results}
        for key in ("fcr", "repeat"):
            title = f"{labels[key]}: AI-first minus control"
            figure = readout.figure_difference(built.series, key, title)
            charts.append(
                {
                    "id": f"chart-{key}",
                    "data_id": f"chart-{key}-data",
                    "figure": readout.chart_data(figure),
                }
            )
    return render(
        request,
        "analytics/readout.html",
        {
            "section": "rollout",
            "phase": phase,
            "readout": built,
            "power": power,
            "errors": errors,
            "charts": charts,
            "inflation": stats.sequential_inflation(),
            "rollout_settings": rollout_settings_get(workspace=workspace),
            "guardrail_pauses": [],
        },
        status=400 if errors else 200,
    )
