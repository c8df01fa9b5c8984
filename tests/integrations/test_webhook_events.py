"""The three webhook events, emitted by the inventory services whichever page, API call or service made the change."""

import datetime
import json
from typing import Any

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from forecasting import services as forecasting_services
from forecasting.models import ForecastRun, ProductPolicy
from integrations.models import WebhookDelivery, WebhookEndpoint
from integrations.services import webhook_endpoint_create
from inventory import services
from inventory.models import Membership, Merchant, Product, PurchaseOrder, Warehouse
from tests.api.conftest import key_client
from tests.backoffice.queue_data import published_queue
from tests.factories import ProductFactory, SupplierFactory

APPROVED = "purchase_order.approved"
BELOW = "product.below_reorder_point"
BACK_IN_STOCK = "product.back_in_stock_date_changed"


class Rollback(Exception):
    pass


@pytest.fixture
def endpoint(merchant: Merchant) -> WebhookEndpoint:
    return webhook_endpoint_create(
        merchant=merchant, url="https://erp.example/hooks", events=[APPROVED, BELOW, BACK_IN_STOCK]
    )


def _payloads(event: str) -> list[dict[str, Any]]:
    return list(WebhookDelivery.objects.filter(event=event).order_by("pk").values_list("payload", flat=True))


def _json(value: object) -> Any:
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


# purchase_order.approved


@pytest.fixture
def draft(merchant: Merchant) -> PurchaseOrder:
    """The suggested draft order of a published run: Q0000 and Q0001, 12 each at 2.50, from Vendor 0."""
    (order,) = published_queue(merchant, lines=2, suppliers=1)
    return order


def _approved_payload(order: PurchaseOrder) -> dict[str, Any]:
    order.refresh_from_db()
    lines = sorted(order.lines.values_list("pk", "product__sku"))
    return {
        "purchase_order": {
            "id": order.pk,
            "status": "approved",
            "supplier": {"id": order.supplier_id, "name": "Vendor 0"},
            "warehouse": {"id": order.warehouse_id, "code": "MAIN"},
            "approved_at": _json(order.approved_at),
            "total_value": "60.0000",
            "lines": [{"sku": sku, "quantity": 12, "unit_cost": "2.5000"} for _pk, sku in lines],
        }
    }


def test_api_approve_announces_once(merchant, buyer, endpoint, draft, django_capture_on_commit_callbacks):
    client = key_client(Membership.objects.get(user=buyer, merchant=merchant))

    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(f"/api/v1/purchase-orders/{draft.pk}/approve/", {}, format="json")

    assert response.status_code == 200
    assert _payloads(APPROVED) == [_approved_payload(draft)]
    assert len(callbacks) == 1  # the send is queued for after commit


@pytest.mark.parametrize("page", ["suggestion-order-approve", "purchase-order-action"])
def test_page_approve_announces_once(client, merchant, buyer, endpoint, draft, page):
    kwargs = {"merchant_slug": "acme", "order_id": draft.pk}
    if page == "purchase-order-action":
        kwargs["action"] = "approve"
    client.force_login(buyer)

    response = client.post(reverse(page, kwargs=kwargs))

    assert response.status_code == 302
    assert _payloads(APPROVED) == [_approved_payload(draft)]


def test_suggestions_order_approve_announces_once(merchant, buyer, endpoint, draft):
    forecasting_services.suggestions_order_approve(merchant=merchant, order=draft, user=buyer)

    assert _payloads(APPROVED) == [_approved_payload(draft)]


def test_approve_announces_nothing_without_a_subscribed_active_endpoint(merchant, draft):
    webhook_endpoint_create(merchant=merchant, url="https://a.example/h", events=[BELOW])
    webhook_endpoint_create(merchant=merchant, url="https://b.example/h", events=[APPROVED], is_active=False)

    services.purchase_order_approve(order=draft)

    assert WebhookDelivery.objects.count() == 0


def test_a_rolled_back_approval_announces_nothing(merchant, endpoint, draft, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(Rollback), transaction.atomic():
        services.purchase_order_approve(order=draft)
        assert len(_payloads(APPROVED)) == 1
        raise Rollback

    assert WebhookDelivery.objects.count() == 0
    assert callbacks == []


# product.below_reorder_point (the published run gives Q0000 and Q0001 s = 10, S = 22)


@pytest.fixture
def mug(merchant: Merchant, warehouse: Warehouse, draft: PurchaseOrder) -> Product:
    """Q0000 with 15 on hand: position 15, above its reorder point of 10."""
    product = Product.objects.get(merchant=merchant, sku="Q0000")
    services.stock_adjust(merchant=merchant, product=product, warehouse=warehouse, quantity=15)
    return product


def _sell(merchant: Merchant, external_id: str, **units: int) -> None:
    services.sales_order_record(
        merchant=merchant,
        external_id=external_id,
        lines=[services.SalesLineInput(sku, quantity, "6.00") for sku, quantity in units.items()],
    )


def _below(product: Product, position: int, previous: int) -> dict[str, Any]:
    return {
        "product": {"id": product.pk, "sku": product.sku},
        "position": position,
        "previous_position": previous,
        "reorder_point": 10.0,
        "order_up_to": 22.0,
    }


def test_a_sale_that_crosses_the_reorder_point_announces_once_and_the_next_sales_do_not(merchant, endpoint, mug):
    _sell(merchant, "WEB-1", Q0000=3)  # 15 → 12: still above
    assert _payloads(BELOW) == []

    _sell(merchant, "WEB-2", Q0000=2)  # 12 → 10: at the reorder point
    _sell(merchant, "WEB-3", Q0000=1)  # 10 → 9: still below
    _sell(merchant, "WEB-2", Q0000=2)  # a repeat of WEB-2 takes no stock

    assert _payloads(BELOW) == [_below(mug, 10, 12)]


def test_back_above_then_below_again_is_a_second_crossing(merchant, warehouse, endpoint, mug):
    _sell(merchant, "WEB-1", Q0000=6)  # 15 → 9
    services.stock_adjust(merchant=merchant, product=mug, warehouse=warehouse, quantity=5)  # 9 → 14
    _sell(merchant, "WEB-2", Q0000=4)  # 14 → 10

    assert _payloads(BELOW) == [_below(mug, 9, 15), _below(mug, 10, 14)]


def _adjust(merchant: Merchant, product: Product, warehouse: Warehouse) -> None:
    services.stock_adjust(merchant=merchant, product=product, warehouse=warehouse, quantity=-6)


def _set(merchant: Merchant, product: Product, warehouse: Warehouse) -> None:
    services.stock_set(merchant=merchant, product=product, warehouse=warehouse, on_hand=9)


def _set_many(merchant: Merchant, product: Product, warehouse: Warehouse) -> None:
    services.stock_set_many(merchant=merchant, counts=[services.StockCount(product, warehouse, 9)])


def _allocate(merchant: Merchant, product: Product, warehouse: Warehouse) -> None:
    services.stock_allocate(merchant=merchant, product=product, warehouse=warehouse, quantity=6)


def _sale(merchant: Merchant, product: Product, warehouse: Warehouse) -> None:
    _sell(merchant, "WEB-1", Q0000=6)


@pytest.mark.parametrize("change", [_sale, _adjust, _set, _set_many, _allocate])
def test_every_stock_change_that_crosses_announces(merchant, warehouse, endpoint, mug, change):
    change(merchant, mug, warehouse)

    assert _payloads(BELOW) == [_below(mug, 9, 15)]


def test_a_sale_of_two_products_announces_each_that_crosses(merchant, warehouse, endpoint, mug):
    other = Product.objects.get(merchant=merchant, sku="Q0001")
    services.stock_adjust(merchant=merchant, product=other, warehouse=warehouse, quantity=11)

    _sell(merchant, "WEB-1", Q0000=5, Q0001=1)  # 15 → 10 and 11 → 10

    assert _payloads(BELOW) == [_below(mug, 10, 15), _below(other, 10, 11)]


def test_cancelling_an_approved_order_takes_its_units_off_the_position(merchant, warehouse, endpoint, draft):
    product = Product.objects.get(merchant=merchant, sku="Q0000")
    services.stock_adjust(merchant=merchant, product=product, warehouse=warehouse, quantity=5)
    other = Product.objects.get(merchant=merchant, sku="Q0001")
    services.purchase_order_approve(order=draft)  # Q0000: 5 + 12 on order = 17; Q0001: 0 + 12
    services.purchase_order_cancel(order=draft, reason="supplier closed")  # 17 → 5 and 12 → 0

    assert _payloads(BELOW) == [_below(product, 5, 17), _below(other, 0, 12)]


def test_a_transfer_does_not_move_the_position(merchant, warehouse, endpoint, mug):
    second = services.warehouse_create(merchant=merchant, code="EAST", name="East")

    services.stock_transfer(merchant=merchant, product=mug, source=warehouse, destination=second, quantity=10)

    assert _payloads(BELOW) == []


def test_receiving_does_not_move_the_position(merchant, warehouse, endpoint, draft):
    product = Product.objects.get(merchant=merchant, sku="Q0000")
    services.stock_adjust(merchant=merchant, product=product, warehouse=warehouse, quantity=11)
    services.purchase_order_approve(order=draft)  # 11 + 12 = 23
    services.purchase_order_send(order=draft, expected_at=datetime.date(2030, 7, 1))
    services.purchase_order_receive(order=draft)  # 23 on hand, 0 on order
    _sell(merchant, "WEB-1", Q0000=13)  # 23 → 10

    assert _payloads(BELOW) == [_below(product, 10, 23)]


def test_nothing_without_a_published_run(merchant, endpoint, mug):
    ForecastRun.objects.filter(merchant=merchant).update(is_published=False)

    _sell(merchant, "WEB-1", Q0000=6)

    assert _payloads(BELOW) == []


def test_nothing_for_a_product_the_policy_does_not_reorder(merchant, endpoint, mug):
    ProductPolicy.objects.filter(product=mug).update(reorder_point=-1.0)

    _sell(merchant, "WEB-1", Q0000=15)

    assert _payloads(BELOW) == []


def test_without_a_subscribed_endpoint_the_reorder_points_are_not_even_read(merchant, mug, monkeypatch):
    webhook_endpoint_create(merchant=merchant, url="https://a.example/h", events=[APPROVED])

    def unexpected(**kwargs: object) -> None:
        raise AssertionError("reorder points read with no endpoint subscribed")

    monkeypatch.setattr("integrations.events.reorder_points_published", unexpected)

    _sell(merchant, "WEB-1", Q0000=6)

    assert WebhookDelivery.objects.count() == 0


def test_a_sale_reads_the_reorder_points_in_one_query(merchant, endpoint, mug):
    with CaptureQueriesContext(connection) as queries:
        _sell(merchant, "WEB-1", Q0000=1)

    assert sum('"forecasting_productpolicy"' in query["sql"] for query in queries.captured_queries) == 1
    assert _payloads(BELOW) == []


def test_a_rolled_back_sale_announces_nothing(merchant, endpoint, mug, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(Rollback), transaction.atomic():
        _sell(merchant, "WEB-1", Q0000=6)
        assert len(_payloads(BELOW)) == 1
        raise Rollback

    assert _payloads(BELOW) == []
    assert callbacks == []


# product.back_in_stock_date_changed


@pytest.fixture
def teapot(merchant: Merchant) -> Product:
    """Out of stock, from a supplier with a 10-day lead time."""
    return ProductFactory(
        merchant=merchant, sku="POT-1", supplier=SupplierFactory(merchant=merchant, name="Pots", lead_time_days=10)
    )


def _approved(merchant: Merchant, product: Product, quantity: int = 10) -> PurchaseOrder:
    order = services.purchase_order_create(
        merchant=merchant, supplier=product.supplier, lines=[services.PurchaseLineInput(product, quantity)]
    )
    return services.purchase_order_approve(order=order)


def _back(product: Product, previous: str | None, date: str | None) -> dict[str, Any]:
    return {
        "product": {"id": product.pk, "sku": product.sku},
        "previous_back_in_stock_date": previous,
        "back_in_stock_date": date,
    }


def test_sending_then_cancelling_the_only_order_announces_the_date_then_null(merchant, endpoint, teapot):
    order = _approved(merchant, teapot)
    assert _payloads(BACK_IN_STOCK) == []  # approved orders have no date yet

    services.purchase_order_send(order=order, expected_at=datetime.date(2030, 7, 10))
    services.purchase_order_cancel(order=order, reason="late")

    assert _payloads(BACK_IN_STOCK) == [_back(teapot, None, "2030-07-10"), _back(teapot, "2030-07-10", None)]


def test_only_a_change_of_the_earliest_date_is_announced(merchant, endpoint, teapot):
    first, second, third = (_approved(merchant, teapot) for _ in range(3))
    services.purchase_order_send(order=first, expected_at=datetime.date(2030, 7, 10))
    services.purchase_order_send(order=second, expected_at=datetime.date(2030, 7, 1))  # earlier: announced
    services.purchase_order_send(order=third, expected_at=datetime.date(2030, 7, 20))  # later: not announced
    services.purchase_order_cancel(order=third)  # not the earliest: not announced
    services.purchase_order_cancel(order=second)  # back to the first's date

    assert _payloads(BACK_IN_STOCK) == [
        _back(teapot, None, "2030-07-10"),
        _back(teapot, "2030-07-10", "2030-07-01"),
        _back(teapot, "2030-07-01", "2030-07-10"),
    ]


def test_nothing_for_a_product_in_stock(merchant, warehouse, endpoint, teapot):
    services.stock_adjust(merchant=merchant, product=teapot, warehouse=warehouse, quantity=1)
    order = _approved(merchant, teapot)

    services.purchase_order_send(order=order, expected_at=datetime.date(2030, 7, 10))

    assert _payloads(BACK_IN_STOCK) == []


def test_allocated_stock_is_not_available(merchant, warehouse, endpoint, teapot):
    services.stock_adjust(merchant=merchant, product=teapot, warehouse=warehouse, quantity=2)
    services.stock_allocate(merchant=merchant, product=teapot, warehouse=warehouse, quantity=2)
    order = _approved(merchant, teapot)

    services.purchase_order_send(order=order, expected_at=datetime.date(2030, 7, 10))

    assert _payloads(BACK_IN_STOCK) == [_back(teapot, None, "2030-07-10")]


def test_receiving_in_part_keeps_the_date_and_in_full_brings_stock(merchant, endpoint, teapot):
    order = _approved(merchant, teapot)
    services.purchase_order_send(order=order, expected_at=datetime.date(2030, 7, 10))
    (line,) = order.lines.all()

    services.purchase_order_receive(order=order, quantities={line.pk: 4})
    services.purchase_order_receive(order=order)

    assert _payloads(BACK_IN_STOCK) == [_back(teapot, None, "2030-07-10")]


def test_api_send_announces_once(merchant, buyer, endpoint, teapot):
    order = _approved(merchant, teapot)
    client = key_client(Membership.objects.get(user=buyer, merchant=merchant))

    response = client.post(f"/api/v1/purchase-orders/{order.pk}/send/", {"expected_at": "2030-07-10"}, format="json")

    assert response.status_code == 200
    assert _payloads(BACK_IN_STOCK) == [_back(teapot, None, "2030-07-10")]


@pytest.mark.parametrize("action", ["send", "cancel"])
def test_page_send_and_cancel_announce(client, merchant, buyer, endpoint, teapot, action):
    order = _approved(merchant, teapot)
    if action == "cancel":
        services.purchase_order_send(order=order, expected_at=datetime.date(2030, 7, 10))
    client.force_login(buyer)

    response = client.post(
        reverse("purchase-order-action", kwargs={"merchant_slug": "acme", "order_id": order.pk, "action": action})
    )

    assert response.status_code == 302
    order.refresh_from_db()
    expected = {
        "send": [_back(teapot, None, _json(order.expected_at))],
        "cancel": [_back(teapot, None, "2030-07-10"), _back(teapot, "2030-07-10", None)],
    }[action]
    assert _payloads(BACK_IN_STOCK) == expected


def test_nothing_without_a_subscribed_endpoint(merchant, teapot):
    webhook_endpoint_create(merchant=merchant, url="https://a.example/h", events=[BELOW])
    order = _approved(merchant, teapot)

    services.purchase_order_send(order=order, expected_at=datetime.date(2030, 7, 10))

    assert WebhookDelivery.objects.count() == 0


def test_a_rolled_back_send_announces_nothing(merchant, endpoint, teapot, django_capture_on_commit_callbacks):
    order = _approved(merchant, teapot)

    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(Rollback), transaction.atomic():
        services.purchase_order_send(order=order, expected_at=datetime.date(2030, 7, 10))
        assert len(_payloads(BACK_IN_STOCK)) == 1
        raise Rollback

    assert _payloads(BACK_IN_STOCK) == []
    assert callbacks == []
