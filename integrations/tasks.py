"""Celery tasks of the integrations app: webhook deliveries."""

import logging
import os
import random

from celery import Task, shared_task
from django.core.exceptions import ImproperlyConfigured

from integrations.services import WEBHOOK_MAX_ATTEMPTS, webhook_delivery_attempt, webhook_retry_delay

logger = logging.getLogger(__name__)


def _retry_base_seconds() -> float:
    raw = os.environ.get("WEBHOOK_RETRY_BASE_SECONDS", "10")
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"WEBHOOK_RETRY_BASE_SECONDS={raw!r} is not a number.") from None
    if value < 0:
        raise ImproperlyConfigured("WEBHOOK_RETRY_BASE_SECONDS must not be negative.")
    return value


@shared_task(bind=True, acks_late=True, soft_time_limit=30, time_limit=60, max_retries=WEBHOOK_MAX_ATTEMPTS - 1)
def webhook_delivery_send_task(self: Task, delivery_id: int) -> str:
    """Send one webhook delivery; retried with exponential backoff while the failure can pass.

    Idempotent: a delivery that already succeeded or failed for good is not sent again. Without a
    broker (tasks run in-process) a failed attempt is not retried: the delivery stays pending.
    """
    outcome = webhook_delivery_attempt(delivery_id=delivery_id)
    if outcome.attempt is None:
        return "skipped"
    if outcome.delivered:
        return "delivered"
    if not outcome.retryable:
        return "failed"
    if self.request.is_eager:
        return "pending"
    delay = webhook_retry_delay(attempt=outcome.attempt.number, base_seconds=_retry_base_seconds())
    logger.info(
        "Webhook delivery %s failed (attempt %s); retrying in %.0f s", delivery_id, outcome.attempt.number, delay
    )
    raise self.retry(countdown=delay * random.uniform(0.8, 1.2))
