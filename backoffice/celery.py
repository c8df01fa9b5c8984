"""The Celery application. Broker and behaviour come from Django settings (``CELERY_*``)."""

import os

from celery import Celery
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings")

app = Celery("stockpilot")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = (Queue("default"), Queue("nlp"), Queue("forecasting"))
app.conf.task_routes = {
    "nlp.tasks.*": {"queue": "nlp"},
    "forecasting.tasks.*": {"queue": "forecasting"},
}
app.autodiscover_tasks()
