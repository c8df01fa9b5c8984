"""Every endpoint × {anonymous, member of another merchant, viewer, buyer, admin}: the exact status.

The other merchant's member is an admin there, so only the merchant boundary stops them: ids of
acme's objects in the URL are 404 for them, ids in a body are field errors (400). A refused
request (any 4xx) writes nothing.
"""

import datetime
import io
from dataclasses import dataclass
from typing import Any

import pytest
from rest_framework.test import APIClient

from forecasting.models import ForecastRun, JobRun, ProductForecast, ReplenishmentSuggestion
from forecasting.services import pipeline_start
from integrations.models import ApiKey, ImportJob, WebhookDelivery, WebhookEndpoint
from integrations.services import csv_import_run, webhook_endpoint_create
from inventory import services
from inventory.models import (
    Product,
    PurchaseOrder,
    PurchaseOrderEvent,
    SalesOrder,
    StockMovement,
    Supplier,
    Warehouse,
)
from inventory.selectors import stock_ledger_mismatches
from nlp.models import TextDocument
from nlp.services import TextInput, texts_create
from tests.api.conftest import key_client
from tests.backoffice.queue_data import published_queue

ROLES = ["anonymous", "outsider", "viewer", "buyer", "admin"]


@dataclass
class World:
    objects: dict[str, Any]
    clients: dict[str, APIClient]
    credentials: dict[str, dict[str, str]]


@pytest.fixture
def world(shop, mug, other_shop) -> World:
    merchant = shop.merchant
    warehouse = merchant.warehouses.get()
    orders = {}
    for state in ("draft", "approved", "sent"):
        order = services.purchase_order_create(
            merchant=merchant, supplier=mug.supplier, lines=[services.PurchaseLineInput(mug, 5)]
        )
        if state in ("approved", "sent"):
            services.purchase_order_approve(order=order)
        if state == "sent":
            services.purchase_order_send(order=order)
        orders[state] = order
    sale, _ = services.sales_order_record(
        merchant=merchant, external_id="S-1", lines=[services.SalesLineInput("MUG-1", 1, "5.00")]
    )
    (text,) = texts_create(merchant=merchant, texts=[TextInput(source="review", text="Lovely mug", sku="MUG-1")])
    job = csv_import_run(merchant=merchant, kind="stock", source=io.BytesIO(b"sku,on_hand\nMUG-1,19\n")).job
    endpoint = webhook_endpoint_create(
        merchant=merchant, url="http://127.0.0.1:9/hook", events=["purchase_order.approved"]
    )
    # a published pipeline run (finished: none is active) with open suggestions of Q0000 and Q0001
    published_queue(merchant, lines=2, suppliers=1)
    suggestion = ReplenishmentSuggestion.objects.get(merchant=merchant, product__sku="Q0000")
    forecast = ProductForecast.objects.create(
        run=ForecastRun.objects.get(merchant=merchant, is_published=True),
        product=suggestion.product,
        start_date=datetime.date(2026, 6, 1),
        mean=[1.0, 2.0],
        quantiles={"p10": [0.0, 1.0], "p90": [2.0, 3.0]},
        method="ets",
        segment="smooth",
    )
    clients = {"anonymous": APIClient(), "outsider": key_client(other_shop.admin)}
    for role in ("viewer", "buyer", "admin"):
        clients[role] = shop.client(role)
    credentials = {
        "anonymous": {"username": "nobody", "password": "wrong"},
        "outsider": {"username": "otto", "password": "secret-pass"},
        "viewer": {"username": "vera", "password": "secret-pass"},
        "buyer": {"username": "bob", "password": "secret-pass"},
        "admin": {"username": "ada", "password": "secret-pass"},
    }
    return World(
        objects={
            "product": mug,
            "supplier": mug.supplier,
            "warehouse": warehouse,
            "level": mug.stock_levels.get(),
            "sale": sale,
            "text": text,
            "job": job,
            "endpoint": endpoint,
            "suggestion": suggestion,
            "forecast": forecast,
            "pipeline": suggestion.job,
            **{f"po_{state}": order for state, order in orders.items()},
        },
        clients=clients,
        credentials=credentials,
    )


def _product_body(o):
    return {"sku": "NEW-1", "name": "New", "unit_cost": "1.25", "price": "3.00"}


def _csv(o):
    return {"kind": "products", "file": io.BytesIO(b"sku,name,unit_cost,price\nCSV-1,From CSV,1.00,2.00\n")}


def _active_run_cancel(o):
    """A queued run made just before the call: the world has none, so that starting one succeeds."""
    job = pipeline_start(merchant=o["product"].merchant, queue=False)
    return f"/api/v1/jobs/{job.pk}/cancel/"


# (name, method, path, body, {role: status}); statuses in ROLES order. A path or body may make what it needs.
CASES = [
    ("products list", "get", lambda o: "/api/v1/products/", None, [401, 200, 200, 200, 200]),
    ("products create", "post", lambda o: "/api/v1/products/", _product_body, [401, 201, 403, 403, 201]),
    ("products retrieve", "get", lambda o: f"/api/v1/products/{o['product'].pk}/", None, [401, 404, 200, 200, 200]),
    (
        "products patch",
        "patch",
        lambda o: f"/api/v1/products/{o['product'].pk}/",
        lambda o: {"price": "6.50"},
        [401, 404, 403, 403, 200],
    ),
    (
        "products put",
        "put",
        lambda o: f"/api/v1/products/{o['product'].pk}/",
        lambda o: {"sku": "MUG-1", "name": "Big mug", "unit_cost": "2.00", "price": "6.00"},
        [401, 404, 403, 403, 200],
    ),
    ("suppliers list", "get", lambda o: "/api/v1/suppliers/", None, [401, 200, 200, 200, 200]),
    (
        "suppliers create",
        "post",
        lambda o: "/api/v1/suppliers/",
        lambda o: {"name": "Cups Co", "lead_time_days": 5},
        [401, 201, 403, 403, 201],
    ),
    ("suppliers retrieve", "get", lambda o: f"/api/v1/suppliers/{o['supplier'].pk}/", None, [401, 404, 200, 200, 200]),
    (
        "suppliers patch",
        "patch",
        lambda o: f"/api/v1/suppliers/{o['supplier'].pk}/",
        lambda o: {"lead_time_days": 12},
        [401, 404, 403, 403, 200],
    ),
    (
        "suppliers put",
        "put",
        lambda o: f"/api/v1/suppliers/{o['supplier'].pk}/",
        lambda o: {"name": "Mugs Ltd", "lead_time_days": 12, "min_order_value": "100.00"},
        [401, 404, 403, 403, 200],
    ),
    ("warehouses list", "get", lambda o: "/api/v1/warehouses/", None, [401, 200, 200, 200, 200]),
    (
        "warehouses create",
        "post",
        lambda o: "/api/v1/warehouses/",
        lambda o: {"code": "EAST", "name": "East"},
        [401, 201, 403, 403, 201],
    ),
    (
        "warehouses retrieve",
        "get",
        lambda o: f"/api/v1/warehouses/{o['warehouse'].pk}/",
        None,
        [401, 404, 200, 200, 200],
    ),
    (
        "warehouses patch",
        "patch",
        lambda o: f"/api/v1/warehouses/{o['warehouse'].pk}/",
        lambda o: {"name": "Main hall"},
        [401, 404, 403, 403, 200],
    ),
    (
        "warehouses put",
        "put",
        lambda o: f"/api/v1/warehouses/{o['warehouse'].pk}/",
        lambda o: {"code": "MAIN", "name": "Main hall"},
        [401, 404, 403, 403, 200],
    ),
    ("stock levels list", "get", lambda o: "/api/v1/stock-levels/", None, [401, 200, 200, 200, 200]),
    (
        "stock levels retrieve",
        "get",
        lambda o: f"/api/v1/stock-levels/{o['level'].pk}/",
        None,
        [401, 404, 200, 200, 200],
    ),
    (
        "stock adjustment",
        "post",
        lambda o: "/api/v1/stock-adjustments/",
        lambda o: {"product": o["product"].pk, "quantity": -2, "note": "breakage"},
        [401, 400, 403, 201, 201],
    ),
    ("sales orders list", "get", lambda o: "/api/v1/sales-orders/", None, [401, 200, 200, 200, 200]),
    (
        "sales orders retrieve",
        "get",
        lambda o: f"/api/v1/sales-orders/{o['sale'].pk}/",
        None,
        [401, 404, 200, 200, 200],
    ),
    (
        "sales order push",
        "post",
        lambda o: "/api/v1/sales-orders/",
        lambda o: {"external_id": "S-2", "lines": [{"sku": "MUG-1", "quantity": 2, "unit_price": "5.00"}]},
        [401, 400, 403, 201, 201],
    ),
    (
        "sales order cancel",
        "post",
        lambda o: f"/api/v1/sales-orders/{o['sale'].pk}/cancel/",
        lambda o: {"reason": "customer cancelled"},
        [401, 404, 403, 200, 200],
    ),
    ("purchase orders list", "get", lambda o: "/api/v1/purchase-orders/", None, [401, 200, 200, 200, 200]),
    (
        "purchase orders retrieve",
        "get",
        lambda o: f"/api/v1/purchase-orders/{o['po_draft'].pk}/",
        None,
        [401, 404, 200, 200, 200],
    ),
    (
        "purchase order approve",
        "post",
        lambda o: f"/api/v1/purchase-orders/{o['po_draft'].pk}/approve/",
        lambda o: {},
        [401, 404, 403, 200, 200],
    ),
    (
        "purchase order send",
        "post",
        lambda o: f"/api/v1/purchase-orders/{o['po_approved'].pk}/send/",
        lambda o: {"expected_at": "2030-01-31"},
        [401, 404, 403, 200, 200],
    ),
    (
        "purchase order receive",
        "post",
        lambda o: f"/api/v1/purchase-orders/{o['po_sent'].pk}/receive/",
        lambda o: {"lines": [{"line": o["po_sent"].lines.get().pk, "quantity": 2}]},
        [401, 404, 403, 200, 200],
    ),
    (
        "purchase order cancel",
        "post",
        lambda o: f"/api/v1/purchase-orders/{o['po_draft'].pk}/cancel/",
        lambda o: {"reason": "not needed"},
        [401, 404, 403, 200, 200],
    ),
    ("texts list", "get", lambda o: "/api/v1/texts/", None, [401, 200, 200, 200, 200]),
    ("texts retrieve", "get", lambda o: f"/api/v1/texts/{o['text'].pk}/", None, [401, 404, 200, 200, 200]),
    (
        "texts create",
        "post",
        lambda o: "/api/v1/texts/",
        lambda o: [{"source": "message", "text": "When is the mug back?", "sku": "MUG-1"}],
        [401, 201, 403, 201, 201],
    ),
    ("imports list", "get", lambda o: "/api/v1/imports/", None, [401, 200, 200, 200, 200]),
    ("imports retrieve", "get", lambda o: f"/api/v1/imports/{o['job'].pk}/", None, [401, 404, 200, 200, 200]),
    ("imports create", "multipart", lambda o: "/api/v1/imports/", _csv, [401, 201, 403, 403, 201]),
    ("webhooks list", "get", lambda o: "/api/v1/webhooks/", None, [401, 200, 403, 403, 200]),
    (
        "webhooks create",
        "post",
        lambda o: "/api/v1/webhooks/",
        lambda o: {"url": "https://erp.example/hooks", "events": ["product.below_reorder_point"]},
        [401, 201, 403, 403, 201],
    ),
    ("webhooks retrieve", "get", lambda o: f"/api/v1/webhooks/{o['endpoint'].pk}/", None, [401, 404, 403, 403, 200]),
    (
        "webhooks patch",
        "patch",
        lambda o: f"/api/v1/webhooks/{o['endpoint'].pk}/",
        lambda o: {"is_active": False},
        [401, 404, 403, 403, 200],
    ),
    (
        "webhooks put",
        "put",
        lambda o: f"/api/v1/webhooks/{o['endpoint'].pk}/",
        lambda o: {"url": "https://erp.example/h2", "events": ["purchase_order.approved"]},
        [401, 404, 403, 403, 200],
    ),
    ("webhooks delete", "delete", lambda o: f"/api/v1/webhooks/{o['endpoint'].pk}/", None, [401, 404, 403, 403, 204]),
    (
        "webhook deliveries",
        "get",
        lambda o: f"/api/v1/webhooks/{o['endpoint'].pk}/deliveries/",
        None,
        [401, 404, 403, 403, 200],
    ),
    ("forecasts list", "get", lambda o: "/api/v1/forecasts/", None, [401, 200, 200, 200, 200]),
    ("forecasts retrieve", "get", lambda o: f"/api/v1/forecasts/{o['forecast'].pk}/", None, [401, 404, 200, 200, 200]),
    ("suggestions list", "get", lambda o: "/api/v1/suggestions/", None, [401, 200, 200, 200, 200]),
    (
        "suggestions retrieve",
        "get",
        lambda o: f"/api/v1/suggestions/{o['suggestion'].pk}/",
        None,
        [401, 404, 200, 200, 200],
    ),
    (
        "suggestion approve",
        "post",
        lambda o: f"/api/v1/suggestions/{o['suggestion'].pk}/approve/",
        lambda o: {},
        [401, 404, 403, 200, 200],
    ),
    (
        "suggestion reject",
        "post",
        lambda o: f"/api/v1/suggestions/{o['suggestion'].pk}/reject/",
        lambda o: {"reason": "Discontinued"},
        [401, 404, 403, 200, 200],
    ),
    (
        "suggestion quantity",
        "post",
        lambda o: f"/api/v1/suggestions/{o['suggestion'].pk}/quantity/",
        lambda o: {"quantity": 18},
        [401, 404, 403, 200, 200],
    ),
    ("jobs list", "get", lambda o: "/api/v1/jobs/", None, [401, 200, 200, 200, 200]),
    ("jobs retrieve", "get", lambda o: f"/api/v1/jobs/{o['pipeline'].pk}/", None, [401, 404, 200, 200, 200]),
    ("jobs start", "post", lambda o: "/api/v1/jobs/", lambda o: {}, [401, 202, 403, 202, 202]),
    ("jobs cancel", "post", _active_run_cancel, lambda o: {}, [401, 404, 403, 200, 200]),
    ("token revoke", "delete", lambda o: "/api/v1/auth/token/", None, [401, 204, 204, 204, 204]),
]

WRITTEN = [
    Product,
    Supplier,
    Warehouse,
    StockMovement,
    SalesOrder,
    PurchaseOrderEvent,
    TextDocument,
    ImportJob,
    WebhookEndpoint,
    WebhookDelivery,
    ApiKey,
    JobRun,
]


def _counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in WRITTEN}


def _call(client: APIClient, method: str, path: str, body: Any):
    if method == "multipart":
        return client.post(path, body, format="multipart")
    if body is None:
        return getattr(client, method)(path)
    return getattr(client, method)(path, body, format="json")


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("name", "method", "path", "body", "expected"), CASES, ids=[case[0] for case in CASES])
def test_endpoint_status_by_role(world, role, name, method, path, body, expected):
    # given
    client = world.clients[role]
    url, payload = path(world.objects), body(world.objects) if body else None
    before = _counts()
    # when
    response = _call(client, method, url, payload)
    # then
    assert response.status_code == expected[ROLES.index(role)], response.content
    if response.status_code >= 400:
        assert _counts() == before
    assert stock_ledger_mismatches(merchant=world.objects["product"].merchant) == []


@pytest.mark.parametrize(("role", "expected"), list(zip(ROLES, [400, 201, 201, 201, 201], strict=True)))
def test_token_by_role(world, role, expected):
    before = ApiKey.objects.count()
    response = APIClient().post("/api/v1/auth/token/", world.credentials[role], format="json")
    assert response.status_code == expected, response.content
    assert ApiKey.objects.count() == before + (1 if expected == 201 else 0)


def test_cross_merchant_object_ids_are_404_on_every_detail_route(world, other_shop):
    """The other merchant's admin gets 404 for every acme object, whatever the method."""
    client = world.clients["outsider"]
    o = world.objects
    paths = [
        f"/api/v1/products/{o['product'].pk}/",
        f"/api/v1/suppliers/{o['supplier'].pk}/",
        f"/api/v1/warehouses/{o['warehouse'].pk}/",
        f"/api/v1/stock-levels/{o['level'].pk}/",
        f"/api/v1/sales-orders/{o['sale'].pk}/",
        f"/api/v1/purchase-orders/{o['po_draft'].pk}/",
        f"/api/v1/texts/{o['text'].pk}/",
        f"/api/v1/imports/{o['job'].pk}/",
        f"/api/v1/webhooks/{o['endpoint'].pk}/",
        f"/api/v1/webhooks/{o['endpoint'].pk}/deliveries/",
        f"/api/v1/forecasts/{o['forecast'].pk}/",
        f"/api/v1/suggestions/{o['suggestion'].pk}/",
        f"/api/v1/jobs/{o['pipeline'].pk}/",
    ]
    for path in paths:
        assert client.get(path).status_code == 404, path
    assert PurchaseOrder.objects.get(pk=o["po_draft"].pk).status == "draft"
