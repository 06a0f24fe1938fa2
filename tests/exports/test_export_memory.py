"""The export's memory: a web process or worker that has not classified anything holds none of
the model libraries (torch, scikit-learn, scipy, statsmodels: ~300 MB together), so an
export runs in a ~120 MB process (the rows stream from a server-side cursor: test_exports)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from django.conf import settings

PROBE = """
import json, os, sys
import django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "supportops.settings")
django.setup()
import supportops.urls
from supportops.celery import app
app.loader.import_default_modules()
import supportops.exports.services
heavy = ("torch", "sklearn", "scipy", "statsmodels", "pandas", "sentence_transformers")
print(json.dumps(sorted(name for name in heavy if name in sys.modules)))
"""


def test_loading_the_web_and_worker_modules_imports_no_model_library():
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        env={**os.environ, "DEBUG": "true", "HF_HUB_OFFLINE": "1"},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
