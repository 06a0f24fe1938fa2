from __future__ import annotations

from typing import Any

from django import forms

from .hours import timezone_names, timezone_valid, window_error
from .models import WEEKDAYS, BusinessHours
from .services import MAX_OPEN_LIMIT, MAX_SLA_MINUTES, MAX_SLA_WARNING_MINUTES

DAY_NAMES = dict(
    zip(
        WEEKDAYS,
        ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
        strict=True,
    )
)
DAY_FIELDS = [f"{d}_{edge}" for d in WEEKDAYS for edge in ("open", "close")]
TIME_WIDGET = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


class BusinessHoursForm(forms.ModelForm):
    """Per weekday an opening and a closing time in the workspace's timezone; a day left
    empty is closed. Errors sit on the field that needs fixing."""

    class Meta:
        model = BusinessHours
        fields = ["enabled", "timezone", *DAY_FIELDS]
        labels = {"enabled": "Use these hours (off: always open, 24/7)"}
        widgets = dict.fromkeys(DAY_FIELDS, TIME_WIDGET)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Chosen from the zones Python knows (zoneinfo), so a typo cannot happen; a stored
        # name that is no longer known stays listed so saving the page does not change it.
        names = sorted(timezone_names())
        current = self["timezone"].value()
        if current and current not in names:
            names.insert(0, current)
        self.timezone_choices = [(n, n.replace("_", " ")) for n in names]
        self.fields["timezone"].widget = forms.Select(choices=self.timezone_choices)

    def clean_timezone(self) -> str:
        name = (self.cleaned_data.get("timezone") or "").strip()
        if not timezone_valid(name):
            raise forms.ValidationError(
                f"{name!r} is not a timezone we know; use a name like Europe/Berlin or UTC."
            )
        return name

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for day in WEEKDAYS:
            open_key, close_key = f"{day}_open", f"{day}_close"
            if open_key in self.errors or close_key in self.errors:
                continue
            error = window_error(cleaned.get(open_key), cleaned.get(close_key))
            if error:
                self.add_error(close_key, f"{DAY_NAMES[day]}: {error}")
        if cleaned.get("enabled") and not any(
            cleaned.get(f"{day}_open") is not None for day in WEEKDAYS
        ):
            self.add_error(None, "Give opening times for at least one day, or switch hours off.")
        return cleaned

    def day_rows(self) -> list[tuple[str, forms.BoundField, forms.BoundField]]:
        return [(DAY_NAMES[d], self[f"{d}_open"], self[f"{d}_close"]) for d in WEEKDAYS]


class QueueForm(forms.Form):
    """A queue's name, the categories it takes and the skill its agents need."""

    name = forms.CharField(max_length=80)
    categories = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, choices=()
    )
    required_skill = forms.CharField(
        max_length=80,
        required=False,
        help_text="Only agents with this skill take these conversations; empty: anyone.",
    )

    def __init__(self, *args: Any, category_choices: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["categories"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = [(name, name) for name in category_choices]


class SlaForm(forms.Form):
    """Minutes to the first reply and to resolution, one pair per priority."""

    def __init__(self, *args: Any, priorities: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.priorities = priorities
        for value, _label in priorities:
            for edge in ("first", "resolution"):
                self.fields[f"{value}_{edge}"] = forms.IntegerField(
                    min_value=1, max_value=MAX_SLA_MINUTES
                )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for value, label in self.priorities:
            first, resolution = cleaned.get(f"{value}_first"), cleaned.get(f"{value}_resolution")
            if first is not None and resolution is not None and first > resolution:
                self.add_error(
                    f"{value}_resolution",
                    f"{label}: resolution must not be due before the first reply.",
                )
        return cleaned

    def targets(self) -> dict[str, tuple[int, int]]:
        return {
            value: (self.cleaned_data[f"{value}_first"], self.cleaned_data[f"{value}_resolution"])
            for value, _label in self.priorities
        }

    def rows(self) -> list[tuple[str, forms.BoundField, forms.BoundField]]:
        return [
            (label, self[f"{v}_first"], self[f"{v}_resolution"]) for v, label in self.priorities
        ]


class AgentRoutingForm(forms.Form):
    skills = forms.CharField(
        max_length=1000, required=False, help_text="Comma-separated, e.g. billing, German"
    )
    max_open = forms.IntegerField(
        min_value=1, max_value=MAX_OPEN_LIMIT, label="Open conversations at once"
    )

    def skill_list(self) -> list[str]:
        return [s.strip() for s in self.cleaned_data.get("skills", "").split(",") if s.strip()]


class AlertSettingsForm(forms.Form):
    """A member's own alerts (stored on their AgentStatus row)."""

    notify_browser = forms.BooleanField(
        required=False,
        label="Browser notifications",
        help_text="A new conversation for me, a customer reply in one of mine, an SLA "
        "target about to be missed.",
    )
    notify_sound = forms.BooleanField(required=False, label="Play a sound with each notification")
    sla_warning_minutes = forms.IntegerField(
        min_value=0,
        max_value=MAX_SLA_WARNING_MINUTES,
        label="Warn me this many minutes before an SLA target is missed",
        help_text="0 turns the SLA warning off.",
    )
