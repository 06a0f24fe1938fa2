"""Article Markdown to safe HTML: Markdown first, then an allow-list sanitiser (nh3)."""

from __future__ import annotations

from urllib.parse import urlsplit

import markdown  # type: ignore[import-untyped]  # no stubs in the lint venv
import nh3
from django.conf import settings
from django.utils.safestring import SafeString, mark_safe

EXTENSIONS = ["extra", "sane_lists"]


def _own_origin(url: str) -> bool:
    """A relative URL, or one on the app's own origin (SITE_URL)."""
    try:
        parts = urlsplit(url.strip())
        site = urlsplit(settings.SITE_URL)
    except ValueError:
        return False
    if not parts.scheme and not parts.netloc:
        return True
    return (parts.scheme, parts.netloc) == (site.scheme, site.netloc)


def _attribute_filter(tag: str, attribute: str, value: str) -> str | None:
    # A remote image loads when the page opens: on a public help page that is a tracking
    # pixel. Images are kept only from the app's own origin; others lose their source (the
    # alt text stays).
    if tag == "img" and attribute in ("src", "srcset") and not _own_origin(value):
        return None
    return value


def render_markdown(text: str) -> SafeString:
    """Render article Markdown; raw HTML in it survives only if nh3 allows the tag.

    Scripts, event handlers, `javascript:` links, remote images and the like are removed, so
    the result may be inserted into a page as is.
    """
    html = markdown.markdown(text or "", extensions=EXTENSIONS, output_format="html")
    return mark_safe(  # noqa: S308
        nh3.clean(html, link_rel="noopener noreferrer nofollow", attribute_filter=_attribute_filter)
    )
