"""A static-files finder for plotly's JavaScript bundle, taken from the installed plotly
package so the browser runs the plotly.js version the server-side figures were made for
(no CDN, no copy to keep in step)."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.contrib.staticfiles.finders import BaseFinder
from django.core.files.storage import FileSystemStorage

PLOTLY_JS = "vendor/plotly/plotly.min.js"


def _bundle_dir() -> Path:
    spec = importlib.util.find_spec("plotly")
    if spec is None or spec.origin is None:
        raise RuntimeError("the plotly package is not installed")
    return Path(spec.origin).parent / "package_data"


def plotly_js_path() -> Path:
    return _bundle_dir() / "plotly.min.js"


class PlotlyFinder(BaseFinder):
    """Finds exactly one file: `vendor/plotly/plotly.min.js`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.storage = FileSystemStorage(location=str(_bundle_dir()))
        self.storage.prefix = "vendor/plotly"  # type: ignore[attr-defined]

    def check(self, **kwargs: Any) -> list[Any]:
        return []

    def find(  # type: ignore[override]  # the stubs' overloads; Django passes both forms
        self, path: str, find_all: bool = False, **kwargs: Any
    ) -> str | list[str]:
        if path != PLOTLY_JS:
            return []
        found = str(plotly_js_path())
        return [found] if find_all else found

    def list(self, ignore_patterns: Any) -> Iterator[tuple[str, FileSystemStorage]]:
        yield "plotly.min.js", self.storage
