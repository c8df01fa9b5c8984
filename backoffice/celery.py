"""The Celery application. Broker and behaviour come from Django settings (``CELERY_*``)."""

import os

from celery import Celery
from celery.schedules import crontab
from kombu import Exchange, Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings")

app = Celery("stockpilot")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Each queue has its own exchange and routing key: a task routed to one queue lands in that queue only.
app.conf.task_queues = tuple(
    Queue(name, Exchange(name), routing_key=name) for name in ("default", "nlp", "forecasting")
)
app.conf.task_default_exchange = "default"
app.conf.task_default_routing_key = "default"
app.conf.task_routes = {
    "nlp.tasks.*": {"queue": "nlp"},
    "forecasting.tasks.*": {"queue": "forecasting"},
}
app.conf.beat_schedule = {
    # Each merchant's nightly run starts at its own hour; this only checks, every hour, whose hour has come.
    "pipeline-nightly": {"task": "forecasting.tasks.pipeline_nightly_task", "schedule": crontab(minute=5)},
    # A run whose task message was lost (services.pipeline_resume_stalled) gets it queued again.
    "pipeline-resume-stalled": {
        "task": "forecasting.tasks.pipeline_resume_stalled_task",
        "schedule": crontab(minute="*/10"),
    },
}
app.autodiscover_tasks()
