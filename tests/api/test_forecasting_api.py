"""Published forecasts, replenishment suggestions and their decisions, and pipeline runs over the API."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework import serializers

from forecasting import services
from forecasting.models import ForecastRun, JobRun, ProductForecast, ReplenishmentSuggestion
from forecasting.tasks import pipeline_run_task
from inventory.models import Product, PurchaseOrder, PurchaseOrderEvent
from inventory.services import purchase_order_approve
from tests.backoffice.queue_data import published_queue


def _iso(moment: datetime.datetime | None) -> str | None:
    return serializers.DateTimeField().to_representation(moment) if moment is not None else None


def _suggestion(merchant, sku: str) -> ReplenishmentSuggestion:
    return ReplenishmentSuggestion.objects.get(merchant=merchant, product__sku=sku)


def _skus(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["sku"] for row in response.json()["results"]]


@pytest.fixture
def queue(shop) -> list[PurchaseOrder]:
    """The published run's three open suggestions of 12 units at 2.5000: Q0000 and Q0002 on Vendor 0's draft order,
    Q0001 on Vendor 1's. Products come in cases of 6 with a minimum of 6."""
    return published_queue(shop.merchant, lines=3, suppliers=2)


@pytest.fixture
def other_queue(other_shop) -> list[PurchaseOrder]:
    """Globex's own published run with one open suggestion (of its own Q0000)."""
    return published_queue(other_shop.merchant, lines=1, suppliers=1)


def _forecast(run: ForecastRun, product: Product, *, scale: float, method: str, segment: str) -> ProductForecast:
    return ProductForecast.objects.create(
        run=run,
        product=product,
        start_date=datetime.date(2026, 6, 1),
        mean=[scale * 1.5, scale * 2.0, scale * 2.5],
        quantiles={
            "p10": [scale * 0.5, scale * 1.0, scale * 1.0],
            "p50": [scale * 1.5, scale * 2.0, scale * 2.0],
            "p90": [scale * 3.0, scale * 4.0, scale * 5.0],
        },
        method=method,
        segment=segment,
    )


@pytest.fixture
def forecasts(shop, queue) -> dict[str, ProductForecast]:
    """Forecasts of Q0000 and Q0001 in the published run, and one of Q0000 in an older run no longer published."""
    merchant = shop.merchant
    products = {product.sku: product for product in Product.objects.filter(merchant=merchant)}
    published = ForecastRun.objects.get(merchant=merchant, is_published=True)
    old_job = JobRun.objects.create(merchant=merchant, kind="pipeline", status="succeeded")
    old_run = ForecastRun.objects.create(merchant=merchant, job=old_job, freq="D", horizon=3, quantiles=[0.1, 0.9])
    return {
        "Q0001": _forecast(published, products["Q0001"], scale=1, method="ets", segment="smooth"),
        "Q0000": _forecast(published, products["Q0000"], scale=2, method="croston_sba", segment="intermittent"),
        "old": _forecast(old_run, products["Q0000"], scale=9, method="naive", segment="smooth"),
    }


# Forecasts


def test_forecasts_list_the_published_run_only(shop, forecasts):
    response = shop.client("viewer").get("/api/v1/forecasts/")

    assert response.status_code == 200, response.content
    body = response.json()
    run = forecasts["Q0000"].run
    assert body["count"] == 2
    assert body["results"] == [
        {
            "id": forecasts["Q0000"].pk,
            "run": run.pk,
            "product": forecasts["Q0000"].product_id,
            "sku": "Q0000",
            "start_date": "2026-06-01",
            "freq": "D",
            "mean": [3.0, 4.0, 5.0],
            "quantiles": {"p10": [1.0, 2.0, 2.0], "p50": [3.0, 4.0, 4.0], "p90": [6.0, 8.0, 10.0]},
            "method": "croston_sba",
            "segment": "intermittent",
        },
        {
            "id": forecasts["Q0001"].pk,
            "run": run.pk,
            "product": forecasts["Q0001"].product_id,
            "sku": "Q0001",
            "start_date": "2026-06-01",
            "freq": "D",
            "mean": [1.5, 2.0, 2.5],
            "quantiles": {"p10": [0.5, 1.0, 1.0], "p50": [1.5, 2.0, 2.0], "p90": [3.0, 4.0, 5.0]},
            "method": "ets",
            "segment": "smooth",
        },
    ]


def test_forecast_retrieve_and_an_unpublished_forecast_is_404(shop, forecasts):
    client = shop.client("viewer")

    found = client.get(f"/api/v1/forecasts/{forecasts['Q0001'].pk}/")
    unpublished = client.get(f"/api/v1/forecasts/{forecasts['old'].pk}/")

    assert found.status_code == 200
    assert (found.json()["sku"], found.json()["mean"]) == ("Q0001", [1.5, 2.0, 2.5])
    assert unpublished.status_code == 404


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("sku=Q0001", ["Q0001"]),
        ("method=croston_sba", ["Q0000"]),
        ("segment=smooth", ["Q0001"]),
        ("segment=lumpy", []),
        ("ordering=-sku", ["Q0001", "Q0000"]),
        ("ordering=method", ["Q0000", "Q0001"]),
    ],
)
def test_forecast_filters_and_ordering(shop, forecasts, query, expected):
    assert _skus(shop.client("viewer").get(f"/api/v1/forecasts/?{query}")) == expected


def test_forecast_filter_by_product_id(shop, forecasts):
    product_id = forecasts["Q0001"].product_id
    assert _skus(shop.client("viewer").get(f"/api/v1/forecasts/?product={product_id}")) == ["Q0001"]


def test_forecasts_are_empty_before_a_run_is_published(shop, mug):
    response = shop.client("viewer").get("/api/v1/forecasts/")
    assert (response.status_code, response.json()["count"], response.json()["results"]) == (200, 0, [])


# Suggestions


def test_suggestions_list_with_exact_values(shop, queue):
    vendor0, vendor1 = queue
    first = _suggestion(shop.merchant, "Q0000")

    response = shop.client("viewer").get("/api/v1/suggestions/")

    assert _skus(response) == ["Q0000", "Q0002", "Q0001"]  # by supplier name, then SKU
    assert response.json()["results"][0] == {
        "id": first.pk,
        "status": "open",
        "job": first.job_id,
        "product": first.product_id,
        "sku": "Q0000",
        "supplier": vendor0.supplier_id,
        "supplier_name": "Vendor 0",
        "suggested_quantity": 12,
        "quantity": 12,
        "unit_cost": "2.5000",
        "value": "30.0000",
        "explanation": "Cover demand 14.2 plus safety stock 3.1 for Q0000.",
        "purchase_order": vendor0.pk,
        "reject_reason": "",
        "decided_by": None,
        "decided_at": None,
        "created_at": _iso(first.created_at),
    }
    assert response.json()["results"][2]["purchase_order"] == vendor1.pk


def test_suggestion_filters_and_ordering(shop, queue):
    vendor0, vendor1 = queue
    services.suggestion_reject(suggestion=_suggestion(shop.merchant, "Q0002"), reason="Discontinued")
    services.suggestion_approve(suggestion=_suggestion(shop.merchant, "Q0001"))
    client = shop.client("viewer")

    def get(query: str) -> list[str]:
        return _skus(client.get(f"/api/v1/suggestions/?{query}"))

    assert get("status=open") == ["Q0000"]
    assert get("status=rejected") == ["Q0002"]
    assert get("status=open&status=approved") == ["Q0000", "Q0001"]
    assert get(f"supplier={vendor1.supplier_id}") == ["Q0001"]
    assert get("sku=Q0002") == ["Q0002"]
    assert get(f"purchase_order={vendor0.pk}") == ["Q0000", "Q0002"]
    assert get("ordering=-sku") == ["Q0002", "Q0001", "Q0000"]
    assert get("ordering=status,sku") == ["Q0001", "Q0000", "Q0002"]
    bad = client.get("/api/v1/suggestions/?status=bogus")
    assert bad.status_code == 400
    assert bad.json() == {"status": ["Select a valid choice. bogus is not one of the available choices."]}


def test_approve_marks_the_suggestion_and_a_second_decision_is_409(shop, queue):
    suggestion = _suggestion(shop.merchant, "Q0000")
    client = shop.client("buyer")

    response = client.post(f"/api/v1/suggestions/{suggestion.pk}/approve/", {}, format="json")

    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["decided_by"]) == ("approved", "bob")
    suggestion.refresh_from_db()
    assert (suggestion.status, suggestion.decided_by.username, suggestion.quantity) == ("approved", "bob", 12)
    assert response.json()["decided_at"] == _iso(suggestion.decided_at) is not None
    assert queue[0].lines.get(product=suggestion.product).quantity == 12
    conflict = {
        "detail": f"Suggestion {suggestion.pk} is approved; it can no longer change.",
        "code": "illegal_transition",
        "errors": {"status": [f"Suggestion {suggestion.pk} is approved; it can no longer change."]},
    }
    for path, body in [("approve", {}), ("reject", {"reason": "Too late"}), ("quantity", {"quantity": 18})]:
        again = client.post(f"/api/v1/suggestions/{suggestion.pk}/{path}/", body, format="json")
        assert (again.status_code, again.json()) == (409, conflict), path
    suggestion.refresh_from_db()
    assert (suggestion.status, suggestion.quantity, suggestion.reject_reason) == ("approved", 12, "")


def test_reject_takes_the_line_off_the_draft_order(shop, queue):
    vendor0 = queue[0]
    suggestion = _suggestion(shop.merchant, "Q0000")

    response = shop.client("buyer").post(
        f"/api/v1/suggestions/{suggestion.pk}/reject/", {"reason": "Discontinued"}, format="json"
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["reject_reason"], body["decided_by"], body["value"]) == (
        "rejected",
        "Discontinued",
        "bob",
        "30.0000",
    )
    suggestion.refresh_from_db()
    assert (suggestion.status, suggestion.reject_reason, suggestion.purchase_order_line) == (
        "rejected",
        "Discontinued",
        None,
    )
    assert [line.product.sku for line in vendor0.lines.all()] == ["Q0002"]
    event = PurchaseOrderEvent.objects.get(order=vendor0, action="remove line")
    assert (event.note, event.user.username) == ("Q0000 × 12: Discontinued", "bob")
    vendor0.refresh_from_db()
    assert vendor0.status == "draft"


def test_rejecting_the_last_line_of_a_draft_cancels_it(shop, queue):
    vendor1 = queue[1]
    suggestion = _suggestion(shop.merchant, "Q0001")

    response = shop.client("admin").post(
        f"/api/v1/suggestions/{suggestion.pk}/reject/", {"reason": "Overstocked"}, format="json"
    )

    assert response.status_code == 200, response.content
    vendor1.refresh_from_db()
    assert (vendor1.status, vendor1.lines.count()) == ("cancelled", 0)


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({}, {"reason": ["This field is required."]}),
        ({"reason": "   "}, {"reason": ["This field may not be blank."]}),
        ({"reason": "x" * 501}, {"reason": ["Ensure this field has no more than 500 characters."]}),
        ({"reason": "Discontinued", "note": "n"}, {"note": ["Unknown field."]}),
    ],
)
def test_reject_with_a_bad_reason_is_400_and_changes_nothing(shop, queue, body, errors):
    suggestion = _suggestion(shop.merchant, "Q0000")

    response = shop.client("buyer").post(f"/api/v1/suggestions/{suggestion.pk}/reject/", body, format="json")

    assert (response.status_code, response.json()) == (400, errors)
    suggestion.refresh_from_db()
    assert (suggestion.status, suggestion.reject_reason) == ("open", "")
    assert queue[0].lines.count() == 2


def test_quantity_changes_the_suggestion_and_its_order_line(shop, queue):
    suggestion = _suggestion(shop.merchant, "Q0000")

    response = shop.client("buyer").post(
        f"/api/v1/suggestions/{suggestion.pk}/quantity/", {"quantity": 18}, format="json"
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["quantity"], body["suggested_quantity"], body["value"]) == (
        "open",
        18,
        12,
        "45.0000",
    )
    suggestion.refresh_from_db()
    assert (suggestion.status, suggestion.quantity, suggestion.purchase_order_line.quantity) == ("open", 18, 18)
    event = PurchaseOrderEvent.objects.get(order=queue[0], action="edit")
    assert (event.note, event.user.username) == ("Q0000: 12 → 18", "bob")


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        (
            {"quantity": 7},
            {"quantity": ["Q0000 is ordered in cases of 6 with a minimum of 6; 7 is not such a quantity."]},
        ),
        ({"quantity": 0}, {"quantity": ["Ensure this value is greater than or equal to 1."]}),
        ({"quantity": 1_000_001}, {"quantity": ["Ensure this value is less than or equal to 1000000."]}),
        ({"quantity": "many"}, {"quantity": ["A valid integer is required."]}),
        ({}, {"quantity": ["This field is required."]}),
    ],
)
def test_a_bad_quantity_is_400_and_changes_nothing(shop, queue, body, errors):
    suggestion = _suggestion(shop.merchant, "Q0000")

    response = shop.client("buyer").post(f"/api/v1/suggestions/{suggestion.pk}/quantity/", body, format="json")

    assert (response.status_code, response.json()) == (400, errors)
    suggestion.refresh_from_db()
    assert (suggestion.quantity, suggestion.purchase_order_line.quantity) == (12, 12)
    assert not PurchaseOrderEvent.objects.filter(action="edit").exists()


def test_an_open_suggestion_whose_order_was_approved_is_409(shop, queue):
    suggestion = _suggestion(shop.merchant, "Q0000")
    purchase_order_approve(order=queue[0])

    response = shop.client("buyer").post(
        f"/api/v1/suggestions/{suggestion.pk}/quantity/", {"quantity": 18}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["detail"] == f"Suggestion {suggestion.pk} is open; it can no longer change."
    suggestion.refresh_from_db()
    assert (suggestion.quantity, suggestion.purchase_order_line.quantity) == (12, 12)


@pytest.mark.parametrize(
    ("path", "body"), [("approve", {}), ("reject", {"reason": "No"}), ("quantity", {"quantity": 18})]
)
def test_a_viewer_may_not_decide(shop, queue, path, body):
    suggestion = _suggestion(shop.merchant, "Q0000")

    response = shop.client("viewer").post(f"/api/v1/suggestions/{suggestion.pk}/{path}/", body, format="json")

    assert (response.status_code, response.json()) == (
        403,
        {"detail": "Your role (viewer) may not do this; it needs buyer."},
    )
    suggestion.refresh_from_db()
    assert (suggestion.status, suggestion.quantity, suggestion.decided_by) == ("open", 12, None)


def test_another_merchants_suggestions_forecasts_and_runs_are_404(shop, queue, other_shop, other_queue):
    theirs = ReplenishmentSuggestion.objects.get(merchant=other_shop.merchant)
    their_run = ForecastRun.objects.get(merchant=other_shop.merchant)
    their_forecast = _forecast(their_run, theirs.product, scale=1, method="ets", segment="smooth")
    their_job = JobRun.objects.get(merchant=other_shop.merchant)
    client = shop.client("admin")

    assert client.get(f"/api/v1/suggestions/{theirs.pk}/").status_code == 404
    assert client.post(f"/api/v1/suggestions/{theirs.pk}/approve/", {}, format="json").status_code == 404
    assert client.post(f"/api/v1/suggestions/{theirs.pk}/reject/", {"reason": "x"}, format="json").status_code == 404
    assert client.post(f"/api/v1/suggestions/{theirs.pk}/quantity/", {"quantity": 6}, format="json").status_code == 404
    assert client.get(f"/api/v1/forecasts/{their_forecast.pk}/").status_code == 404
    assert client.get(f"/api/v1/jobs/{their_job.pk}/").status_code == 404
    assert client.post(f"/api/v1/jobs/{their_job.pk}/cancel/", {}, format="json").status_code == 404
    assert _skus(client.get("/api/v1/suggestions/")) == ["Q0000", "Q0002", "Q0001"]
    assert [row["id"] for row in client.get("/api/v1/jobs/").json()["results"]] == [
        JobRun.objects.get(merchant=shop.merchant).pk
    ]
    assert client.get("/api/v1/forecasts/").json()["count"] == 0
    theirs.refresh_from_db()
    assert (theirs.status, theirs.quantity) == ("open", 12)


# Pipeline runs


def test_jobs_list_top_level_runs_newest_first_with_their_steps(shop, queue):
    published = JobRun.objects.get(merchant=shop.merchant)
    queued = services.pipeline_start(
        merchant=shop.merchant, queue=False, user=shop.buyer.user, run_date=datetime.date(2026, 6, 2)
    )
    JobRun.objects.filter(parent=queued, kind="signals").update(
        status="succeeded", done=2, total=2, detail="2 new texts scored by gpt2."
    )
    JobRun.objects.filter(parent=queued, kind="forecast").update(status="running", done=1, total=4)

    response = shop.client("viewer").get("/api/v1/jobs/")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == 2
    steps = list(queued.steps.order_by("id"))
    assert body["results"][0] == {
        "id": queued.pk,
        "kind": "pipeline",
        "trigger": "manual",
        "run_date": "2026-06-02",
        "status": "queued",
        "progress": 0.4167,  # (1 + 1/4 + 0) / 3 steps
        "error": "",
        "requested_by": "bob",
        "created_at": _iso(queued.created_at),
        "started_at": None,
        "finished_at": None,
        "steps": [
            {
                "id": steps[0].pk,
                "kind": "signals",
                "status": "succeeded",
                "done": 2,
                "total": 2,
                "progress": 1.0,
                "detail": "2 new texts scored by gpt2.",
                "error": "",
                "started_at": None,
                "finished_at": None,
            },
            {
                "id": steps[1].pk,
                "kind": "forecast",
                "status": "running",
                "done": 1,
                "total": 4,
                "progress": 0.25,
                "detail": "",
                "error": "",
                "started_at": None,
                "finished_at": None,
            },
            {
                "id": steps[2].pk,
                "kind": "publish",
                "status": "queued",
                "done": 0,
                "total": 0,
                "progress": 0.0,
                "detail": "",
                "error": "",
                "started_at": None,
                "finished_at": None,
            },
        ],
    }
    assert body["results"][1] == {
        "id": published.pk,
        "kind": "pipeline",
        "trigger": "manual",
        "run_date": "2026-06-01",
        "status": "succeeded",
        "progress": 1.0,
        "error": "",
        "requested_by": None,
        "created_at": _iso(published.created_at),
        "started_at": _iso(published.started_at),
        "finished_at": _iso(published.finished_at),
        "steps": [],
    }
    client = shop.client("viewer")
    assert [row["id"] for row in client.get("/api/v1/jobs/?status=queued").json()["results"]] == [queued.pk]
    assert [row["id"] for row in client.get("/api/v1/jobs/?ordering=run_date").json()["results"]] == [
        published.pk,
        queued.pk,
    ]
    assert client.get(f"/api/v1/jobs/{steps[0].pk}/").status_code == 404  # a step is no run of its own


def test_starting_a_run_queues_it_after_commit_for_the_callers_merchant(
    shop, monkeypatch, django_capture_on_commit_callbacks
):
    queued_ids = []
    monkeypatch.setattr(pipeline_run_task, "delay", queued_ids.append)

    with django_capture_on_commit_callbacks(execute=True):
        response = shop.client("buyer").post("/api/v1/jobs/", {}, format="json")

    assert response.status_code == 202, response.content
    job = JobRun.objects.get(merchant=shop.merchant, parent=None)
    assert (job.kind, job.trigger, job.status, job.requested_by.username, job.run_date) == (
        "pipeline",
        "api",
        "queued",
        "bob",
        timezone.localdate(),
    )
    assert queued_ids == [job.pk]
    body = response.json()
    assert (body["id"], body["trigger"], body["status"], body["progress"], body["requested_by"]) == (
        job.pk,
        "api",
        "queued",
        0.0,
        "bob",
    )
    assert [(step["kind"], step["status"]) for step in body["steps"]] == [
        ("signals", "queued"),
        ("forecast", "queued"),
        ("publish", "queued"),
    ]


def test_a_second_start_while_a_run_is_active_is_409(shop):
    services.pipeline_start(merchant=shop.merchant, queue=False)

    response = shop.client("admin").post("/api/v1/jobs/", {}, format="json")

    message = "A pipeline run for acme is already queued; wait for it to finish or cancel it."
    assert (response.status_code, response.json()) == (
        409,
        {"detail": message, "code": "pipeline_already_running", "errors": {"pipeline": [message]}},
    )
    assert JobRun.objects.filter(merchant=shop.merchant, parent=None).count() == 1


def test_start_refuses_unknown_fields_and_viewers(shop):
    unknown = shop.client("buyer").post("/api/v1/jobs/", {"run_date": "2026-06-01"}, format="json")
    viewer = shop.client("viewer").post("/api/v1/jobs/", {}, format="json")

    assert (unknown.status_code, unknown.json()) == (400, {"run_date": ["Unknown field."]})
    assert (viewer.status_code, viewer.json()) == (
        403,
        {"detail": "Your role (viewer) may not do this; it needs buyer."},
    )
    assert not JobRun.objects.exists()


def test_cancel_stops_an_active_run_and_a_finished_one_is_409(shop):
    job = services.pipeline_start(merchant=shop.merchant, queue=False)
    client = shop.client("buyer")

    response = client.post(f"/api/v1/jobs/{job.pk}/cancel/", {}, format="json")

    assert response.status_code == 200, response.content
    job.refresh_from_db()
    assert (job.status, job.error) == ("cancelled", "Cancelled by a user.")
    assert [step.status for step in job.steps.order_by("id")] == ["cancelled"] * 3
    body = response.json()
    assert (body["status"], body["error"], body["finished_at"]) == (
        "cancelled",
        "Cancelled by a user.",
        _iso(job.finished_at),
    )
    assert [step["status"] for step in body["steps"]] == ["cancelled"] * 3
    again = client.post(f"/api/v1/jobs/{job.pk}/cancel/", {}, format="json")
    message = f"Run {job.pk} is cancelled; only queued or running runs stop."
    assert (again.status_code, again.json()) == (
        409,
        {"detail": message, "code": "illegal_transition", "errors": {"status": [message]}},
    )
    # the merchant may start again once nothing is active
    assert client.post("/api/v1/jobs/", {}, format="json").status_code == 202


def test_a_viewer_may_not_cancel(shop):
    job = services.pipeline_start(merchant=shop.merchant, queue=False)

    response = shop.client("viewer").post(f"/api/v1/jobs/{job.pk}/cancel/", {}, format="json")

    assert response.status_code == 403
    job.refresh_from_db()
    assert job.status == "queued"


def test_money_and_value_are_decimal_strings(shop, queue):
    ReplenishmentSuggestion.objects.filter(product__sku="Q0000").update(unit_cost=Decimal("1.2345"), quantity=7)
    suggestion = _suggestion(shop.merchant, "Q0000")

    body = shop.client("viewer").get(f"/api/v1/suggestions/{suggestion.pk}/").json()

    assert (body["unit_cost"], body["quantity"], body["value"]) == ("1.2345", 7, "8.6415")
