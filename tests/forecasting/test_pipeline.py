import datetime
from decimal import Decimal

import pandas as pd
import pytest
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse

from forecasting import services
from forecasting.models import (
    ForecastRun,
    JobRun,
    PolicySettings,
    ProductForecast,
    ProductPolicy,
    ReplenishmentSuggestion,
    SuggestionStatus,
)
from forecasting.selectors import below_reorder_point_count
from inventory.models import PurchaseOrder
from inventory.services import purchase_order_send
from tests.factories import MembershipFactory
from tests.forecasting.pipeline_data import QUICK_METHODS, TODAY, small_merchant

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


@pytest.fixture(autouse=True)
def quick_engine(settings):
    settings.FORECAST_ENGINE_METHODS = QUICK_METHODS
    settings.PIPELINE_CHUNK_SIZE = 4


def _run(merchant) -> JobRun:
    job = services.pipeline_start(merchant=merchant, queue=False, run_date=TODAY)
    return services.pipeline_run_inline(job_id=job.pk)


def test_pipeline_publishes_forecasts_policies_and_draft_orders():
    merchant = small_merchant()
    job = _run(merchant)

    assert (job.status, job.error) == ("succeeded", "")
    steps = {step.kind: (step.status, step.done, step.total) for step in job.steps.all()}
    assert steps == {"signals": ("succeeded", 0, 0), "forecast": ("succeeded", 2, 2), "publish": ("succeeded", 1, 1)}
    run = ForecastRun.objects.get(job=job)
    assert (run.is_published, run.freq, str(run.history_end)) == (True, "D", "2026-05-31")
    assert ProductForecast.objects.filter(run=run).count() == 6
    assert sorted(run.backtest) == ["bias", "coverage", "mase", "products", "quantile_loss", "wape", "wrmsse"]
    assert run.backtest["products"] == 6 and 0 < run.backtest["wape"] < 1
    forecast = ProductForecast.objects.filter(run=run).order_by("product__sku").first()
    assert str(forecast.start_date) == "2026-06-01"
    assert len(forecast.mean) == run.horizon
    assert set(forecast.quantiles) == {
        "p5",
        "p10",
        "p20",
        "p30",
        "p40",
        "p50",
        "p60",
        "p70",
        "p80",
        "p90",
        "p95",
        "p98",
    }
    assert ProductPolicy.objects.filter(job=job).count() == 6
    # the three unstocked products need an order; the three holding a year of stock do not
    suggestions = ReplenishmentSuggestion.objects.filter(job=job, status="open").order_by("product__sku")
    assert [s.product.sku for s in suggestions] == ["P03", "P04", "P05"]
    for suggestion in suggestions:
        assert suggestion.quantity > 0 and suggestion.quantity % suggestion.product.case_pack == 0
        assert suggestion.purchase_order.status == "draft"
        assert suggestion.purchase_order_line.quantity == suggestion.quantity
        assert "expected demand" in suggestion.explanation
    orders = PurchaseOrder.objects.filter(merchant=merchant, status="draft").order_by("supplier__name")
    assert [(o.supplier.name, [line.product.sku for line in o.lines.all()]) for o in orders] == [
        ("Alpha", ["P04"]),
        ("Beta", ["P03", "P05"]),
    ]
    assert below_reorder_point_count(merchant=merchant) == 3


def test_rerun_replaces_open_suggestions_and_never_orders_stock_already_on_order():
    merchant = small_merchant()
    first = _run(merchant)
    alpha_order = PurchaseOrder.objects.get(merchant=merchant, status="draft", supplier__name="Alpha")
    services.suggestions_order_approve(merchant=merchant, order=alpha_order)
    purchase_order_send(order=alpha_order)

    second = _run(merchant)

    assert second.status == "succeeded"
    assert list(
        ReplenishmentSuggestion.objects.filter(job=first).values_list("status", flat=True).order_by("product__sku")
    ) == [
        SuggestionStatus.SUPERSEDED,
        SuggestionStatus.APPROVED,
        SuggestionStatus.SUPERSEDED,
    ]
    # P04 (Alpha) is on order now, so only Beta's two products are suggested again, once each
    assert [s.product.sku for s in ReplenishmentSuggestion.objects.filter(status="open").order_by("product__sku")] == [
        "P03",
        "P05",
    ]
    assert ProductPolicy.objects.get(job=second, product__sku="P04").on_order == alpha_order.lines.get().quantity
    statuses = sorted(PurchaseOrder.objects.filter(merchant=merchant).values_list("supplier__name", "status"))
    assert statuses == [("Alpha", "sent"), ("Beta", "cancelled"), ("Beta", "draft")]
    assert ForecastRun.objects.filter(merchant=merchant, is_published=True).get().job == second


def test_a_second_start_is_refused_while_one_is_active():
    merchant = small_merchant(products=2)
    services.pipeline_start(merchant=merchant, queue=False)
    with pytest.raises(services.PipelineAlreadyRunning) as error:
        services.pipeline_start(merchant=merchant, queue=False)
    assert error.value.messages == ["A pipeline run for pipe is already queued; wait for it to finish or cancel it."]


def test_a_failing_chunk_fails_the_run_and_keeps_the_previous_results(monkeypatch):
    merchant = small_merchant()
    good = _run(merchant)
    open_before = list(ReplenishmentSuggestion.objects.filter(status="open").values_list("pk", flat=True))

    def broken(*args, **kwargs):
        raise ValueError("the model could not fit SKU P02")

    monkeypatch.setattr(services, "forecast", broken)
    failed = _run(merchant)

    assert (failed.status, failed.error) == ("failed", "ValueError: the model could not fit SKU P02")
    assert failed.steps.get(kind="forecast").status == "failed"
    assert ForecastRun.objects.get(merchant=merchant, is_published=True).job == good
    assert list(ReplenishmentSuggestion.objects.filter(status="open").values_list("pk", flat=True)) == open_before


def test_a_run_whose_chunk_message_was_lost_is_resumed_once_it_has_stalled(django_capture_on_commit_callbacks):
    merchant = small_merchant()
    job = services.pipeline_start(merchant=merchant, queue=False, run_date=TODAY)
    plan = services.pipeline_prepare(job_id=job.pk)
    assert ForecastRun.objects.get(job=job).chunks == plan.chunks and len(plan.chunks) == 2
    services.pipeline_chunk_execute(job_id=job.pk, index=0, product_ids=plan.chunks[0])
    # chunk 1's message is lost: the run waits for it, and within the stall limit nothing is queued again
    assert services.pipeline_stall_limit() == datetime.timedelta(seconds=2100 + 2400 + 2 * 30)
    assert services.pipeline_resume_stalled() == []
    with django_capture_on_commit_callbacks(execute=True) as queued:
        resumed = services.pipeline_resume_stalled(stalled_after=datetime.timedelta(0))
    assert [run.pk for run in resumed] == [job.pk] and len(queued) == 1
    job.refresh_from_db()
    assert (job.status, job.error) == ("succeeded", "")
    steps = {step.kind: (step.status, step.done, step.total) for step in job.steps.all()}
    assert steps == {"signals": ("succeeded", 0, 0), "forecast": ("succeeded", 2, 2), "publish": ("succeeded", 1, 1)}
    assert ProductForecast.objects.filter(run__job=job).count() == 6
    assert services.pipeline_resume_stalled(stalled_after=datetime.timedelta(0)) == []


def test_a_resume_is_shown_on_the_jobs_page_and_counts_as_progress(client, django_capture_on_commit_callbacks):
    merchant = small_merchant(products=2)
    job = services.pipeline_start(merchant=merchant, queue=False, run_date=TODAY)
    moment = job.created_at + datetime.timedelta(hours=2)
    limit = datetime.timedelta(hours=1)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        assert [run.pk for run in services.pipeline_resume_stalled(stalled_after=limit, now=moment)] == [job.pk]
        # its first task is queued again; ten minutes later the run has not started yet, and is not resumed again
        later = moment + datetime.timedelta(minutes=10)
        assert services.pipeline_resume_stalled(stalled_after=limit, now=later) == []
        again = moment + limit + datetime.timedelta(seconds=1)
        assert [run.pk for run in services.pipeline_resume_stalled(stalled_after=limit, now=again)] == [job.pk]
    assert len(queued) == 2
    job.refresh_from_db()
    assert job.facts == {"resumed": [moment.isoformat(), again.isoformat()]}

    client.force_login(MembershipFactory(merchant=merchant).user)
    page = client.get(reverse("job-detail", kwargs={"merchant_slug": merchant.slug, "job_id": job.pk})).content.decode()
    assert "Resumed 2 times after tasks' messages were lost." in page


def test_a_queued_run_whose_first_task_was_lost_is_started_again(django_capture_on_commit_callbacks):
    merchant = small_merchant(products=2)
    job = services.pipeline_start(merchant=merchant, queue=False, run_date=TODAY)
    with django_capture_on_commit_callbacks(execute=True):
        resumed = services.pipeline_resume_stalled(stalled_after=datetime.timedelta(0))
    assert [run.pk for run in resumed] == [job.pk]
    job.refresh_from_db()
    assert (job.status, job.error) == ("succeeded", "")
    # the merchant's next run is no longer refused
    services.pipeline_start(merchant=merchant, queue=False, run_date=TODAY)


def test_cancelled_run_publishes_nothing():
    merchant = small_merchant(products=2)
    job = services.pipeline_start(merchant=merchant, queue=False)
    services.pipeline_cancel(job=job)
    job = services.pipeline_run_inline(job_id=job.pk)
    assert job.status == "cancelled"
    assert not ForecastRun.objects.filter(merchant=merchant, is_published=True).exists()


def test_suggestion_decisions():
    merchant = small_merchant()
    _run(merchant)
    p03, p05 = ReplenishmentSuggestion.objects.filter(status="open", supplier__name="Beta").order_by("product__sku")
    with pytest.raises(services.ValidationError) as error:
        services.suggestion_set_quantity(suggestion=p03, quantity=p03.quantity + 1)
    assert error.value.message_dict["quantity"][0].startswith("P03 is ordered in cases of 6 with a minimum of 1")
    p03 = services.suggestion_set_quantity(suggestion=p03, quantity=p03.quantity + 12)
    services.suggestion_reject(suggestion=p05, reason="discontinued")
    order = p03.purchase_order
    assert [(line.product.sku, line.quantity) for line in order.lines.all()] == [("P03", p03.quantity)]
    services.suggestions_order_approve(merchant=merchant, order=order)
    order.refresh_from_db()
    p03.refresh_from_db()
    assert (order.status, p03.status) == ("approved", "approved")
    assert [e.action for e in order.events.all()] == ["create", "edit", "remove line", "approve"]
    with pytest.raises(services.ValidationError):
        services.suggestion_reject(suggestion=p03, reason="too late")


@override_settings(CELERY_TASK_ALWAYS_EAGER=True)
def test_run_pipeline_command_in_process(capsys):
    small_merchant(products=3)
    call_command("run_pipeline", "--merchant", "pipe")
    output = capsys.readouterr().out
    assert "forecast and policy [##############################] 1/1 chunks" in output
    assert "succeeded" in output


def test_forecast_run_execute_stores_an_unpublished_run_with_its_backtest():
    merchant = small_merchant(products=3)
    run = services.forecast_run_execute(merchant=merchant, run_date=TODAY)
    assert (run.is_published, run.job.status, run.backtest["products"]) == (False, "succeeded", 3)
    assert ProductForecast.objects.filter(run=run).count() == 3
    assert not ReplenishmentSuggestion.objects.exists()


def test_a_service_floor_set_on_a_product_replaces_its_class_floor():
    # given: the shop floors every class at 50%, and P03 asks for 97% of its own
    merchant = small_merchant()
    services.policy_settings_update(merchant=merchant, service_floors={"A": 0.5, "B": 0.5, "C": 0.5})
    services.product_policy_settings_set(product=merchant.products.get(sku="P03"), service_floor=Decimal("0.97"))

    # when
    job = _run(merchant)

    # then: P03 is planned to its own floor, every other product to its class's
    floors = {policy.product.sku: policy.details["service_floor"] for policy in job.policies.select_related("product")}
    assert floors == {"P00": 0.5, "P01": 0.5, "P02": 0.5, "P03": 0.97, "P04": 0.5, "P05": 0.5}
    policy = job.policies.get(product__sku="P03")
    assert "service floor 97.0%." in policy.explanation
    assert policy.fill_rate >= 0.97 or "The floor cannot be met" in policy.explanation


@pytest.mark.parametrize(("large_from", "expected"), [(7, 200), (6, 37)])
def test_a_large_run_plans_on_fewer_demand_paths(monkeypatch, settings, large_from, expected):
    settings.PLAN_PATHS, settings.PLAN_LARGE_JOB_PATHS, settings.PLAN_LARGE_JOB_PRODUCTS = 200, 37, large_from
    seen = []
    real_plan = services.plan

    def spy(*args, **kwargs):
        seen.append(kwargs["options"].paths)
        return real_plan(*args, **kwargs)

    monkeypatch.setattr(services, "plan", spy)
    job = _run(small_merchant())  # six products, in two chunks

    assert job.status == "succeeded"
    assert seen == [expected, expected]


@pytest.mark.parametrize("freq", ["D", "W-MON"])
def test_the_planning_scope_is_the_planning_items_products_and_horizon(freq):
    from forecasting.policy.plan import planning_horizon
    from forecasting.selectors import (
        planning_items_for_merchant,
        planning_scope_for_merchant,
        policy_settings_for_merchant,
    )

    merchant = small_merchant()
    services.policy_settings_update(merchant=merchant, planning_freq=freq)
    products = list(merchant.products.order_by("sku"))
    products[1].lead_time_days_override = 30
    products[1].save()
    services.product_policy_settings_set(product=products[2], review_period_days=21)
    products[3].is_active = False
    products[3].save()
    settings = policy_settings_for_merchant(merchant=merchant)

    scope = planning_scope_for_merchant(merchant=merchant, settings=settings)
    items = planning_items_for_merchant(merchant=merchant, settings=settings)

    assert scope.product_ids == [int(pk) for pk in items["product_id"]]
    assert scope.horizon == planning_horizon(items) == {"D": 3 * (30 + 7), "W-MON": 3 * (5 + 1)}[freq]


def test_class_cost_factors_reach_the_plan_and_a_products_own_costs_are_kept(monkeypatch):
    # given: lost sales of class A products cost twice as much; P03 sets its own shortage and order costs
    merchant = small_merchant()
    factors = {"A": {"shortage_cost": 2.0}, "C": {"holding_cost": 1.5}}
    services.policy_settings_update(merchant=merchant, class_cost_factors=factors)
    services.product_policy_settings_set(
        product=merchant.products.get(sku="P03"), shortage_cost=Decimal("4"), order_cost=Decimal("9")
    )
    seen = []
    real_plan = services.plan

    def spy(*args, **kwargs):
        seen.append(kwargs["options"])
        return real_plan(*args, **kwargs)

    monkeypatch.setattr(services, "plan", spy)

    # when
    job = _run(merchant)

    # then: every chunk plans with the factors, and knows which costs P03 sets itself
    assert job.status == "succeeded"
    assert [options.class_cost_factors for options in seen] == [factors, factors]
    own = {item: tuple(kinds) for options in seen for item, kinds in options.item_own_costs.items()}
    assert own == {"P00": (), "P01": (), "P02": (), "P03": ("shortage_cost", "order_cost"), "P04": (), "P05": ()}


def test_the_replay_uses_the_costs_of_the_products_class():
    from forecasting.selectors import _costs_of_class

    settings = PolicySettings(class_cost_factors={"A": {"shortage_cost": 2.0}, "AX": {"holding_cost": 3.0}})
    item = pd.Series(
        {
            "item_id": "P00",
            "holding_cost": 0.5,
            "shortage_cost": 6.0,
            "order_cost": 15.0,
            "own_costs": ("holding_cost",),
        }
    )

    assert _costs_of_class(item, "AX", settings) == {"holding_cost": 0.5, "shortage_cost": 12.0, "order_cost": 15.0}
    assert _costs_of_class(item, "BY", settings) == {"holding_cost": 0.5, "shortage_cost": 6.0, "order_cost": 15.0}
    assert _costs_of_class(item, "", settings) == {"holding_cost": 0.5, "shortage_cost": 6.0, "order_cost": 15.0}
