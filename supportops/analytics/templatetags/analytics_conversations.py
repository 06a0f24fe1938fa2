"""How the conversations page shows a search snippet."""

from __future__ import annotations

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.filter
def search_marks(snippet: str) -> SafeString:
    """A snippet with its matches between «» (`search_snippets`), escaped, the matches in
    <mark>. The text is escaped before the marks go in, so nothing of it becomes markup."""
    text = escape(snippet or "")
    return mark_safe(text.replace("«", "<mark>").replace("»", "</mark>"))  # noqa: S308
