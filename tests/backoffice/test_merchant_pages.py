"""Dashboard, products, jobs, settings and purchase orders: what they show, who may act, and forms that keep input."""

import datetime
from decimal import Decimal

import pandas as pd
import pytest
from django.urls import reverse
from django.utils import timezone

from forecasting.models import ForecastOverride, JobRun, PolicySettings, ProductPolicySettings, SupplierBudget
from integrations.models import ApiKey, WebhookEndpoint
from inventory import services
from inventory.models import Membership
from tests.backoffice.queue_data import published_queue
from tests.factories import MembershipFactory, ProductFactory, UserFactory


def url(name: str, **kwargs) -> str:
    return reverse(name, kwargs={"merchant_slug": "acme", **kwargs})


@pytest.fixture
def admin(merchant):
    return MembershipFactory(merchant=merchant, role="admin", user__username="ada").user


def _sell(merchant, product, units_per_day: int, days: int) -> None:
    today = timezone.localdate()
    rows = [
        (f"{product.sku}-{day}", product.sku, f"{today - datetime.timedelta(days=day)}T10:00:00Z", units_per_day, "5")
        for day in range(1, days + 1)
    ]
    frame = pd.DataFrame(rows, columns=["external_id", "sku", "ordered_at", "quantity", "unit_price"])
    services.sales_history_import(merchant=merchant, rows=frame)


@pytest.fixture
def covered(merchant, warehouse):
    """SHORT: 2 a day, 10 in stock, lead time 7 (5 days of cover: at risk); LONG: 1 a day, 100 in stock (not)."""
    short = ProductFactory(merchant=merchant, sku="SHORT", supplier__lead_time_days=7)
    long = ProductFactory(merchant=merchant, sku="LONG", supplier=short.supplier)
    services.stock_adjust(merchant=merchant, product=short, warehouse=warehouse, quantity=10)
    services.stock_adjust(merchant=merchant, product=long, warehouse=warehouse, quantity=100)
    _sell(merchant, short, 2, 28)
    _sell(merchant, long, 1, 28)
    return short, long


def test_products_at_risk_by_days_of_cover_against_lead_time(client, covered, viewer):
    client.force_login(viewer)

    everything = client.get(url("product-list"))
    at_risk = client.get(url("product-list"), {"at_risk": "on"})

    rows = {p.sku: (p.recent_units, p.days_of_cover, p.at_risk) for p in everything.context["page"]}
    assert rows == {"LONG": (28, 100.0, False), "SHORT": (56, 5.0, True)}
    assert [p.sku for p in at_risk.context["page"]] == ["SHORT"]


def test_dashboard_shows_risk_suggested_value_late_orders_and_the_last_run(client, merchant, covered, buyer):
    _short, long = covered
    published_queue(merchant, lines=3, suppliers=1)
    late = services.purchase_order_create(
        merchant=merchant, supplier=long.supplier, lines=[services.PurchaseLineInput(long, 6)]
    )
    services.purchase_order_approve(order=late)
    services.purchase_order_send(order=late, expected_at=timezone.localdate() - datetime.timedelta(days=3))
    client.force_login(buyer)

    response = client.get(url("dashboard"))

    context = response.context
    assert (context["at_risk"].count, [p.sku for p in context["at_risk"].worst]) == (1, ["SHORT"])
    assert [(row.supplier_name, row.lines, row.value) for row in context["suggested"]] == [
        ("Vendor 0", 3, Decimal("90.00"))
    ]
    html = response.content.decode()
    assert "late by 3\xa0days" in html
    assert "Succeeded" in html  # the last run


def test_product_page_shows_chart_policy_texts_and_ledger(client, merchant, covered, viewer):
    short, _long = covered
    from nlp.models import TextDocument

    TextDocument.objects.create(
        merchant=merchant,
        source="review",
        text="Lovely, buying two more",
        written_at=timezone.now(),
        product=short,
        content_hash="h1",
    )
    client.force_login(viewer)

    response = client.get(url("product-detail", product_id=short.pk))

    assert response.status_code == 200
    chart = response.context["chart"]
    assert len(chart.labels) == 182 and chart.sales[-1] == 2.0 and chart.mean == []
    html = response.content.decode()
    assert 'id="chart-data"' in html and "chart.umd.min.js" in html
    assert "Lovely, buying two more" in html and "manual adjustment" not in html
    assert "Set manual forecast" not in html  # a viewer may not


def test_product_page_lists_in_stock_alternatives_most_alike_first(client, merchant, warehouse, viewer):
    mug = ProductFactory(merchant=merchant, sku="MUG-R", name="Red enamel mug", description="")
    blue = ProductFactory(merchant=merchant, sku="MUG-B", name="Blue enamel mug", description="")
    bowl = ProductFactory(merchant=merchant, sku="BOWL", name="Red enamel bowl", description="")
    empty = ProductFactory(merchant=merchant, sku="MUG-G", name="Green enamel mug", description="")
    ProductFactory(merchant=merchant, sku="KNOB", name="Brass door knob", description="")
    for product in (blue, bowl):
        services.stock_adjust(merchant=merchant, product=product, warehouse=warehouse, quantity=5)
    client.force_login(viewer)

    response = client.get(url("product-detail", product_id=mug.pk))

    listed = [alternative.sku for alternative in response.context["alternatives"].alternatives]
    assert listed == ["BOWL", "MUG-B"]  # in stock only (not MUG-G), nothing unlike it (not KNOB)
    assert empty.sku not in response.content.decode()
    assert response.context["coldstart_similar"] is None  # no published cold-start forecast for it


def test_manual_forecast_keeps_input_on_error_and_is_saved(client, product, buyer, viewer):
    client.force_login(buyer)
    bad = {"start_date": "2026-07-10", "end_date": "2026-07-01", "units_per_day": "4.5", "note": "Promotion"}

    refused = client.post(url("product-forecast-override", product_id=product.pk), bad)
    saved = client.post(url("product-forecast-override", product_id=product.pk), {**bad, "end_date": "2026-07-31"})
    client.force_login(viewer)
    forbidden = client.post(url("product-forecast-override", product_id=product.pk), bad)

    html = refused.content.decode()
    assert refused.status_code == 400 and "The end date is before the start date." in html
    assert 'value="4.5"' in html and 'value="Promotion"' in html
    assert saved.status_code == 302 and forbidden.status_code == 403
    override = ForecastOverride.objects.get()
    assert (str(override.start_date), str(override.end_date), override.units_per_day, override.created_by) == (
        "2026-07-10",
        "2026-07-31",
        Decimal("4.500"),
        buyer,
    )


def test_product_policy_settings_are_for_admins(client, product, admin, buyer):
    client.force_login(buyer)
    assert (
        client.post(url("product-policy-settings", product_id=product.pk), {"service_floor": "97"}).status_code == 403
    )
    client.force_login(admin)

    response = client.post(url("product-policy-settings", product_id=product.pk), {"service_floor": "97.5"})

    assert response.status_code == 302
    assert ProductPolicySettings.objects.get(product=product).service_floor == Decimal("0.975")


def test_replay_of_a_suggestion_compares_the_proposed_policy_with_the_current_rule(client, merchant, buyer):
    published_queue(merchant, lines=1, suppliers=1)
    from forecasting.models import ReplenishmentSuggestion

    suggestion = ReplenishmentSuggestion.objects.get()
    suggestion.job.run_date = timezone.localdate()
    suggestion.job.save()
    _sell(merchant, suggestion.product, 3, 120)
    client.force_login(buyer)

    fragment = client.get(url("suggestion-detail", suggestion_id=suggestion.pk), {"fragment": "1"})

    replay = fragment.context["replay"]
    assert (replay.periods, replay.demand) == (90, 270.0)
    assert 0 < replay.proposed.fill_rate <= 1 and 0 < replay.current.fill_rate <= 1
    assert "Current rule" in fragment.content.decode() and "<html" not in fragment.content.decode()


def test_jobs_start_refuses_a_second_run_and_cancels(client, merchant, buyer, viewer):
    client.force_login(viewer)
    assert client.post(url("job-start")).status_code == 403
    client.force_login(buyer)

    first = client.post(url("job-start"))
    second = client.post(url("job-start"), follow=True)
    job = JobRun.objects.get(parent__isnull=True)
    cancelled = client.post(url("job-cancel", job_id=job.pk))

    assert first.status_code == 302 and "already" in second.content.decode()
    job.refresh_from_db()
    assert (cancelled.status_code, job.status, job.requested_by) == (302, "cancelled", buyer)
    page = client.get(url("job-detail", job_id=job.pk)).content.decode()
    assert "Cancelled" in page and "Forecasts and policies" in page


def test_settings_are_for_admins_only(client, merchant, buyer, admin):
    client.force_login(buyer)
    assert client.get(url("settings")).status_code == 403
    client.force_login(admin)
    assert client.get(url("settings")).status_code == 200


# the settings page's planning form, as a browser posts it with the defaults
POLICY_FORM = {
    "holding_rate_per_year": "0.25",
    "shortage_cost_share_of_margin": "1",
    "order_cost": "15",
    "review_period_days": "7",
    "planning_freq": "D",
    "budget": "",
    "pipeline_hour": "2",
}


def test_policy_settings_error_is_next_to_the_field_and_nothing_is_lost(client, merchant, admin):
    client.force_login(admin)
    data = {
        **POLICY_FORM,
        "holding_rate_per_year": "9",
        "shortage_cost_share_of_margin": "1.5",
        "order_cost": "20",
        "pipeline_hour": "3",
        "floor_A": "98",
        "floor_CZ": "80",
    }

    refused = client.post(url("settings"), data)
    saved = client.post(url("settings"), {**data, "holding_rate_per_year": "0.3"})

    html = refused.content.decode()
    assert refused.status_code == 400
    assert 'id="id_holding_rate_per_year-help"' in html or "less than or equal to 5" in html
    assert 'value="98"' in html and 'value="1.5"' in html
    assert saved.status_code == 302
    settings = PolicySettings.objects.get(merchant=merchant)
    assert (settings.holding_rate_per_year, settings.service_floors) == (Decimal("0.300"), {"A": 0.98, "CZ": 0.8})


def test_supplier_lead_time_and_budget(client, merchant, product, admin):
    client.force_login(admin)
    prefix = f"supplier-{product.supplier_id}"

    response = client.post(
        url("settings-supplier", supplier_id=product.supplier_id),
        {
            f"{prefix}-lead_time_days": "12",
            f"{prefix}-lead_time_std_days": "2.5",
            f"{prefix}-min_order_value": "150",
            f"{prefix}-budget": "900",
            f"{prefix}-email": "",
        },
    )

    assert response.status_code == 302
    product.supplier.refresh_from_db()
    assert (product.supplier.lead_time_days, product.supplier.lead_time_std_days) == (12, Decimal("2.50"))
    assert SupplierBudget.objects.get(supplier=product.supplier).amount == Decimal("900.00")


def test_members_keys_and_webhooks(client, merchant, admin, viewer):
    client.force_login(admin)
    UserFactory(username="newbie")
    vera = Membership.objects.get(user=viewer)

    unknown = client.post(url("settings-member-add"), {"username": "nobody", "role": "buyer"})
    added = client.post(url("settings-member-add"), {"username": "newbie", "role": "buyer"})
    promoted = client.post(url("settings-member-role", membership_id=vera.pk), {f"member-{vera.pk}-role": "buyer"})
    issued = client.post(url("settings-api-key-issue"), {"name": "shop sync", "scopes": ["read"]})
    bad_hook = client.post(url("settings-webhook-create"), {"url": "not a url", "events": ["purchase_order.approved"]})
    hook = client.post(
        url("settings-webhook-create"), {"url": "https://shop.example/hook", "events": ["purchase_order.approved"]}
    )

    assert unknown.status_code == 400 and "No user has this name" in unknown.content.decode()
    assert added.status_code == 302 and Membership.objects.get(user__username="newbie").role == "buyer"
    vera.refresh_from_db()
    assert promoted.status_code == 302 and vera.role == "buyer"
    key = ApiKey.objects.get()
    assert issued.status_code == 200 and f"sp_{key.prefix}_" in issued.content.decode()
    assert "sp_" + key.prefix + "_" not in client.get(url("settings")).content.decode()  # shown once
    assert bad_hook.status_code == 400 and "Enter a valid URL." in bad_hook.content.decode()
    assert hook.status_code == 302 and WebhookEndpoint.objects.get().url == "https://shop.example/hook"


def test_late_purchase_orders_filter(client, merchant, product, buyer):
    order = services.purchase_order_create(
        merchant=merchant, supplier=product.supplier, lines=[services.PurchaseLineInput(product, 6)]
    )
    services.purchase_order_approve(order=order)
    services.purchase_order_send(order=order, expected_at=timezone.localdate() - datetime.timedelta(days=2))
    services.purchase_order_create(
        merchant=merchant, supplier=product.supplier, lines=[services.PurchaseLineInput(product, 6)]
    )
    client.force_login(buyer)

    late = client.get(url("purchase-order-list"), {"late": "1"})

    assert [o.pk for o in late.context["page"]] == [order.pk]
    assert "late by 2\xa0days" in late.content.decode()


def test_cost_multipliers_per_class_are_saved_and_shown(client, merchant, admin):
    client.force_login(admin)
    data = {
        **POLICY_FORM,
        "cost_A_shortage_cost": "2",
        "cost_C_holding_cost": "1.5",
        "cost_C_order_cost": "0",
    }

    refused = client.post(url("settings"), {**data, "cost_B_order_cost": "-1"})
    saved = client.post(url("settings"), data)
    page = client.get(url("settings")).content.decode()

    assert refused.status_code == 400
    assert saved.status_code == 302
    assert PolicySettings.objects.get(merchant=merchant).class_cost_factors == {
        "A": {"shortage_cost": 2.0},
        "C": {"holding_cost": 1.5, "order_cost": 0.0},
    }
    assert 'name="cost_C_holding_cost" value="1.5"' in page and 'name="cost_B_holding_cost"' in page
