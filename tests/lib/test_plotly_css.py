"""plotly.js's style sheet (static/css/plotly.css) matches the installed plotly.js."""

from __future__ import annotations

from django.conf import settings

from supportops.lib.plotly_css import plotly_css
from supportops.lib.staticfinders import plotly_js_path


def test_the_committed_plotly_css_matches_the_installed_bundle():
    expected = plotly_css(plotly_js_path().read_text(encoding="utf-8"))
    committed = (settings.BASE_DIR / "static" / "css" / "plotly.css").read_text(encoding="utf-8")
    assert committed == expected, "run: python -m supportops.lib.plotly_css > static/css/plotly.css"
    assert ".js-plotly-plot .plotly .main-svg{" in committed
