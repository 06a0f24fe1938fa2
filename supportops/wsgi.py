from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "supportops.settings")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
application = get_wsgi_application()

# Customer messages are redacted as they are stored; load the name model before the first one
# arrives rather than during it (skip with SUPPORTOPS_WARM_MODELS=0).
if os.environ.get("SUPPORTOPS_WARM_MODELS", "1") != "0":
    from supportops.text.redaction import ner_warm

    ner_warm()
