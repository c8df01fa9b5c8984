"""The pipeline through real Celery worker processes on Redis and PostgreSQL, including a worker killed mid-run."""

import datetime
import os
import time

import pytest
from django.db.models import Count

from forecasting import services
from forecasting.models import JobRun, ProductForecast, ProductPolicy, ReplenishmentSuggestion
from tests.celery_support import Worker, broker
from tests.forecasting.pipeline_data import QUICK_METHODS, TODAY, small_merchant

pytestmark = [pytest.mark.worker, pytest.mark.slow]

WORKER_ENV = {
    "FORECAST_ENGINE_METHODS": ",".join(QUICK_METHODS),
    "PIPELINE_CHUNK_SIZE": "1",
    "CELERY_VISIBILITY_TIMEOUT": "5",
    "CELERY_UNACKED_RESTORE_SECONDS": "2",
}


def _wait(job: JobRun, until, timeout: float = 240, poll: float = 0.3, beat: bool = False) -> JobRun:
    """Poll ``job`` until ``until(job)``; with ``beat``, also do what beat does every ten minutes, every 5 s: queue
    again what a run has waited for without progress for 20 s (``pipeline_resume_stalled``)."""
    deadline = time.monotonic() + timeout
    next_beat = time.monotonic() + 5
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if until(job):
            return job
        if beat and time.monotonic() > next_beat:
            services.pipeline_resume_stalled(stalled_after=datetime.timedelta(seconds=20))
            next_beat = time.monotonic() + 5
        time.sleep(poll)
    raise AssertionError(
        f"run {job.pk} is still {job.status} after {timeout} s: {job.steps.values_list('kind', 'status', 'done')}"
    )


def _assert_published_once(job: JobRun, products: int) -> None:
    assert (job.status, job.error) == ("succeeded", "")
    assert job.steps.get(kind="forecast").done == products
    assert ProductForecast.objects.filter(run__job=job).count() == products
    assert ProductPolicy.objects.filter(job=job).count() == products
    per_product = ReplenishmentSuggestion.objects.filter(job=job).values("product").annotate(n=Count("id"))
    assert {row["n"] for row in per_product} == {1}
    assert sorted(ReplenishmentSuggestion.objects.filter(job=job).values_list("product__sku", flat=True)) == [
        "P03",
        "P04",
        "P05",
    ]


@pytest.fixture
def redis_broker(transactional_db):
    with broker(os.environ["TEST_REDIS_URL"]):
        yield os.environ["TEST_REDIS_URL"]


def test_pipeline_end_to_end_in_a_worker(redis_broker):
    merchant = small_merchant()
    worker = Worker(redis_broker, extra_env=WORKER_ENV).start()
    try:
        job = services.pipeline_start(merchant=merchant, run_date=TODAY)
        job = _wait(job, lambda j: j.status not in ("queued", "running"))
    finally:
        worker.stop()
    _assert_published_once(job, products=6)


def test_a_killed_worker_does_not_lose_or_repeat_work(redis_broker):
    merchant = small_merchant()
    first = Worker(redis_broker, name="first", extra_env=WORKER_ENV).start()
    second = None
    try:
        job = services.pipeline_start(merchant=merchant, run_date=TODAY)
        step = job.steps.get(kind="forecast")
        # Kill as soon as the first chunk is done (polled closely: a chunk takes a fraction of a second), so that
        # the worker dies mid-run with chunks taken but not acknowledged.
        _wait(step, lambda s: s.done >= 1, poll=0.02)
        first.kill()
        step.refresh_from_db()
        assert step.done < 6
        second = Worker(redis_broker, name="second", extra_env=WORKER_ENV).start()
        # The chunk the first worker had taken is handed back once the visibility timeout (5 s) has passed. If the
        # kill came between Redis handing it over and the worker recording it as taken (kombu cannot close that
        # window), it is lost, and beat's resume queues it again after 20 s without progress.
        job = _wait(job, lambda j: j.status not in ("queued", "running"), beat=True)
    finally:
        first.stop()
        if second is not None:
            second.stop()
    _assert_published_once(job, products=6)


def test_a_run_whose_message_redis_lost_is_queued_again_and_finishes(redis_broker):
    import redis

    merchant = small_merchant()
    job = services.pipeline_start(merchant=merchant, run_date=TODAY)
    client = redis.Redis.from_url(redis_broker)
    assert client.llen("forecasting") == 1
    client.delete("forecasting")  # as if Redis had restarted without its data before any worker took the run
    worker = Worker(redis_broker, extra_env=WORKER_ENV).start()
    try:
        job = _wait(job, lambda j: j.status not in ("queued", "running"), beat=True)
    finally:
        worker.stop()
    _assert_published_once(job, products=6)
