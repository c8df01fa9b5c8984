"""Celery tasks of the nlp app. ``nlp.tasks.*`` is routed to the ``nlp`` queue (backoffice/celery.py), so
model-heavy work runs on workers started with ``-Q nlp``; each worker process loads the model once."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from inventory.models import Merchant
from nlp.services import text_signals_score

SOFT_TIME_LIMIT = 600
TIME_LIMIT = 660


@shared_task(
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=5,
    soft_time_limit=SOFT_TIME_LIMIT,
    time_limit=TIME_LIMIT,
)
def text_signals_score_task(merchant_id: int, text_ids: list[int]) -> dict[str, object]:
    """Score one chunk of a merchant's texts. Idempotent: a text already scored by the model is skipped,
    so a redelivered or repeated chunk changes nothing more. A missing merchant or text is not an error."""
    merchant = Merchant.objects.filter(pk=merchant_id).first()
    if merchant is None:
        return {"scored": 0, "already_scored": 0, "statuses": {}, "merchant": "missing"}
    outcome = text_signals_score(merchant=merchant, text_ids=text_ids)
    return {
        "model": outcome.model_name,
        "scored": outcome.scored,
        "already_scored": outcome.already_scored,
        "statuses": outcome.statuses,
        "matched": outcome.matched,
        "unmatched": outcome.unmatched,
    }
