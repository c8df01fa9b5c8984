"""The Celery application. Broker and behaviour come from Django settings (``CELERY_*``)."""

import os

from celery import Celery
from celery.schedules import crontab
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings")

app = Celery("stockpilot")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = (Queue("default"), Queue("nlp"), Queue("forecasting"))
app.conf.task_routes = {
    "nlp.tasks.*": {"queue": "nlp"},
    "forecasting.tasks.*": {"queue": "forecasting"},
}
app.conf.beat_schedule = {
    # Each merchant's nightly run starts at its own hour; this only checks, every hour, whose hour has come.
    "pipeline-nightly": {"task": "forecasting.tasks.pipeline_nightly_task", "schedule": crontab(minute=5)},
}
app.autodiscover_tasks()
