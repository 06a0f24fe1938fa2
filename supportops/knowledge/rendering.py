"""Article Markdown to safe HTML: Markdown first, then an allow-list sanitiser (nh3)."""

from __future__ import annotations

import markdown  # type: ignore[import-untyped]  # no stubs in the lint venv
import nh3
from django.utils.safestring import SafeString, mark_safe

EXTENSIONS = ["extra", "sane_lists"]


def render_markdown(text: str) -> SafeString:
    """Render article Markdown; raw HTML in it survives only if nh3 allows the tag.

    Scripts, event handlers, `javascript:` links and the like are removed, so the
    result may be inserted into a page as is.
    """
    html = markdown.markdown(text or "", extensions=EXTENSIONS, output_format="html")
    return mark_safe(nh3.clean(html, link_rel="noopener noreferrer nofollow"))  # noqa: S308
