"""Pipeline runs (demand → forecasts → policies → suggestions → draft purchase orders) and suggestion decisions.

A run fans out over chunks of products. Each chunk writes its forecasts and policies into
the run, replacing whatever an earlier attempt of the same chunk wrote, and records itself
once in ``ChunkResult``; the chunk that completes the set queues the publish step. Publishing
happens in one transaction: open suggestions of the previous run are superseded (their
draft purchase orders cancelled), the new ones are created and grouped by supplier into
draft purchase orders, and the run's forecasts become the ones the merchant sees.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import partial

import numpy as np
import pandas as pd
from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from forecasting.coldstart import ColdStartConfig, coldstart_forecast_frame
from forecasting.engine import EngineConfig, forecast, quantile_column
from forecasting.engine.errors import InputError
from forecasting.models import (
    ACTIVE_JOB_STATUSES,
    ChunkResult,
    ForecastOverride,
    ForecastRun,
    JobRun,
    JobStatus,
    PolicySettings,
    ProductForecast,
    ProductPolicy,
    ProductPolicySettings,
    ReplenishmentSuggestion,
    SuggestionStatus,
    SupplierBudget,
)
from forecasting.policy.budget import apply_budget
from forecasting.policy.demand import POLICY_QUANTILES
from forecasting.policy.plan import PlanOptions, plan, validate_items
from forecasting.selectors import (
    history_window,
    planning_items_for_merchant,
    planning_scope_for_merchant,
    policy_settings_for_merchant,
)
from inventory import services as inventory_services
from inventory.models import Merchant, Product, PurchaseOrder, PurchaseOrderStatus, Supplier
from inventory.selectors import demand_frame_for_merchant, product_ids_ever_sold
from inventory.services import Actor, actor_or_none

logger = logging.getLogger(__name__)

PIPELINE_STEPS = ("signals", "forecast", "publish")
# Products first sold fewer weeks ago than this get a cold-start forecast blended with their own sales.
COLDSTART_MIN_HISTORY_WEEKS = ColdStartConfig().min_history_weeks
# The policy turns these into demand paths: more quantiles give it the tails (see forecasting.policy.demand).
FORECAST_QUANTILES = POLICY_QUANTILES


def engine_config_from_settings() -> EngineConfig:
    return EngineConfig(methods=tuple(django_settings.FORECAST_ENGINE_METHODS))


class PipelineAlreadyRunning(ValidationError):
    """A merchant has a pipeline run queued or running; a second one is refused."""

    conflict_code = "pipeline_already_running"


class PipelineCancelled(Exception):
    pass


def _step(job: JobRun, kind: str) -> JobRun:
    return job.steps.get(kind=kind)


def _set_status(job: JobRun, status: str, *, error: str = "") -> None:
    now = timezone.now()
    fields: dict[str, object] = {"status": status}
    if status == JobStatus.RUNNING and job.started_at is None:
        fields["started_at"] = now
    if status in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED):
        fields["finished_at"] = now
    if error:
        fields["error"] = error[:5000]
    JobRun.objects.filter(pk=job.pk).update(**fields)
    for field, value in fields.items():
        setattr(job, field, value)


# Starting, cancelling, failing


def pipeline_start(
    *,
    merchant: Merchant,
    trigger: str = "manual",
    user: Actor = None,
    run_date: datetime.date | None = None,
    queue: bool = True,
) -> JobRun:
    """Create a pipeline run for ``merchant`` and queue it after commit (``queue=False``: the caller runs it).

    Refused with ``PipelineAlreadyRunning`` while another run of the merchant is queued or running.
    """
    from forecasting.tasks import pipeline_run_task

    run_date = run_date or timezone.localdate()
    try:
        with transaction.atomic():
            active = JobRun.objects.filter(merchant=merchant, parent__isnull=True, status__in=ACTIVE_JOB_STATUSES)
            if active.exists():
                raise PipelineAlreadyRunning(
                    {
                        "pipeline": f"A pipeline run for {merchant.slug} is already {active.get().status}; "
                        "wait for it to finish or cancel it."
                    }
                )
            job = JobRun.objects.create(
                merchant=merchant, kind="pipeline", trigger=trigger, run_date=run_date, requested_by=actor_or_none(user)
            )
            JobRun.objects.bulk_create(
                [JobRun(merchant=merchant, parent=job, kind=kind, run_date=run_date) for kind in PIPELINE_STEPS]
            )
            if queue:
                transaction.on_commit(lambda: pipeline_run_task.delay(job.pk))
    except IntegrityError:
        raise PipelineAlreadyRunning(
            {"pipeline": f"A pipeline run for {merchant.slug} is already running; wait for it or cancel it."}
        ) from None
    return job


def pipeline_start_due(*, now: datetime.datetime | None = None) -> list[JobRun]:
    """Start today's nightly run for every active merchant whose pipeline hour (UTC) has passed.

    A merchant with a run already started today, or one still active, is skipped, so beat
    may call this as often as it likes.
    """
    now = now or timezone.now()
    today = now.astimezone(datetime.UTC).date()
    started = []
    merchants = Merchant.objects.filter(is_active=True).select_related("policy_settings").order_by("pk")
    for merchant in merchants:
        settings = getattr(merchant, "policy_settings", None)
        hour = (
            settings.pipeline_hour if settings is not None else PolicySettings._meta.get_field("pipeline_hour").default
        )
        if now.astimezone(datetime.UTC).hour < hour:
            continue
        if JobRun.objects.filter(merchant=merchant, parent__isnull=True, run_date=today, trigger="nightly").exists():
            continue
        try:
            started.append(pipeline_start(merchant=merchant, trigger="nightly", run_date=today))
        except PipelineAlreadyRunning:
            continue
    return started


def pipeline_cancel(*, job: JobRun, user: Actor = None) -> JobRun:
    """Cancel a queued or running run: its chunks stop at their next check and nothing is published."""
    with transaction.atomic():
        job = JobRun.objects.select_for_update().get(pk=job.pk)
        if job.status not in ACTIVE_JOB_STATUSES:
            raise ValidationError({"status": f"Run {job.pk} is {job.status}; only queued or running runs stop."})
        _set_status(job, JobStatus.CANCELLED, error="Cancelled by a user.")
        for step in job.steps.filter(status__in=ACTIVE_JOB_STATUSES):
            _set_status(step, JobStatus.CANCELLED)
    return job


def pipeline_fail(*, job_id: int, error: str) -> None:
    """Fail a run with a readable error; the previously published results stay in place."""
    with transaction.atomic():
        job = JobRun.objects.select_for_update().get(pk=job_id)
        if job.status not in ACTIVE_JOB_STATUSES:
            return
        _set_status(job, JobStatus.FAILED, error=error)
        for step in job.steps.filter(status__in=ACTIVE_JOB_STATUSES):
            _set_status(step, JobStatus.FAILED, error=error if step.status == JobStatus.RUNNING else "")
    logger.error("Pipeline run %s failed: %s", job_id, error)


def _require_running(job_id: int) -> JobRun:
    job = JobRun.objects.select_related("merchant").get(pk=job_id)
    if job.status == JobStatus.QUEUED:
        return job
    if job.status != JobStatus.RUNNING:
        raise PipelineCancelled(f"Run {job_id} is {job.status}.")
    return job


def pipeline_stall_limit() -> datetime.timedelta:
    """How long a run may show no progress before ``pipeline_resume_stalled`` queues again what it waits for: the
    longest a task may run, then the broker's visibility timeout and two of its sweeps, by when a task taken by a
    worker that died has been handed to another."""
    options = django_settings.CELERY_BROKER_TRANSPORT_OPTIONS
    seconds = django_settings.CELERY_TASK_TIME_LIMIT + options["visibility_timeout"]
    return datetime.timedelta(seconds=seconds + 2 * options["unacked_restore_interval"])


def pipeline_resume_stalled(
    *, stalled_after: datetime.timedelta | None = None, now: datetime.datetime | None = None
) -> list[JobRun]:
    """Queue again, after commit, what each active run has waited for without progress for ``stalled_after``
    (default ``pipeline_stall_limit``): its first task while it is still queued or not yet split into chunks, the
    chunks not done yet, or its publication once every chunk is done. Returns the runs resumed.

    A task's message can be lost where no retry sees it: Redis restarted without its data, or a worker killed between
    taking a message and recording it as taken. Without this, such a run would stay active and every later run of the
    merchant would be refused. Every task is safe to run twice, so a task that was only slow is repeated, never counted
    twice. Each resume is recorded in the run's ``facts["resumed"]`` (ISO times), which the jobs page shows."""
    from forecasting.tasks import pipeline_chunk_task, pipeline_publish_task, pipeline_run_task

    moment = now or timezone.now()
    cutoff = moment - (stalled_after if stalled_after is not None else pipeline_stall_limit())
    resumed = []
    active = JobRun.objects.filter(parent__isnull=True, kind="pipeline", status__in=ACTIVE_JOB_STATUSES)
    for job in active.order_by("pk"):
        with transaction.atomic():
            job = JobRun.objects.select_for_update().get(pk=job.pk)
            if job.status not in ACTIVE_JOB_STATUSES or _last_progress(job) > cutoff:
                continue
            run = ForecastRun.objects.filter(job=job).first()
            forecast_step = _step(job, "forecast")
            if run is None or forecast_step.status != JobStatus.RUNNING or len(run.chunks) != forecast_step.total:
                # not yet split into chunks (or split before runs kept their chunks): prepare again, same chunks
                transaction.on_commit(partial(pipeline_run_task.delay, job.pk))
            else:
                done = set(forecast_step.chunks.values_list("index", flat=True))
                missing = [index for index in range(len(run.chunks)) if index not in done]
                for index in missing:
                    transaction.on_commit(partial(pipeline_chunk_task.delay, job.pk, index, run.chunks[index]))
                if not missing:
                    transaction.on_commit(partial(pipeline_publish_task.delay, job.pk))
            # Shown on the jobs page, and counted as progress: the run is given the stall limit again before the next
            # resume, instead of having its tasks queued again on every sweep while they wait behind other work.
            job.facts = {**job.facts, "resumed": [*job.facts.get("resumed", []), moment.isoformat()]}
            job.save(update_fields=["facts"])
            resumed.append(job)
    if resumed:
        logger.warning("Resumed stalled pipeline runs %s", [job.pk for job in resumed])
    return resumed


def _last_progress(job: JobRun) -> datetime.datetime:
    """When the run or one of its steps or chunks last started or finished, or the run was last resumed."""
    moments = [job.created_at, job.started_at, *map(datetime.datetime.fromisoformat, job.facts.get("resumed", []))]
    for step in job.steps.all():
        moments += [step.started_at, step.finished_at]
    moments.append(ChunkResult.objects.filter(job__parent=job).aggregate(last=Max("finished_at"))["last"])
    return max(moment for moment in moments if moment is not None)


# Preparing and chunks


@dataclass(frozen=True)
class PipelinePlan:
    job_id: int
    chunks: list[list[int]]


def pipeline_prepare(*, job_id: int, chunk_size: int | None = None) -> PipelinePlan:
    """Mark the run running, run its signals step, create its forecast run and split its products into chunks.

    Products that have sold for ``COLDSTART_MIN_HISTORY_WEEKS`` or more are forecast by the engine from their
    sales in the history window; active products that never sold, or were first sold since, get a cold-start
    forecast from their most similar products, blended with their own sales. Repeating it for a run already
    prepared returns the same chunks.
    """
    job = _require_running(job_id)
    merchant = job.merchant
    settings = policy_settings_for_merchant(merchant=merchant)
    with transaction.atomic():
        job = JobRun.objects.select_for_update().get(pk=job.pk)
        _set_status(job, JobStatus.RUNNING)
    _, end = history_window(today=job.run_date or timezone.localdate())
    text_signals = _signals_step(job=job, until=end)
    scope = planning_scope_for_merchant(merchant=merchant, settings=settings)
    product_ids = scope.product_ids
    # New products have never sold, or were first sold less than COLDSTART_MIN_HISTORY_WEEKS ago: their forecast
    # comes from similar products, blended with their own sales so far. A product whose sales all fall before
    # the window has no history there and is left out by its chunk (its similar products say nothing about a
    # product that stopped selling).
    with_history = product_ids_ever_sold(merchant=merchant)
    launched_since = end - datetime.timedelta(weeks=COLDSTART_MIN_HISTORY_WEEKS) + datetime.timedelta(days=1)
    established = product_ids_ever_sold(merchant=merchant, before=launched_since)
    new_ids = [pk for pk in product_ids if pk not in established]
    coldstart = _coldstart_rates(merchant=merchant, product_ids=new_ids, as_of=end) if new_ids else {}
    product_ids = [pk for pk in product_ids if pk in with_history or str(pk) in coldstart]
    size = chunk_size or django_settings.PIPELINE_CHUNK_SIZE
    chunks = [product_ids[i : i + size] for i in range(0, len(product_ids), size)]
    horizon = scope.horizon
    with transaction.atomic():
        job = JobRun.objects.select_for_update().get(pk=job.pk)
        if job.status != JobStatus.RUNNING:
            raise PipelineCancelled(f"Run {job_id} is {job.status}.")
        ForecastRun.objects.update_or_create(
            job=job,
            defaults={
                "merchant": merchant,
                "freq": settings.planning_freq,
                "horizon": horizon,
                "quantiles": list(FORECAST_QUANTILES),
                "history_end": end,
                "text_signals": text_signals,
                "coldstart": coldstart,
                "products": len(product_ids),
                "chunks": chunks,
            },
        )
        step = _step(job, "forecast")
        sold = len(product_ids) - len(coldstart)  # every planned product sold or has a cold start, not both
        detail = f"{sold:,} product{'s' if sold != 1 else ''} forecast from their sales"
        detail += f", {len(coldstart):,} new from similar products." if coldstart else "."
        facts = {"from_sales": sold, "new": len(coldstart)}
        JobRun.objects.filter(pk=step.pk).update(total=len(chunks), detail=detail, facts=facts)
        _set_status(step, JobStatus.RUNNING)
    return PipelinePlan(job_id=job.pk, chunks=chunks)


def _signals_step(*, job: JobRun, until: datetime.date) -> dict[str, list[object]]:
    """Score the merchant's texts that the configured language model has not scored yet, represent the product
    descriptions it has not represented yet (``product_representations_refresh``), then train the text-signal
    head on the sales so far: the learned signal of every scored text, as columns for the run.

    A model that cannot be loaded is no failure: the step says so and the forecasts rest on sales alone.
    """
    from nlp.representation_services import product_representations_refresh
    from nlp.selectors import text_signal_table_for_merchant
    from nlp.services import text_signals_score_pending
    from nlp.signals.loading import ModelUnavailableError

    step = _step(job, "signals")
    _set_status(step, JobStatus.RUNNING)
    notes = []

    def progress(done: int, total: int) -> None:
        JobRun.objects.filter(pk=step.pk).update(done=done, total=total)

    facts: dict[str, object] = {"model": django_settings.NLP_MODEL}
    try:
        scored = text_signals_score_pending(merchant=job.merchant, on_chunk=progress)
        facts["texts_scored"] = scored
        if scored:
            notes.append(f"{scored:,} new texts scored by {django_settings.NLP_MODEL}.")
    except ModelUnavailableError as error:
        facts["model_error"] = str(error)
        notes.append(f"New texts were not scored: {error}")
    if django_settings.NLP_MODEL and "model_error" not in facts:
        # product descriptions new or edited since the last run: their vectors feed cold starts and alternatives
        try:
            represented = product_representations_refresh(merchant=job.merchant)
            facts["products_represented"] = represented.computed
            if represented.computed:
                plural = "descriptions" if represented.computed != 1 else "description"
                notes.append(f"{represented.computed:,} product {plural} represented by the model.")
        except ModelUnavailableError as error:
            facts["representation_error"] = str(error)
            notes.append(f"Product descriptions were not represented: {error}")
    table = text_signal_table_for_merchant(merchant=job.merchant, until=until)
    if table is None or table.empty:
        facts["texts_used"] = 0
        notes.append("No scored texts about products with sales: forecasts rest on sales alone.")
        columns: dict[str, list[object]] = {}
    else:
        facts["texts_used"] = len(table)
        notes.append(f"The demand signal of {len(table):,} texts joins the forecasts.")
        table = table.assign(date=table["date"].dt.strftime("%Y-%m-%d"))
        columns = {column: table[column].tolist() for column in table.columns}
    JobRun.objects.filter(pk=step.pk).update(detail=" ".join(notes)[:5000], facts=facts)
    _set_status(step, JobStatus.SUCCEEDED)
    return columns


def _coldstart_rates(*, merchant: Merchant, product_ids: list[int], as_of: datetime.date) -> dict[str, object]:
    """Per new product id (as text): its cold-start rate in units per week and the similar products behind it."""
    from nlp.representation_selectors import coldstart_estimates_for_merchant

    estimates = coldstart_estimates_for_merchant(merchant=merchant, as_of=as_of, product_ids=product_ids)
    return {
        str(found.product_id): {
            "weekly_units": round(found.estimate.weekly_units, 6),
            "similar": [[sku, round(float(score), 4)] for _, sku, score in found.similar_products],
        }
        for found in estimates
    }


def _history_frame(*, merchant: Merchant, product_ids: list[int], freq: str, end: datetime.date) -> pd.DataFrame:
    start = end - datetime.timedelta(days=729)
    daily = demand_frame_for_merchant(merchant=merchant, since=start, until=end, product_ids=product_ids)
    if freq != "D":
        # whole weeks only, labelled by their first day; the week still running is left out
        daily = (
            daily.set_index("date")
            .groupby("item_id")["quantity"]
            .resample(freq, label="left", closed="left")
            .sum()
            .reset_index()
        )
        last_start = pd.Timestamp(end) - pd.Timedelta(days=6)
        daily = daily[daily["date"] <= last_start]
        end_period = daily["date"].max()
    else:
        end_period = pd.Timestamp(end)
    # every series ends on the same period, so every forecast starts on the same date
    tails = pd.DataFrame({"item_id": sorted(set(daily["item_id"])), "date": end_period, "quantity": 0.0})
    frame = pd.concat([daily, tails], ignore_index=True)
    return frame.groupby(["item_id", "date"], as_index=False)["quantity"].sum()


def pipeline_chunk_execute(
    *, job_id: int, index: int, product_ids: list[int], engine_config: EngineConfig | None = None
) -> bool:
    """Forecast and plan one chunk of products into the run; returns whether every chunk is now done.

    Running the same chunk again replaces what it wrote, so a chunk retried after a lost
    worker counts once.
    """
    started = time.monotonic()
    job = _require_running(job_id)
    merchant = job.merchant
    run = ForecastRun.objects.get(job=job)
    settings = policy_settings_for_merchant(merchant=merchant)
    items = planning_items_for_merchant(merchant=merchant, product_ids=product_ids, settings=settings)
    forecasts_rows: list[ProductForecast] = []
    policy_rows: list[ProductPolicy] = []
    metrics: dict[str, float] = {}
    sold: set[str] = set()
    new = items.iloc[:0]
    if not items.empty:
        assert run.history_end is not None  # set when the run is prepared
        history = _history_frame(
            merchant=merchant, product_ids=[int(pk) for pk in items["product_id"]], freq=run.freq, end=run.history_end
        )
        new = items[items["product_id"].astype(str).isin(run.coldstart)]
        launched = set(new["item_id"])
        # recently launched products are forecast from similar products blended with their own sales, not here
        own = history[~history["item_id"].isin(launched)]
        sold = set(own["item_id"])
        items = items[items["item_id"].isin(sold) | items["item_id"].isin(launched)]
    if not items.empty:
        frames, methods = [], []
        correlation = None
        if sold:
            result = forecast(
                own,
                horizon=run.horizon,
                freq=run.freq,
                quantiles=tuple(run.quantiles),
                text_features=_chunk_text_features(run, own),
                config=dataclasses.replace(engine_config or engine_config_from_settings(), job_items=run.products),
            )
            metrics = backtest_summary(result.backtest.metrics)
            correlation = result.error_correlation
            frames.append(result.forecasts)
            methods.append(result.methods)
        if not new.empty:
            cold = _coldstart_forecasts(run, new, start=_first_forecast_date(history, run))
            frames.append(cold)
            methods.append(pd.DataFrame({"item_id": new["item_id"], "method": "cold start", "segment": "new"}))
            # a product with no sales yet: zero demand on the last period keeps it in the plan's history
            unsold = new[~new["item_id"].isin(set(history["item_id"]))]
            zero = pd.DataFrame({"item_id": unsold["item_id"], "date": _last_period(history, run), "quantity": 0.0})
            history = zero if history.empty else pd.concat([history, zero], ignore_index=True)
        forecasts_frame = pd.concat(frames, ignore_index=True)
        methods_frame = pd.concat(methods, ignore_index=True)
        item_frame = validate_items(
            items.drop(columns=["product_id", "supplier_id", "service_floor_override", "own_costs"]).astype(str)
        )
        plan_frame = plan(
            history,
            item_frame,
            freq=run.freq,
            forecasts=forecasts_frame,
            correlation=correlation,
            options=PlanOptions(
                horizon=run.horizon,
                service_floors=_floors(settings),
                item_service_floors=_item_floors(items),
                class_cost_factors=settings.class_cost_factors or {},
                item_own_costs=dict(zip(items["item_id"], items["own_costs"], strict=True)),
                paths=_plan_paths(run),
            ),
        )
        by_sku = items.set_index("item_id")
        forecasts_rows = _forecast_rows(run, forecasts_frame, methods_frame, by_sku)
        policy_rows = _policy_rows(job, plan_frame, by_sku)
    with transaction.atomic():
        job = JobRun.objects.select_for_update().get(pk=job.pk)
        if job.status != JobStatus.RUNNING:
            raise PipelineCancelled(f"Run {job_id} is {job.status}.")
        ProductForecast.objects.filter(run=run, product_id__in=product_ids).delete()
        ProductPolicy.objects.filter(job=job, product_id__in=product_ids).delete()
        ProductForecast.objects.bulk_create(forecasts_rows)
        ProductPolicy.objects.bulk_create(policy_rows)
        step = _step(job, "forecast")
        ChunkResult.objects.get_or_create(
            job=step,
            index=index,
            defaults={"products": len(product_ids), "seconds": time.monotonic() - started, "metrics": metrics},
        )
        done = step.chunks.count()
        JobRun.objects.filter(pk=step.pk).update(done=done)
        return done >= step.total


BACKTEST_FIGURES = ("wrmsse", "wape", "mase", "bias", "quantile_loss", "coverage")


def backtest_summary(metrics: pd.DataFrame) -> dict[str, float]:
    """The total backtest figures of the engine's selected forecasts (empty when there was no backtest)."""
    selected = metrics[(metrics["level"] == "total") & (metrics["method"] == "selected")]
    if selected.empty:
        return {}
    row = selected.iloc[0]
    return {name: round(float(row[name]), 4) for name in BACKTEST_FIGURES if pd.notna(row[name])}


def _combine_backtests(chunks: list[ChunkResult]) -> dict[str, object]:
    """Figures over all chunks, each chunk weighted by its number of products."""
    combined: dict[str, object] = {}
    for name in BACKTEST_FIGURES:
        pairs = [(chunk.metrics[name], chunk.products) for chunk in chunks if name in chunk.metrics]
        weight = sum(products for _, products in pairs)
        if weight:
            combined[name] = round(sum(value * products for value, products in pairs) / weight, 4)
    combined["products"] = sum(chunk.products for chunk in chunks)
    return combined


def forecast_run_execute(
    *, merchant: Merchant, run_date: datetime.date | None = None, engine_config: EngineConfig | None = None
) -> ForecastRun:
    """Forecast every product of ``merchant`` with sales history, here and now, and store the run unpublished.

    The demand frame comes from ``inventory.selectors``; the run keeps its backtest figures. The
    pipeline does the same per chunk and also plans and publishes; this is for a forecast on its own.
    """
    job = pipeline_start(merchant=merchant, trigger="forecast", run_date=run_date, queue=False)
    prepared = pipeline_prepare(job_id=job.pk, chunk_size=10**9)
    run = ForecastRun.objects.get(job_id=job.pk)
    if prepared.chunks:
        pipeline_chunk_execute(job_id=job.pk, index=0, product_ids=prepared.chunks[0], engine_config=engine_config)
    with transaction.atomic():
        job = JobRun.objects.select_for_update().get(pk=job.pk)
        step = _step(job, "forecast")
        ForecastRun.objects.filter(pk=run.pk).update(backtest=_combine_backtests(list(step.chunks.all())))
        _set_status(step, JobStatus.SUCCEEDED)
        for other in job.steps.exclude(pk=step.pk).filter(status__in=ACTIVE_JOB_STATUSES):
            _set_status(other, JobStatus.SUCCEEDED)
        _set_status(job, JobStatus.SUCCEEDED)
    run.refresh_from_db()
    return run


def _plan_paths(run: ForecastRun) -> int:
    """Demand paths per product for the policy search: fewer for a large run (the whole run decides, as for the
    engine's large-input settings, so every chunk plans alike)."""
    if run.products >= django_settings.PLAN_LARGE_JOB_PRODUCTS:
        return int(django_settings.PLAN_LARGE_JOB_PATHS)
    return int(django_settings.PLAN_PATHS)


def _item_floors(items: pd.DataFrame) -> dict[str, float]:
    """Service floors set on products themselves (``ProductPolicySettings``), which replace their class's."""
    own = items.dropna(subset=["service_floor_override"])
    return {str(sku): float(floor) for sku, floor in zip(own["item_id"], own["service_floor_override"], strict=True)}


def _floors(settings: PolicySettings) -> dict[str, float]:
    return {str(key): float(value) for key, value in (settings.service_floors or {}).items()}


def _chunk_text_features(run: ForecastRun, history: pd.DataFrame) -> pd.DataFrame | None:
    """The text-signal features of the chunk's products on their history grid, from the run's signal table."""
    if not run.text_signals:
        return None
    from nlp.signals.features import text_features

    table = pd.DataFrame(run.text_signals)
    table = table[table["item_id"].isin(set(history["item_id"]))]
    if table.empty:
        return None
    table["date"] = pd.to_datetime(table["date"])
    return text_features(table, history, freq=run.freq).frame


def _last_period(history: pd.DataFrame, run: ForecastRun) -> pd.Timestamp:
    if not history.empty:
        return pd.Timestamp(history["date"].max())
    assert run.history_end is not None
    end = pd.Timestamp(run.history_end)
    if run.freq == "D":
        return end
    # the last whole week, labelled by its first day (as ``_history_frame`` labels them)
    return pd.Timestamp(pd.tseries.frequencies.to_offset(run.freq).rollback(end - pd.Timedelta(days=6)))


def _first_forecast_date(history: pd.DataFrame, run: ForecastRun) -> pd.Timestamp:
    last = _last_period(history, run)
    return last + pd.tseries.frequencies.to_offset(run.freq)


def _coldstart_forecasts(run: ForecastRun, new: pd.DataFrame, *, start: pd.Timestamp) -> pd.DataFrame:
    days = 1 if run.freq == "D" else 7
    rates = {
        str(sku): float(run.coldstart[str(pk)]["weekly_units"]) * days / 7  # type: ignore[index]
        for sku, pk in zip(new["item_id"], new["product_id"], strict=True)
    }
    return coldstart_forecast_frame(
        rates, start=start, horizon=run.horizon, freq=run.freq, quantiles=tuple(run.quantiles)
    )


def _forecast_rows(
    run: ForecastRun, frames: pd.DataFrame, methods_frame: pd.DataFrame, by_sku: pd.DataFrame
) -> list[ProductForecast]:
    methods = methods_frame.drop_duplicates("item_id").set_index("item_id")
    columns = [quantile_column(q) for q in run.quantiles]
    ordered = frames.sort_values(["item_id", "date"], kind="stable")
    skus = ordered["item_id"].to_numpy()
    starts = np.flatnonzero(np.r_[True, skus[1:] != skus[:-1]])
    bounds = np.r_[starts, len(skus)]
    # one rounding pass over the whole chunk, then each product's slice of it
    values = {name: np.round(ordered[name].to_numpy(dtype=float), 4).tolist() for name in ["mean", *columns]}
    first_dates = ordered["date"].to_numpy()[starts]
    unique_skus = skus[starts]
    method_names = methods["method"].reindex(unique_skus)
    segments = methods["segment"].reindex(unique_skus) if "segment" in methods.columns else None
    product_ids = by_sku["product_id"].reindex(unique_skus).to_numpy()
    rows = []
    for position in range(len(unique_skus)):
        low, high = int(bounds[position]), int(bounds[position + 1])
        method = method_names.iloc[position]
        segment = segments.iloc[position] if segments is not None else None
        rows.append(
            ProductForecast(
                run=run,
                product_id=int(product_ids[position]),
                start_date=pd.Timestamp(first_dates[position]).date(),
                mean=values["mean"][low:high],
                quantiles={c: values[c][low:high] for c in columns},
                method=str(method) if isinstance(method, str) else "",
                segment=str(segment) if isinstance(segment, str) and isinstance(method, str) else "",
            )
        )
    return rows


def _finite(value: object) -> float:
    number = float(value)  # type: ignore[arg-type]
    return number if np.isfinite(number) else 0.0


def _policy_rows(job: JobRun, plan_frame: pd.DataFrame, by_sku: pd.DataFrame) -> list[ProductPolicy]:
    rows = []
    for row in plan_frame.to_dict("records"):
        sku = row["item_id"]
        rows.append(
            ProductPolicy(
                job=job,
                product_id=int(by_sku.loc[sku, "product_id"]),
                abc_xyz=str(row["abc_xyz"]),
                reorder_point=_finite(row["reorder_point"]),
                order_up_to=_finite(row["order_up_to"]),
                order_quantity=round(float(row["order_quantity"])),
                unrounded_quantity=_finite(row["unrounded_quantity"]),
                expected_demand=_finite(row["expected_cover_demand"]),
                safety_stock=_finite(row["safety_stock"]),
                service_level=_finite(row["cycle_service_level"]),
                fill_rate=_finite(row["expected_fill_rate"]),
                expected_cost=_finite(row["expected_cost"]),
                expected_cost_saved=_finite(row["expected_cost_saved"]),
                on_hand=int(by_sku.loc[sku, "on_hand"]),
                on_order=int(by_sku.loc[sku, "on_order"]),
                budget_cut=_finite(row["budget_cut"]),
                explanation=str(row["explanation"]),
                details={
                    key: (None if isinstance(value, float) and not np.isfinite(value) else value)
                    for key, value in row.items()
                    if key != "explanation" and isinstance(value, (int, float, str))
                },
            )
        )
    return rows


# Publishing


def pipeline_publish(*, job_id: int) -> JobRun:
    """Turn the run's policies into suggestions and draft purchase orders and make the run the visible one."""
    with transaction.atomic():
        job = JobRun.objects.select_for_update().select_related("merchant").get(pk=job_id)
        if job.status != JobStatus.RUNNING:
            return job
        merchant = job.merchant
        settings = policy_settings_for_merchant(merchant=merchant)
        forecast_step, publish_step = _step(job, "forecast"), _step(job, "publish")
        _set_status(forecast_step, JobStatus.SUCCEEDED)
        _set_status(publish_step, JobStatus.RUNNING)
        # only the products to order become suggestions (and only they can be cut by a budget)
        policies = list(
            ProductPolicy.objects.filter(job=job, order_quantity__gt=0)
            .select_related("product__supplier")
            .defer("details")
            .order_by("pk")
        )
        _apply_budget(policies, settings=settings, merchant=merchant)
        _supersede_open_suggestions(merchant=merchant, job=job)
        _create_suggestions(job=job, policies=policies)
        run = ForecastRun.objects.get(job=job)
        ForecastRun.objects.filter(merchant=merchant, is_published=True).update(is_published=False)
        ForecastRun.objects.filter(pk=run.pk).update(
            is_published=True,
            published_at=timezone.now(),
            backtest=_combine_backtests(list(forecast_step.chunks.all())),
        )
        JobRun.objects.filter(pk=publish_step.pk).update(done=1, total=1)
        _set_status(publish_step, JobStatus.SUCCEEDED)
        _set_status(job, JobStatus.SUCCEEDED)
    return job


def _apply_budget(policies: list[ProductPolicy], *, settings: PolicySettings, merchant: Merchant) -> None:
    supplier_budgets = {
        str(budget.supplier_id): float(budget.amount)
        for budget in SupplierBudget.objects.filter(supplier__merchant=merchant)
    }
    total = float(settings.budget) if settings.budget is not None else None
    if not policies or (total is None and not supplier_budgets):
        return
    lines = pd.DataFrame(
        {
            "item_id": [p.product.sku for p in policies],
            "supplier": [str(p.product.supplier_id) for p in policies],
            "order_quantity": [float(p.order_quantity) for p in policies],
            "unit_cost": [float(p.product.unit_cost) for p in policies],
            "moq": [float(p.product.moq) for p in policies],
            "case_pack": [float(p.product.case_pack) for p in policies],
            "cost_saved": [p.expected_cost_saved for p in policies],
        }
    )
    budgeted = apply_budget(lines, total_budget=total, supplier_budgets=supplier_budgets)
    for policy, quantity, cut, note in zip(
        policies, budgeted["order_quantity"], budgeted["budget_cut"], budgeted["budget_note"], strict=True
    ):
        if cut:
            policy.order_quantity = round(float(quantity))
            policy.budget_cut = float(cut)
            policy.explanation = f"{policy.explanation} {note}".strip()
            policy.save(update_fields=["order_quantity", "budget_cut", "explanation"])


def _supersede_open_suggestions(*, merchant: Merchant, job: JobRun) -> None:
    open_suggestions = ReplenishmentSuggestion.objects.filter(merchant=merchant, status=SuggestionStatus.OPEN)
    # An open suggestion whose order a person already approved elsewhere was approved with it.
    open_suggestions.exclude(purchase_order__status=PurchaseOrderStatus.DRAFT).exclude(
        purchase_order__isnull=True
    ).update(status=SuggestionStatus.APPROVED, decided_at=timezone.now())
    drafts = PurchaseOrder.objects.filter(
        pk__in=open_suggestions.values("purchase_order_id"), status=PurchaseOrderStatus.DRAFT
    ).order_by("pk")
    for order in drafts:
        inventory_services.purchase_order_cancel(order=order, reason=f"Replaced by pipeline run {job.pk}.")
    open_suggestions.update(status=SuggestionStatus.SUPERSEDED)


def _create_suggestions(*, job: JobRun, policies: list[ProductPolicy]) -> None:
    to_order = [p for p in policies if p.order_quantity > 0]
    by_supplier: dict[int, list[ProductPolicy]] = {}
    for policy in to_order:
        assert policy.product.supplier_id is not None
        by_supplier.setdefault(policy.product.supplier_id, []).append(policy)
    for supplier_policies in by_supplier.values():
        supplier = supplier_policies[0].product.supplier
        assert supplier is not None
        order = inventory_services.purchase_order_create(
            merchant=job.merchant,
            supplier=supplier,
            lines=[
                inventory_services.PurchaseLineInput(product=p.product, quantity=p.order_quantity)
                for p in supplier_policies
            ],
            note=f"Suggested by pipeline run {job.pk}.",
        )
        lines = {line.product_id: line for line in order.lines.all()}
        ReplenishmentSuggestion.objects.bulk_create(
            [
                ReplenishmentSuggestion(
                    merchant=job.merchant,
                    job=job,
                    policy=p,
                    product=p.product,
                    supplier=supplier,
                    purchase_order=order,
                    purchase_order_line=lines[p.product_id],
                    suggested_quantity=p.order_quantity,
                    quantity=p.order_quantity,
                    unit_cost=p.product.unit_cost,
                    explanation=p.explanation,
                )
                for p in supplier_policies
            ]
        )


# Running a whole pipeline in this process


def pipeline_run_inline(
    *,
    job_id: int,
    chunk_size: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    engine_config: EngineConfig | None = None,
) -> JobRun:
    """Run every step of a queued run here and now (the embedded default, commands and tests)."""
    try:
        prepared = pipeline_prepare(job_id=job_id, chunk_size=chunk_size)
        for index, product_ids in enumerate(prepared.chunks):
            pipeline_chunk_execute(job_id=job_id, index=index, product_ids=product_ids, engine_config=engine_config)
            if progress:
                progress(index + 1, len(prepared.chunks))
        return pipeline_publish(job_id=job_id)
    except PipelineCancelled:
        return JobRun.objects.get(pk=job_id)
    except (InputError, ValidationError, ValueError) as error:
        pipeline_fail(job_id=job_id, error=f"{type(error).__name__}: {error}")
        return JobRun.objects.get(pk=job_id)


# Decisions on suggestions


def _open_suggestion(suggestion: ReplenishmentSuggestion) -> ReplenishmentSuggestion:
    suggestion = (
        ReplenishmentSuggestion.objects.select_for_update(of=("self",))
        .select_related("purchase_order")
        .get(pk=suggestion.pk)
    )
    if suggestion.status != SuggestionStatus.OPEN or (
        suggestion.purchase_order is not None and suggestion.purchase_order.status != PurchaseOrderStatus.DRAFT
    ):
        raise ValidationError(
            {"status": f"Suggestion {suggestion.pk} is {suggestion.status}; it can no longer change."}
        )
    return suggestion


def suggestion_set_quantity(
    *, suggestion: ReplenishmentSuggestion, quantity: int, user: Actor = None
) -> ReplenishmentSuggestion:
    """Change the quantity of an open suggestion and of its draft order line (recorded on the order)."""
    product = suggestion.product
    if isinstance(quantity, int) and quantity > 0 and (quantity < product.moq or quantity % product.case_pack):
        raise ValidationError(
            {
                "quantity": f"{product.sku} is ordered in cases of {product.case_pack} with a minimum of "
                f"{product.moq}; {quantity} is not such a quantity."
            }
        )
    with transaction.atomic():
        suggestion = _open_suggestion(suggestion)
        if suggestion.purchase_order_line is None:
            raise ValidationError({"status": f"Suggestion {suggestion.pk} has no order line to change."})
        inventory_services.purchase_order_line_set_quantity(
            line=suggestion.purchase_order_line, quantity=quantity, user=user
        )
        ReplenishmentSuggestion.objects.filter(pk=suggestion.pk).update(quantity=quantity)
        suggestion.quantity = quantity
    return suggestion


def suggestion_reject(
    *, suggestion: ReplenishmentSuggestion, reason: str, user: Actor = None
) -> ReplenishmentSuggestion:
    """Reject a suggestion with a reason: its line leaves the draft order (an emptied draft is cancelled)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the suggestion is rejected."})
    with transaction.atomic():
        suggestion = _open_suggestion(suggestion)
        order, line = suggestion.purchase_order, suggestion.purchase_order_line
        ReplenishmentSuggestion.objects.filter(pk=suggestion.pk).update(
            status=SuggestionStatus.REJECTED,
            reject_reason=reason[:500],
            decided_by=actor_or_none(user),
            decided_at=timezone.now(),
            purchase_order_line=None,
        )
        if order is not None and line is not None:
            inventory_services.purchase_order_line_remove(line=line, reason=reason, user=user)
            if not order.lines.exists():
                inventory_services.purchase_order_cancel(
                    order=order, reason="Every suggested line was rejected.", user=user
                )
        suggestion.refresh_from_db()
    return suggestion


def suggestion_approve(*, suggestion: ReplenishmentSuggestion, user: Actor = None) -> ReplenishmentSuggestion:
    """Approve one suggestion: its line stays on the supplier's draft order, ticked as approved."""
    with transaction.atomic():
        suggestion = _open_suggestion(suggestion)
        ReplenishmentSuggestion.objects.filter(pk=suggestion.pk).update(
            status=SuggestionStatus.APPROVED, decided_by=actor_or_none(user), decided_at=timezone.now()
        )
        suggestion.refresh_from_db()
    return suggestion


def suggestions_order_approve(*, merchant: Merchant, order: PurchaseOrder, user: Actor = None) -> PurchaseOrder:
    """Approve a supplier's suggested draft order: every open line on it is approved and the order with it."""
    if order.merchant_id != merchant.pk:
        raise ValidationError({"order": f"Purchase order does not belong to merchant {merchant.slug}."})
    with transaction.atomic():
        ReplenishmentSuggestion.objects.filter(purchase_order=order, status=SuggestionStatus.OPEN).update(
            status=SuggestionStatus.APPROVED, decided_by=actor_or_none(user), decided_at=timezone.now()
        )
        order = inventory_services.purchase_order_approve(order=order, user=user)
    return order


# Settings and manual forecasts (merchant pages and the API)


def forecast_override_create(
    *,
    merchant: Merchant,
    product: Product,
    start_date: datetime.date,
    end_date: datetime.date,
    units_per_day: Decimal,
    note: str = "",
    user: Actor = None,
) -> ForecastOverride:
    """Record a manual forecast of ``units_per_day`` for ``product`` from ``start_date`` to ``end_date``."""
    if product.merchant_id != merchant.pk:
        raise ValidationError({"product": f"Product does not belong to merchant {merchant.slug}."})
    if end_date < start_date:
        raise ValidationError({"end_date": "The end date is before the start date."})
    override = ForecastOverride(
        merchant=merchant,
        product=product,
        start_date=start_date,
        end_date=end_date,
        units_per_day=units_per_day,
        note=note[:500],
        created_by=actor_or_none(user),
    )
    override.full_clean()
    override.save()
    return override


def forecast_override_delete(*, override: ForecastOverride) -> None:
    """Remove a manual forecast: the model's forecast applies again over its dates."""
    override.delete()


POLICY_SETTINGS_FIELDS = (
    "holding_rate_per_year",
    "shortage_cost_share_of_margin",
    "order_cost",
    "review_period_days",
    "planning_freq",
    "service_floors",
    "class_cost_factors",
    "budget",
    "pipeline_hour",
)


def policy_settings_update(*, merchant: Merchant, **changes: object) -> PolicySettings:
    """Change the merchant's planning economics; the next pipeline run plans with them."""
    unknown = set(changes) - set(POLICY_SETTINGS_FIELDS)
    if unknown:
        raise ValidationError({field: "This setting does not exist." for field in sorted(unknown)})
    with transaction.atomic():
        settings = policy_settings_for_merchant(merchant=merchant)
        settings = PolicySettings.objects.select_for_update().get(pk=settings.pk)
        for field, value in changes.items():
            setattr(settings, field, value)
        settings.full_clean()
        settings.save()
    return settings


PRODUCT_POLICY_FIELDS = ("service_floor", "holding_cost_per_day", "shortage_cost", "order_cost", "review_period_days")


def product_policy_settings_set(*, product: Product, **values: object) -> ProductPolicySettings | None:
    """Set a product's overrides of the merchant's economics; all empty removes them (None is returned)."""
    unknown = set(values) - set(PRODUCT_POLICY_FIELDS)
    if unknown:
        raise ValidationError({field: "This setting does not exist." for field in sorted(unknown)})
    with transaction.atomic():
        if all(values.get(field) is None for field in PRODUCT_POLICY_FIELDS):
            ProductPolicySettings.objects.filter(product=product).delete()
            return None
        overrides = ProductPolicySettings.objects.select_for_update().filter(product=product).first()
        overrides = overrides or ProductPolicySettings(product=product)
        for field in PRODUCT_POLICY_FIELDS:
            setattr(overrides, field, values.get(field))
        overrides.full_clean()
        overrides.save()
    return overrides


def supplier_budget_set(*, supplier: Supplier, amount: Decimal | None) -> SupplierBudget | None:
    """Cap what one pipeline run may suggest from ``supplier`` (None removes the cap)."""
    with transaction.atomic():
        if amount is None:
            SupplierBudget.objects.filter(supplier=supplier).delete()
            return None
        budget, _ = SupplierBudget.objects.update_or_create(supplier=supplier, defaults={"amount": amount})
        budget.full_clean()
    return budget
