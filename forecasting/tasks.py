"""Pipeline tasks: a run fans out over product chunks (a Celery group) on the ``forecasting`` queue.

Each task takes ids, calls one service and is safe to run twice: chunks replace what an
earlier attempt wrote and count once, and publishing happens once per run. Only errors that
can pass on retry (broker, database connection or lock) are retried, with backoff; any other
error fails the run with its message and leaves the last published results in place.
"""

from __future__ import annotations

import logging

from celery import group, shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.db import OperationalError
from kombu.exceptions import OperationalError as BrokerError

from forecasting import services

logger = logging.getLogger(__name__)

RETRYABLE = (OperationalError, BrokerError, ConnectionError, TimeoutError)
TASK_OPTIONS = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": RETRYABLE,
    "retry_backoff": 5,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 5,
}


@shared_task(**TASK_OPTIONS, soft_time_limit=600, time_limit=660)
def pipeline_run_task(job_id: int) -> None:
    """Prepare a queued run and fan its chunks out to the forecasting workers."""
    try:
        prepared = services.pipeline_prepare(job_id=job_id)
    except services.PipelineCancelled:
        return
    except RETRYABLE:
        raise
    except Exception as error:
        services.pipeline_fail(job_id=job_id, error=f"Preparing the run failed: {type(error).__name__}: {error}")
        raise
    if not prepared.chunks:
        pipeline_publish_task.delay(job_id)
        return
    group(
        pipeline_chunk_task.s(job_id, index, product_ids) for index, product_ids in enumerate(prepared.chunks)
    ).apply_async()


@shared_task(**TASK_OPTIONS, soft_time_limit=1800, time_limit=1900)
def pipeline_chunk_task(job_id: int, index: int, product_ids: list[int]) -> None:
    """Forecast and plan one chunk; the chunk that completes the run queues its publication."""
    try:
        all_done = services.pipeline_chunk_execute(job_id=job_id, index=index, product_ids=product_ids)
    except services.PipelineCancelled:
        return
    except RETRYABLE:
        raise
    except SoftTimeLimitExceeded:
        services.pipeline_fail(job_id=job_id, error=f"Chunk {index} ran out of time ({len(product_ids)} products).")
        raise
    except Exception as error:
        services.pipeline_fail(job_id=job_id, error=f"Chunk {index} failed: {type(error).__name__}: {error}")
        raise
    if all_done:
        pipeline_publish_task.delay(job_id)


@shared_task(**TASK_OPTIONS, soft_time_limit=600, time_limit=660)
def pipeline_publish_task(job_id: int) -> None:
    """Publish a run whose chunks are all done (once: later calls find it already published)."""
    try:
        services.pipeline_publish(job_id=job_id)
    except RETRYABLE:
        raise
    except Exception as error:
        services.pipeline_fail(job_id=job_id, error=f"Publishing failed: {type(error).__name__}: {error}")
        raise


@shared_task(acks_late=True, soft_time_limit=120, time_limit=180)
def pipeline_nightly_task() -> list[int]:
    """Run by beat every hour: start today's run for each active merchant whose pipeline hour has come."""
    return [job.pk for job in services.pipeline_start_due()]


@shared_task(acks_late=True, soft_time_limit=120, time_limit=180)
def pipeline_resume_stalled_task() -> list[int]:
    """Run by beat every ten minutes: queue again what runs without progress for too long are waiting for."""
    return [job.pk for job in services.pipeline_resume_stalled()]
