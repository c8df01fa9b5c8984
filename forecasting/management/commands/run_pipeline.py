import sys
import time
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from forecasting.models import ACTIVE_JOB_STATUSES, JobRun, JobStatus
from forecasting.services import pipeline_run_inline, pipeline_start
from inventory.models import Merchant


class Command(BaseCommand):
    help = (
        "Run the replenishment pipeline for one merchant: run_pipeline --merchant SLUG [--wait]. "
        "With a broker (REDIS_URL) the run is queued for the workers; without one it runs here."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--merchant", required=True, help="The merchant's slug")
        parser.add_argument("--wait", action="store_true", help="Wait for a queued run and show its progress")
        parser.add_argument("--timeout", type=int, default=3600, help="Seconds to wait with --wait")
        parser.add_argument(
            "--if-stale", action="store_true", help="Do nothing when a run of the merchant already succeeded today"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        merchant = Merchant.objects.filter(slug=options["merchant"]).first()
        if merchant is None:
            raise CommandError(f"No merchant {options['merchant']!r}.")
        if (
            options["if_stale"]
            and JobRun.objects.filter(
                merchant=merchant, parent__isnull=True, status=JobStatus.SUCCEEDED, run_date=timezone.localdate()
            ).exists()
        ):
            self.stdout.write(f"{merchant.slug} already has today's forecasts and suggestions.")
            return
        in_process = settings.CELERY_TASK_ALWAYS_EAGER
        try:
            job = pipeline_start(merchant=merchant, trigger="command", queue=not in_process)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stdout.write(f"Pipeline run {job.pk} for {merchant.slug} started.")
        if in_process:
            job = pipeline_run_inline(job_id=job.pk, progress=self._progress)
        elif options["wait"]:
            job = self._wait(job, options["timeout"])
        else:
            self.stdout.write("Queued for the workers; follow it on the Jobs page or with --wait.")
            return
        self._finish(job)

    def _progress(self, done: int, total: int) -> None:
        width = 30
        filled = int(width * done / total) if total else width
        self.stdout.write(
            f"\r  forecast and policy [{'#' * filled}{'.' * (width - filled)}] {done}/{total} chunks", ending=""
        )
        if done == total:
            self.stdout.write("")
        sys.stdout.flush()

    def _wait(self, job: JobRun, timeout: int) -> JobRun:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job.refresh_from_db()
            step = job.steps.filter(kind="forecast").first()
            if step is not None and step.total:
                self._progress(step.done, step.total)
            if job.status not in ACTIVE_JOB_STATUSES:
                return job
            time.sleep(1)
        raise CommandError(f"Run {job.pk} did not finish within {timeout} s; it goes on in the workers.")

    def _finish(self, job: JobRun) -> None:
        job.refresh_from_db()
        if job.status != JobStatus.SUCCEEDED:
            raise CommandError(f"Run {job.pk} {job.status}: {job.error}")
        suggestions = job.suggestions.count()
        self.stdout.write(
            f"Run {job.pk} succeeded in {job.duration_seconds or 0:.1f} s: {suggestions} suggested order lines."
        )
