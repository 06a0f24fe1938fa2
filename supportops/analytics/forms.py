"""Forms of the price table page: a model price, a handling rate, the idle gap."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone

from .models import DEFAULT_IDLE_GAP_MINUTES, ModelPrice

DATE = forms.DateInput(attrs={"type": "date"})


class ModelPriceForm(forms.Form):
    provider = forms.ChoiceField(choices=ModelPrice.Provider.choices)
    model = forms.CharField(
        max_length=120,
        required=False,
        help_text="As the bot records it (LLM_MODEL); empty for extractive.",
    )
    input_per_mtok = forms.DecimalField(
        label="Input, $ per 1M tokens", min_value=0, max_digits=12, decimal_places=6, initial=0
    )
    output_per_mtok = forms.DecimalField(
        label="Output, $ per 1M tokens", min_value=0, max_digits=12, decimal_places=6, initial=0
    )
    per_thousand_turns = forms.DecimalField(
        label="Compute, $ per 1,000 turns",
        min_value=0,
        max_digits=12,
        decimal_places=6,
        initial=0,
    )
    effective_from = forms.DateField(
        widget=DATE, help_text="Turns from this day on use this price; earlier ones keep theirs."
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["effective_from"].initial = timezone.localdate()


class HandlingRateForm(forms.Form):
    applies_to = forms.ChoiceField(label="For", choices=())
    hourly_cost = forms.DecimalField(
        label="$ per hour of handling", min_value=0, max_digits=10, decimal_places=2
    )
    effective_from = forms.DateField(widget=DATE)

    def __init__(
        self,
        *args: Any,
        agents: list[tuple[int, str]],
        queues: list[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["applies_to"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [
            ("", "Everyone (the default)"),
            ("Teams (inbox queues)", [(f"queue:{pk}", name) for pk, name in queues]),
            ("Agents", [(f"agent:{pk}", name) for pk, name in agents]),
        ]
        self.fields["effective_from"].initial = timezone.localdate()

    def target(self) -> dict[str, int | None]:
        kind, _, pk = str(self.cleaned_data.get("applies_to") or "").partition(":")
        return {
            "agent_id": int(pk) if kind == "agent" else None,
            "queue_id": int(pk) if kind == "queue" else None,
        }


class IdleGapForm(forms.Form):
    idle_gap_minutes = forms.IntegerField(
        label="Idle gap, minutes",
        min_value=1,
        max_value=24 * 60,
        initial=DEFAULT_IDLE_GAP_MINUTES,
        help_text="A pause longer than this in a handled conversation is not handling time.",
    )


class CostFilterForm(forms.Form):
    since = forms.DateField(required=False, widget=DATE, label="From")
    until = forms.DateField(required=False, widget=DATE, label="Until (exclusive)")
    group_by = forms.ChoiceField(
        required=False,
        choices=[
            ("", "Everything"),
            ("arm", "Rollout arm"),
            ("channel", "Channel"),
            ("category", "Category"),
            ("month", "Month"),
        ],
    )


class ThemePeriodForm(forms.Form):
    since = forms.DateField(widget=DATE, label="From")
    until = forms.DateField(widget=DATE, label="Until (exclusive)")
