from __future__ import annotations

from django import forms

from .services import ACCENT_RE


class AppearanceForm(forms.Form):
    title = forms.CharField(
        label="Title", max_length=60, help_text="Shown at the top of the chat panel."
    )
    accent_color = forms.CharField(
        label="Accent colour",
        max_length=7,
        widget=forms.TextInput(attrs={"type": "color"}),
        help_text="The launcher button and your customers' messages.",
    )

    def clean_accent_color(self) -> str:
        value = self.cleaned_data["accent_color"].strip()
        if not ACCENT_RE.match(value):
            raise forms.ValidationError("Write the colour as #rrggbb, like #0f766e.")
        return value.lower()


class OriginForm(forms.Form):
    origin = forms.CharField(
        label="Add a website",
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": "https://shop.example", "inputmode": "url"}),
        help_text="Scheme and host only (and the port if it is not the usual one).",
    )
