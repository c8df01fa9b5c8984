"""Malformed, mistyped, unknown, out-of-range, oversized or foreign input: a 4xx naming the field, nothing written."""

import pytest

from inventory.models import Product, SalesOrder, StockMovement, Supplier
from nlp.models import TextDocument


def _snapshot():
    return (
        Product.objects.count(),
        Supplier.objects.count(),
        SalesOrder.objects.count(),
        StockMovement.objects.count(),
        TextDocument.objects.count(),
    )


LINE = {"sku": "MUG-1", "quantity": 1, "unit_price": "5.00"}

BAD_REQUESTS = [
    ("/api/v1/sales-orders/", {"external_id": "X", "lines": [LINE], "priority": "high"}, {"priority"}),
    ("/api/v1/sales-orders/", {"external_id": "X", "lines": [{**LINE, "colour": "red"}]}, {"lines"}),
    ("/api/v1/sales-orders/", {"external_id": "X", "lines": [{**LINE, "quantity": -1}]}, {"lines"}),
    ("/api/v1/sales-orders/", {"external_id": "X", "lines": [{**LINE, "quantity": 10**12}]}, {"lines"}),
    ("/api/v1/sales-orders/", {"external_id": "X", "lines": [{**LINE, "quantity": "two"}]}, {"lines"}),
    ("/api/v1/sales-orders/", {"external_id": "X", "lines": [{**LINE, "unit_price": "-1"}]}, {"lines"}),
    ("/api/v1/sales-orders/", {"external_id": "X", "lines": [{**LINE, "unit_price": "NaN"}]}, {"lines"}),
    ("/api/v1/sales-orders/", {"external_id": "X", "lines": []}, {"lines"}),
    ("/api/v1/sales-orders/", {"external_id": "X", "lines": [LINE] * 501}, {"lines"}),
    ("/api/v1/sales-orders/", {"external_id": ["X"], "lines": [LINE]}, {"external_id"}),
    ("/api/v1/sales-orders/", {"external_id": "X", "lines": [{**LINE, "sku": "NOPE"}]}, {"sku"}),
    ("/api/v1/sales-orders/", [{"external_id": "X", "lines": [LINE]}], {"non_field_errors"}),
    ("/api/v1/stock-adjustments/", {"product": "mug", "quantity": 1}, {"product"}),
    ("/api/v1/stock-adjustments/", {"product": 10**9, "quantity": 1}, {"product"}),
    ("/api/v1/stock-adjustments/", {"product": None, "quantity": 0}, {"product", "quantity"}),
    ("/api/v1/stock-adjustments/", {"product": 1, "quantity": True}, {"product", "quantity"}),
    ("/api/v1/stock-adjustments/", {"quantity": 5, "kind": "sale"}, {"product", "kind"}),
    ("/api/v1/products/", {"sku": "MUG-1", "name": "Dup", "unit_cost": "1", "price": "2"}, {"sku"}),
    ("/api/v1/products/", {"sku": "N", "name": "N", "unit_cost": "1.123456", "price": "2"}, {"unit_cost"}),
    ("/api/v1/products/", {"sku": "N", "name": "N", "unit_cost": "1", "price": "1e30"}, {"price"}),
    ("/api/v1/products/", {"sku": "N", "name": "N", "unit_cost": "1", "price": "2", "moq": 0}, {"moq"}),
    ("/api/v1/products/", {"sku": "N" * 65, "name": "N", "unit_cost": "1", "price": "2", "id": 5}, {"sku"}),
    ("/api/v1/suppliers/", {"name": "S", "lead_time_days": -3, "email": "not-an-email"}, {"lead_time_days", "email"}),
    ("/api/v1/texts/", {"source": "review", "text": "  "}, {"text"}),
    ("/api/v1/texts/", {"source": "tweet", "text": "hi", "stars": 5}, {"source", "stars"}),
    ("/api/v1/texts/", [{"source": "review", "text": "ok"}, {"source": "review"}], {"1"}),
    ("/api/v1/texts/", [], {"non_field_errors"}),
]


@pytest.mark.parametrize(("path", "body", "fields"), BAD_REQUESTS)
def test_bad_body_is_400_naming_the_fields(shop, mug, path, body, fields):
    before = _snapshot()
    response = shop.client("admin").post(path, body, format="json")
    assert response.status_code == 400, response.content
    assert set(response.json()) == fields
    assert _snapshot() == before


def test_unknown_fields_are_named(shop, mug):
    response = shop.client("admin").post(
        "/api/v1/sales-orders/", {"external_id": "X", "lines": [LINE], "priority": 1, "rush": True}, format="json"
    )
    assert response.json() == {"priority": ["Unknown field."], "rush": ["Unknown field."]}


def test_malformed_json_is_400(shop, mug):
    response = shop.client("admin").post("/api/v1/sales-orders/", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error")


def test_wrong_content_type_is_415(shop, mug):
    response = shop.client("admin").post("/api/v1/sales-orders/", "external_id=X", content_type="text/plain")
    assert response.status_code == 415


def test_huge_payload_is_413_and_writes_nothing(shop, mug):
    before = _snapshot()
    huge = {"source": "review", "text": "x" * 3_000_000}
    response = shop.client("admin").post("/api/v1/texts/", huge, format="json")
    assert response.status_code == 413
    assert _snapshot() == before


def test_text_longer_than_the_limit_is_400(shop, mug):
    response = shop.client("admin").post("/api/v1/texts/", {"source": "review", "text": "x" * 100_001}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"text"}


def test_other_merchants_ids_in_a_body_are_field_errors(shop, mug, other_shop):
    foreign = other_shop.merchant.products.get()
    foreign_supplier = foreign.supplier
    client = shop.client("admin")
    adjust = client.post("/api/v1/stock-adjustments/", {"product": foreign.pk, "quantity": 1}, format="json")
    assert adjust.status_code == 400
    assert adjust.json() == {"product": [f'Invalid pk "{foreign.pk}" - object does not exist.']}
    product = client.post(
        "/api/v1/products/",
        {"sku": "N-1", "name": "N", "unit_cost": "1", "price": "2", "supplier": foreign_supplier.pk},
        format="json",
    )
    assert product.status_code == 400
    assert set(product.json()) == {"supplier"}
    order = client.post("/api/v1/sales-orders/", {"external_id": "X", "lines": [{**LINE, "sku": "G-1"}]}, format="json")
    assert order.status_code == 400
    assert order.json() == {"sku": ["Unknown SKU(s) for this merchant: G-1."]}
    assert other_shop.merchant.stock_movements.count() == 0


def test_sku_cannot_change(shop, mug):
    response = shop.client("admin").patch(f"/api/v1/products/{mug.pk}/", {"sku": "MUG-2"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"sku": ["The SKU of a product cannot be changed."]}


@pytest.mark.parametrize(
    "query",
    [
        "page=0",
        "page=abc",
        "page_size=-1",
        "supplier=abc",
        "updated_since=yesterday",
        "ordering=password",
        "is_active=maybe",
    ],
)
def test_bad_query_parameters_never_500(shop, mug, query):
    response = shop.client("viewer").get(f"/api/v1/products/?{query}")
    assert response.status_code in (200, 400, 404), response.content
