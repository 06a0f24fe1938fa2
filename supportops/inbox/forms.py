from __future__ import annotations

from typing import Any

from django import forms

from .hours import timezone_valid, window_error
from .models import WEEKDAYS, BusinessHours

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
