"""Webhook events: queued after commit, HMAC-signed, retried on network errors and 5xx, attempts visible."""

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from integrations.models import WebhookDelivery, WebhookEvent
from integrations.services import (
    SIGNATURE_HEADER,
    webhook_delivery_attempt,
    webhook_endpoint_create,
    webhook_event_emit,
    webhook_retry_delay,
)
from integrations.tasks import webhook_delivery_send_task
from inventory.services import PurchaseLineInput, purchase_order_create
from tests.api.conftest import key_client
from tests.factories import MembershipFactory, MerchantFactory, ProductFactory


@dataclass
class Receiver:
    """A tiny HTTP server on 127.0.0.1 answering with the given statuses in turn (then 200)."""

    statuses: list[int] = field(default_factory=list)
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    url: str = ""


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.received.append((dict(self.headers), body))
            self.send_response(state.statuses.pop(0) if state.statuses else 200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def merchant(db):
    return MerchantFactory(slug="acme")


def _verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    parts = dict(item.split("=", 1) for item in headers[SIGNATURE_HEADER].split(","))
    expected = hmac.new(secret.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(parts["v1"], expected)


def test_emit_queues_one_delivery_per_subscribed_endpoint_after_commit(merchant, django_capture_on_commit_callbacks):
    subscribed = webhook_endpoint_create(
        merchant=merchant, url="https://a.example/h", events=["purchase_order.approved"]
    )
    webhook_endpoint_create(merchant=merchant, url="https://b.example/h", events=["product.below_reorder_point"])
    webhook_endpoint_create(
        merchant=merchant, url="https://c.example/h", events=["purchase_order.approved"], is_active=False
    )
    with django_capture_on_commit_callbacks() as callbacks:
        deliveries = webhook_event_emit(merchant=merchant, event="purchase_order.approved", payload={"id": 1})
    assert [delivery.endpoint for delivery in deliveries] == [subscribed]
    assert len(callbacks) == 1


def test_the_later_events_have_names_and_unknown_events_are_refused(merchant):
    assert set(WebhookEvent.values) == {
        "purchase_order.approved",
        "product.below_reorder_point",
        "product.back_in_stock_date_changed",
    }
    with pytest.raises(ValidationError):
        webhook_event_emit(merchant=merchant, event="product.deleted", payload={})


def test_delivery_is_signed_and_a_5xx_is_retryable(merchant, receiver):
    receiver.statuses = [503]
    endpoint = webhook_endpoint_create(merchant=merchant, url=receiver.url, events=["product.below_reorder_point"])
    payload = {"sku": "MUG-1", "available": 2, "reorder_point": "5.5"}
    (delivery,) = webhook_event_emit(merchant=merchant, event="product.below_reorder_point", payload=payload)
    first = webhook_delivery_attempt(delivery_id=delivery.pk)
    assert (first.delivered, first.retryable, first.attempt.status_code) == (False, True, 503)
    second = webhook_delivery_attempt(delivery_id=delivery.pk)
    assert (second.delivered, second.attempt.number) == (True, 2)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempt_count) == ("succeeded", 2)
    headers, body = receiver.received[-1]
    assert _verify(endpoint.secret, headers, body)
    assert headers["X-Stockpilot-Event"] == "product.below_reorder_point"
    document = json.loads(body)
    assert (document["id"], document["merchant"], document["data"]) == (str(delivery.event_id), "acme", payload)
    # Idempotent: sending a settled delivery again sends nothing more.
    assert webhook_delivery_send_task(delivery.pk) == "skipped"
    assert len(receiver.received) == 2


def test_in_process_tasks_leave_a_retryable_failure_pending(merchant, receiver):
    receiver.statuses = [500]
    webhook_endpoint_create(merchant=merchant, url=receiver.url, events=["product.below_reorder_point"])
    (delivery,) = webhook_event_emit(merchant=merchant, event="product.below_reorder_point", payload={})
    assert webhook_delivery_send_task.apply(args=[delivery.pk]).get() == "pending"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempt_count) == ("pending", 1)


def test_a_4xx_answer_is_not_retried(merchant, receiver):
    receiver.statuses = [410]
    webhook_endpoint_create(merchant=merchant, url=receiver.url, events=["product.below_reorder_point"])
    (delivery,) = webhook_event_emit(merchant=merchant, event="product.below_reorder_point", payload={})
    assert webhook_delivery_send_task(delivery.pk) == "failed"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempt_count) == ("failed", 1)
    assert delivery.attempts.get().status_code == 410


def test_network_errors_are_retried_until_the_last_attempt(merchant):
    webhook_endpoint_create(
        merchant=merchant, url="http://127.0.0.1:9/nothing-listens", events=["product.below_reorder_point"]
    )
    (delivery,) = webhook_event_emit(merchant=merchant, event="product.below_reorder_point", payload={})
    outcomes = [webhook_delivery_attempt(delivery_id=delivery.pk) for _ in range(9)]
    assert [outcome.retryable for outcome in outcomes] == [True] * 7 + [False, False]
    assert outcomes[-1].attempt is None
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempt_count) == ("failed", 8)
    attempt = delivery.attempts.last()
    assert attempt.status_code is None
    assert "refused" in attempt.error.lower()


def test_backoff_doubles_up_to_a_cap():
    assert [webhook_retry_delay(attempt=n) for n in (1, 2, 3, 4)] == [10.0, 20.0, 40.0, 80.0]
    assert webhook_retry_delay(attempt=40) == 6 * 3600


def test_approving_through_the_api_announces_it_and_attempts_are_visible(merchant, receiver):
    admin = MembershipFactory(merchant=merchant, role="admin")
    product = ProductFactory(merchant=merchant, sku="MUG-1")
    order = purchase_order_create(
        merchant=merchant, supplier=product.supplier, lines=[PurchaseLineInput(product, 4, "2.50")]
    )
    client = key_client(admin)
    created = client.post(
        "/api/v1/webhooks/", {"url": receiver.url, "events": ["purchase_order.approved"]}, format="json"
    ).json()
    # The test transaction never commits, so run the queued send the way on_commit would.
    response = client.post(f"/api/v1/purchase-orders/{order.pk}/approve/", {}, format="json")
    assert response.status_code == 200
    delivery = WebhookDelivery.objects.get()
    webhook_delivery_send_task.apply(args=[delivery.pk])
    headers, body = receiver.received[0]
    assert _verify(created["secret"], headers, body)
    data = json.loads(body)["data"]["purchase_order"]
    assert (data["id"], data["status"], data["total_value"]) == (order.pk, "approved", "10.0000")
    assert data["lines"] == [{"sku": "MUG-1", "quantity": 4, "unit_cost": "2.5000"}]
    page = client.get(f"/api/v1/webhooks/{created['id']}/deliveries/").json()
    assert page["count"] == 1
    (shown,) = page["results"]
    assert (shown["event"], shown["status"], shown["attempt_count"]) == ("purchase_order.approved", "succeeded", 1)
    assert shown["attempts"][0]["status_code"] == 200


@pytest.fixture
def fast_retries(monkeypatch):
    """Read by the worker process, which is started after this fixture: retry after about 0.2 s."""
    monkeypatch.setenv("WEBHOOK_RETRY_BASE_SECONDS", "0.2")


@pytest.mark.worker
def test_a_real_worker_delivers_after_commit_and_retries_a_5xx(fast_retries, celery_worker, receiver):
    receiver.statuses = [502]
    merchant = MerchantFactory(slug="acme")
    endpoint = webhook_endpoint_create(
        merchant=merchant, url=receiver.url, events=["product.back_in_stock_date_changed"]
    )
    with transaction.atomic():
        (delivery,) = webhook_event_emit(
            merchant=merchant, event="product.back_in_stock_date_changed", payload={"sku": "MUG-1"}
        )
        assert receiver.received == []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        delivery.refresh_from_db()
        if delivery.status != "pending":
            break
        time.sleep(0.2)
    assert (delivery.status, delivery.attempt_count) == ("succeeded", 2)
    assert [attempt.status_code for attempt in delivery.attempts.all()] == [502, 200]
    assert all(_verify(endpoint.secret, headers, body) for headers, body in receiver.received)
