"""Headless Chromium as this project runs it: Debian's package, no downloaded browser.

Without the background-networking flags Chromium keeps trying to reach Google's services,
which a closed network refuses many times a second.
"""

from __future__ import annotations

from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
