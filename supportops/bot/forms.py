"""Forms of the bot settings and categories pages. Shape checks only: the services decide."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile

from .categories import DESCRIPTION_MAX, IMPORT_MAX_BYTES, NAME_MAX
from .models import BotSettings
from .services import BOT_SETTINGS_RANGES, greeting_problem


def _default(name: str) -> str:
    value = getattr(BotSettings._meta.get_field(name), "default", None)
    if isinstance(value, bool):
        return "on" if value else "off"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _switch(label: str, what: str, name: str) -> forms.BooleanField:
    return forms.BooleanField(
        required=False, label=label, help_text=f"{what} Default: {_default(name)}."
    )


def _number(
    field: Callable[..., forms.Field], label: str, what: str, name: str, **kwargs: Any
) -> forms.Field:
    low, high = BOT_SETTINGS_RANGES[name]
    return field(
        label=label,
        min_value=low,
        max_value=high,
        help_text=f"{what} From {low:g} to {high:g}; default {_default(name)}.",
        **kwargs,
    )


class BotSettingsForm(forms.Form):
    """Persona, disclosure and the escalation rules; the trigger switches come in pairs with
    their thresholds (`TRIGGERS` says which go together, for the template)."""

    enabled = _switch(
        "The assistant answers customers",
        "When off, every new conversation goes straight to the human queue.",
        "enabled",
    )
    persona_name = forms.CharField(
        max_length=60,
        label="Assistant's name",
        help_text=f"Shown to customers as {{persona}}. Default: {_default('persona_name')}.",
    )
    greeting = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        label="Greeting",
        help_text=(
            "The first message of every conversation. It must say that this is an AI "
            "(“AI”, “assistant” or “bot”). {persona} and {company} are filled in."
        ),
    )
    handoff_message = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Handoff message",
        help_text="Sent when the assistant passes the conversation to a person.",
    )
    explicit_request_enabled = _switch(
        "Customer asks for a person",
        "Hand off as soon as the customer asks for a human (“agent”, “talk to a person”).",
        "explicit_request_enabled",
    )
    frustration_enabled = _switch(
        "Frustration or anger",
        "Hand off when a message reads as clearly upset.",
        "frustration_enabled",
    )
    frustration_threshold = _number(
        forms.FloatField,
        "Frustration threshold",
        "How sure the sentiment model must be that one message is negative; lower hands "
        "off sooner.",
        "frustration_threshold",
    )
    high_stakes_enabled = _switch(
        "High-stakes topics",
        "Hand off billing disputes, fraud and account security, legal threats, data "
        "deletion, and every category marked high stakes below.",
        "high_stakes_enabled",
    )
    turn_limit_enabled = _switch(
        "Too many turns or a repeated question",
        "Hand off when the conversation goes on without a resolution, or the customer asks "
        "the same thing again.",
        "turn_limit_enabled",
    )
    max_customer_turns = _number(
        forms.IntegerField,
        "Customer messages before handing off",
        "Counted from the start of the conversation.",
        "max_customer_turns",
    )
    repeat_similarity = _number(
        forms.FloatField,
        "Repeated question similarity",
        "How alike two questions must be to count as the same one asked again (1 means "
        "word for word).",
        "repeat_similarity",
    )
    low_confidence_enabled = _switch(
        "Low confidence",
        "Hand off instead of guessing when the knowledge base has no good match.",
        "low_confidence_enabled",
    )
    min_retrieval_score = _number(
        forms.FloatField,
        "Minimum retrieval score",
        "Below this best-passage score the assistant hands off instead of answering; "
        "higher hands off more often.",
        "min_retrieval_score",
    )
    clarify_below = _number(
        forms.FloatField,
        "Ask before answering below",
        "Between the minimum and this score the assistant asks the customer what they mean "
        "(showing the likely articles) instead of answering; a second weak match hands off.",
        "clarify_below",
    )
    vip_enabled = _switch(
        "VIP customers go to a person",
        "Customers marked VIP in your customer data always talk to a person.",
        "vip_enabled",
    )

    # (switch, its thresholds) in the order the page shows them.
    TRIGGERS = (
        ("explicit_request_enabled", ()),
        ("frustration_enabled", ("frustration_threshold",)),
        ("high_stakes_enabled", ()),
        ("turn_limit_enabled", ("max_customer_turns", "repeat_similarity")),
        ("low_confidence_enabled", ("min_retrieval_score", "clarify_below")),
        ("vip_enabled", ()),
    )

    def __init__(self, *args: Any, read_only: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if read_only:
            for field in self.fields.values():
                field.disabled = True

    def clean_greeting(self) -> str:
        greeting = self.cleaned_data["greeting"].strip()
        problem = greeting_problem(greeting)
        if problem:
            raise forms.ValidationError(problem)
        return greeting

    def trigger_rows(self) -> list[tuple[forms.BoundField, list[forms.BoundField]]]:
        return [
            (self[switch], [self[n] for n in thresholds]) for switch, thresholds in self.TRIGGERS
        ]


class CategoryForm(forms.Form):
    name = forms.CharField(max_length=NAME_MAX, label="Name")
    description = forms.CharField(max_length=DESCRIPTION_MAX, required=False, label="Description")
    is_high_stakes = forms.BooleanField(
        required=False,
        label="High stakes",
        help_text="Messages in this category always go to a person (when high-stakes handoff "
        "is on).",
    )


class ExamplesForm(forms.Form):
    texts = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=100_000,
        label="Example messages",
        help_text="One customer message a line, in the customer's own words.",
    )

    def lines(self) -> list[str]:
        return [line for line in self.cleaned_data["texts"].splitlines() if line.strip()]


class TicketImportForm(forms.Form):
    file = forms.FileField(
        label="Labelled tickets (CSV)",
        help_text=(
            "UTF-8 CSV with the header text,label. A new label creates a category; the label "
            "out_of_scope marks messages that fit no category."
        ),
    )

    def clean_file(self) -> UploadedFile:
        upload: UploadedFile = self.cleaned_data["file"]
        if upload.size is not None and upload.size > IMPORT_MAX_BYTES:
            raise forms.ValidationError(
                f"The file is larger than {IMPORT_MAX_BYTES // 2**20} MB; split it."
            )
        return upload


class TryMessageForm(forms.Form):
    text = forms.CharField(max_length=1000, required=False, label="Customer message")
