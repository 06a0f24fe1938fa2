from __future__ import annotations

from django import forms
from django.conf import settings

from .models import Article
from .selectors import GAP_DRAFTS
from .services import TITLE_MAX

STATUS_CHOICES = [
    ("", "Any status"),
    *Article.Status.choices,
    (GAP_DRAFTS, "Knowledge gaps to review"),
]


class ArticleFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=200, label="Search")
    category = forms.CharField(required=False)
    status = forms.ChoiceField(required=False, choices=STATUS_CHOICES)
    import_job = forms.IntegerField(required=False, min_value=1)


class ArticleForm(forms.Form):
    """The editor. Only shape checks here; the services decide what is a valid article."""

    title = forms.CharField(max_length=TITLE_MAX)
    category = forms.CharField(
        max_length=80,
        required=False,
        help_text="Pick an existing category or type a new one.",
    )
    body = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 18, "spellcheck": "true"}),
        help_text="Markdown: # headings, **bold**, lists, [links](https://example.com).",
    )


class TryQuestionForm(forms.Form):
    question = forms.CharField(required=False, max_length=1000, label="Customer question")
    category = forms.CharField(required=False)


class ImportForm(forms.Form):
    file = forms.FileField(
        help_text=".jsonl, .csv (question,answer), .md, or a .zip of .md files",
    )
    category = forms.CharField(
        max_length=80,
        required=False,
        label="Category for articles without one",
        help_text="Used for rows or files that name no category (a CSV without a category "
        "column, for instance). Pick an existing category or type a new one.",
    )
    publish = forms.BooleanField(required=False, initial=True, label="Publish imported articles")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > settings.KB_IMPORT_MAX_BYTES:
            raise forms.ValidationError(
                f"The file is larger than {settings.KB_IMPORT_MAX_BYTES // (1024 * 1024)} MB."
            )
        return upload


class VersionCompareForm(forms.Form):
    """Two version numbers to compare, in either order."""

    old = forms.IntegerField(min_value=1)
    new = forms.IntegerField(min_value=1)
