"""Sales-order pushes (idempotency, oversell) and the purchase-order state machine over the API."""

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from integrations.models import IdempotencyRecord
from inventory.models import PurchaseOrder, SalesOrder, StockLevel, StockMovement
from inventory.selectors import stock_ledger_mismatches
from inventory.services import PurchaseLineInput, purchase_order_create

ORDER = {"external_id": "WEB-100", "lines": [{"sku": "MUG-1", "quantity": 3, "unit_price": "5.00"}]}


def _on_hand(product) -> int:
    return StockLevel.objects.get(product=product).on_hand


def test_push_takes_stock_once_and_a_repeat_returns_the_first_order(shop, mug):
    client = shop.client("buyer")
    first = client.post("/api/v1/sales-orders/", ORDER, format="json")
    repeat = client.post("/api/v1/sales-orders/", ORDER, format="json")
    assert first.status_code == 201
    assert first.json()["lines"] == [
        {"id": first.json()["lines"][0]["id"], "product": mug.pk, "sku": "MUG-1", "quantity": 3, "unit_price": "5.00"}
    ]
    assert repeat.status_code == 200
    assert repeat.json()["id"] == first.json()["id"]
    assert _on_hand(mug) == 17
    assert stock_ledger_mismatches(merchant=shop.merchant) == []


def test_cancelling_an_order_returns_its_stock_once(shop, mug):
    client = shop.client("buyer")
    order = client.post("/api/v1/sales-orders/", ORDER, format="json").json()

    first = client.post(f"/api/v1/sales-orders/{order['id']}/cancel/", {"reason": "fraud check"}, format="json")
    again = client.post(f"/api/v1/sales-orders/{order['id']}/cancel/", {}, format="json")

    assert (first.status_code, again.status_code) == (200, 200)
    assert first.json()["cancel_reason"] == "fraud check" and first.json()["cancelled_at"] is not None
    assert again.json() == first.json()
    assert _on_hand(mug) == 20
    assert list(StockMovement.objects.filter(kind="return").values_list("quantity", flat=True)) == [3]
    client.post("/api/v1/sales-orders/", {**ORDER, "external_id": "WEB-101"}, format="json")
    listed = {
        flag: [row["external_id"] for row in client.get(f"/api/v1/sales-orders/?cancelled={flag}").json()["results"]]
        for flag in ("true", "false")
    }
    assert listed == {"true": ["WEB-100"], "false": ["WEB-101"]}
    assert stock_ledger_mismatches(merchant=shop.merchant) == []


def test_cancel_with_an_unknown_field_is_400_and_changes_nothing(shop, mug):
    client = shop.client("buyer")
    order = client.post("/api/v1/sales-orders/", ORDER, format="json").json()

    response = client.post(f"/api/v1/sales-orders/{order['id']}/cancel/", {"why": "x"}, format="json")

    assert response.status_code == 400
    assert set(response.json()) == {"why"}
    assert (SalesOrder.objects.get().cancelled_at, _on_hand(mug)) == (None, 17)


def test_idempotency_key_replays_the_first_response(shop, mug):
    client = shop.client("buyer")
    first = client.post("/api/v1/sales-orders/", ORDER, format="json", HTTP_IDEMPOTENCY_KEY="key-1")
    again = client.post("/api/v1/sales-orders/", ORDER, format="json", HTTP_IDEMPOTENCY_KEY="key-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert SalesOrder.objects.count() == 1
    assert _on_hand(mug) == 17


def test_idempotency_key_with_another_body_is_409_and_writes_nothing(shop, mug):
    client = shop.client("buyer")
    client.post("/api/v1/sales-orders/", ORDER, format="json", HTTP_IDEMPOTENCY_KEY="key-1")
    other = {**ORDER, "external_id": "WEB-101"}
    response = client.post("/api/v1/sales-orders/", other, format="json", HTTP_IDEMPOTENCY_KEY="key-1")
    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_key_reused"
    assert SalesOrder.objects.count() == 1
    assert _on_hand(mug) == 17


def test_a_failed_request_does_not_use_up_its_idempotency_key(shop, mug):
    client = shop.client("buyer")
    too_many = {"external_id": "WEB-7", "lines": [{"sku": "MUG-1", "quantity": 50, "unit_price": "5.00"}]}
    refused = client.post("/api/v1/sales-orders/", too_many, format="json", HTTP_IDEMPOTENCY_KEY="key-7")
    assert refused.status_code == 409
    assert refused.json()["code"] == "insufficient_stock"
    assert IdempotencyRecord.objects.count() == 0
    assert SalesOrder.objects.count() == 0
    assert StockMovement.objects.filter(kind="sale").count() == 0


def test_oversell_is_refused_whole(shop, mug):
    order = {
        "external_id": "WEB-9",
        "lines": [
            {"sku": "MUG-1", "quantity": 5, "unit_price": "5.00"},
            {"sku": "MUG-1", "quantity": 16, "unit_price": "5.00"},
        ],
    }
    response = shop.client("buyer").post("/api/v1/sales-orders/", order, format="json")
    assert response.status_code == 409
    assert response.json()["detail"] == "Not enough stock of MUG-1 in MAIN: 15 available, 16 requested."
    assert _on_hand(mug) == 20


@pytest.mark.django_db(transaction=True)
def test_concurrent_repeats_with_one_key_record_one_order(shop, mug):
    assert connection.vendor == "postgresql"
    clients = [shop.client("buyer") for _ in range(6)]
    statuses: list[int] = []
    barrier = threading.Barrier(len(clients))

    def push(client: APIClient) -> None:
        barrier.wait()
        statuses.append(
            client.post("/api/v1/sales-orders/", ORDER, format="json", HTTP_IDEMPOTENCY_KEY="k").status_code
        )
        connection.close()

    threads = [threading.Thread(target=push, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201] * 6
    assert SalesOrder.objects.count() == 1
    assert _on_hand(mug) == 17
    assert stock_ledger_mismatches(merchant=shop.merchant) == []


@pytest.fixture
def draft(shop, mug):
    return purchase_order_create(
        merchant=shop.merchant, supplier=mug.supplier, lines=[PurchaseLineInput(mug, 10, "2.00")]
    )


def test_purchase_order_goes_through_its_state_machine(shop, mug, draft):
    client = shop.client("buyer")
    base = f"/api/v1/purchase-orders/{draft.pk}"
    assert client.post(f"{base}/approve/", format="json").json()["status"] == "approved"
    sent = client.post(f"{base}/send/", {"expected_at": "2030-02-01"}, format="json").json()
    assert (sent["status"], sent["expected_at"]) == ("sent", "2030-02-01")
    line = draft.lines.get()
    partial = client.post(f"{base}/receive/", {"lines": [{"line": line.pk, "quantity": 4}]}, format="json").json()
    assert partial["status"] == "partially_received"
    assert partial["lines"][0]["quantity_outstanding"] == 6
    assert partial["total_value"] == "20.0000"
    assert _on_hand(mug) == 24
    rest = client.post(f"{base}/receive/", {}, format="json").json()
    assert rest["status"] == "received"
    assert [event["action"] for event in rest["events"]] == ["create", "approve", "send", "receive", "receive"]
    assert _on_hand(mug) == 30
    assert stock_ledger_mismatches(merchant=shop.merchant) == []


@pytest.mark.parametrize("action", ["send", "receive"])
def test_illegal_transition_is_409_with_a_message(shop, draft, action):
    response = shop.client("buyer").post(f"/api/v1/purchase-orders/{draft.pk}/{action}/", {}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "illegal_transition"
    assert "draft" in response.json()["detail"]
    assert PurchaseOrder.objects.get(pk=draft.pk).status == "draft"


def test_cancelled_order_cannot_be_approved(shop, draft):
    client = shop.client("buyer")
    assert (
        client.post(f"/api/v1/purchase-orders/{draft.pk}/cancel/", {"reason": "dup"}, format="json").status_code == 200
    )
    response = client.post(f"/api/v1/purchase-orders/{draft.pk}/approve/", {}, format="json")
    assert response.status_code == 409
    assert response.json()["detail"] == f"Purchase order {draft.pk} is cancelled; it cannot be approved."


def test_receiving_more_than_outstanding_is_400_and_writes_nothing(shop, mug, draft):
    client = shop.client("buyer")
    client.post(f"/api/v1/purchase-orders/{draft.pk}/approve/", {}, format="json")
    client.post(f"/api/v1/purchase-orders/{draft.pk}/send/", {}, format="json")
    line = draft.lines.get()
    response = client.post(
        f"/api/v1/purchase-orders/{draft.pk}/receive/", {"lines": [{"line": line.pk, "quantity": 11}]}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {f"quantities[{line.pk}]": ["11 units of MUG-1 exceed the 10 outstanding."]}
    assert _on_hand(mug) == 20


def test_stock_adjustment_writes_one_ledger_row(shop, mug):
    response = shop.client("buyer").post(
        "/api/v1/stock-adjustments/", {"product": mug.pk, "quantity": -4, "note": "broken"}, format="json"
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["kind"], body["quantity"], body["balance_after"], body["note"]) == ("adjustment", -4, 16, "broken")
    assert _on_hand(mug) == 16
    assert stock_ledger_mismatches(merchant=shop.merchant) == []
