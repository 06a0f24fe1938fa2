from __future__ import annotations

from django import forms

from .models import Role
from .selectors import AUDIT_GROUPS


class InviteForm(forms.Form):
    email = forms.EmailField(label="Email address", max_length=254)
    role = forms.ChoiceField(label="Role", choices=Role.choices, initial=Role.AGENT)


class RoleForm(forms.Form):
    role = forms.ChoiceField(label="Role", choices=Role.choices)


class AuditFilterForm(forms.Form):
    group = forms.ChoiceField(
        label="Kind",
        required=False,
        choices=[("", "Everything"), *((name, name) for name in AUDIT_GROUPS)],
    )
    actor = forms.CharField(label="Who", required=False, max_length=120)
    since = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label="To (inclusive)", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
