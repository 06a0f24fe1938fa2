from __future__ import annotations

import os

from celery import Celery
from celery.signals import worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "supportops.settings")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

app = Celery("supportops")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_process_init.connect
def _warm_models(**kwargs: object) -> None:
    """Load the models in each worker process before its first task, so the first customer
    of the day does not wait seconds for them (skip with SUPPORTOPS_WARM_MODELS=0)."""
    if os.environ.get("SUPPORTOPS_WARM_MODELS", "1") == "0":
        return
    from supportops.bot.turn import models_warm
    from supportops.text.person_request import default_classifier
    from supportops.text.redaction import ner_warm

    models_warm()
    default_classifier()  # the explicit-request classifier the turn asks first
    ner_warm()  # the name model redaction uses
