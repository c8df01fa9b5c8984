"""Writes for integrations: API keys, idempotent requests, webhook events and deliveries, CSV imports."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone

from integrations import imports
from integrations.models import (
    ApiKey,
    ApiScope,
    DeliveryStatus,
    IdempotencyRecord,
    ImportJob,
    ImportKind,
    ImportStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from inventory import services as inventory_services
from inventory.models import Membership, Merchant, Product, PurchaseOrder, Supplier, Warehouse
from inventory.selectors import warehouse_default_for_merchant
from inventory.services import Actor, actor_or_none

logger = logging.getLogger(__name__)

# API keys

API_KEY_PREFIX = "sp"


@dataclass(frozen=True)
class IssuedApiKey:
    api_key: ApiKey
    key: str  # shown once; only its digest is stored


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def api_key_issue(*, membership: Membership, name: str = "", scopes: Sequence[str] | None = None) -> IssuedApiKey:
    """Issue a key acting as ``membership``; ``scopes`` defaults to read and write."""
    scopes = list(dict.fromkeys(scopes if scopes is not None else ApiScope.values))
    unknown = [scope for scope in scopes if scope not in ApiScope.values]
    if unknown or not scopes:
        raise ValidationError({"scopes": f"Use one or more of {', '.join(ApiScope.values)}."})
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    api_key = ApiKey.objects.create(
        membership=membership, name=name[:100], prefix=prefix, secret_digest=_digest(secret), scopes=scopes
    )
    return IssuedApiKey(api_key=api_key, key=f"{API_KEY_PREFIX}_{prefix}_{secret}")


def api_key_authenticate(*, key: str) -> ApiKey | None:
    """The live key for a presented secret (with its membership, merchant and user), or ``None``."""
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != API_KEY_PREFIX:
        return None
    api_key = (
        ApiKey.objects.filter(prefix=parts[1], revoked_at__isnull=True, membership__merchant__is_active=True)
        .select_related("membership__merchant", "membership__user")
        .first()
    )
    if api_key is None or not hmac.compare_digest(api_key.secret_digest, _digest(parts[2])):
        return None
    return api_key


def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    """Revoke a key: requests with it are refused from now on."""
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
    return api_key


# Idempotent requests


class IdempotencyConflict(ValidationError):
    """The Idempotency-Key was used before with another request."""

    conflict_code = "idempotency_key_reused"


@dataclass(frozen=True)
class IdempotentResponse:
    status: int
    body: Any
    replayed: bool


def request_fingerprint(*, method: str, path: str, body: Any) -> str:
    canonical = json.dumps(body, sort_keys=True, cls=DjangoJSONEncoder, separators=(",", ":"))
    return hashlib.sha256(f"{method}\n{path}\n{canonical}".encode()).hexdigest()


def idempotent_run(
    *, merchant: Merchant, key: str, fingerprint: str, operation: Callable[[], tuple[int, Any]]
) -> IdempotentResponse:
    """Run ``operation`` once per (merchant, key); a repeat gets the first response back.

    The key is claimed by inserting its row in the same transaction as the operation's writes,
    so a concurrent repeat waits on the row and then replays. Only successful (2xx) responses
    are kept: after an error the key is free and a corrected retry runs. A key reused with a
    different request raises ``IdempotencyConflict``.
    """
    key = key.strip()
    if not key or len(key) > 255 or not key.isprintable():
        raise ValidationError({"Idempotency-Key": "Use 1 to 255 printable characters."})
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(merchant=merchant, key=key, fingerprint=fingerprint)
        except IntegrityError:
            record = IdempotencyRecord.objects.get(merchant=merchant, key=key)
            if record.fingerprint != fingerprint:
                raise IdempotencyConflict(
                    {"Idempotency-Key": "This key was already used with a different request."}
                ) from None
            return IdempotentResponse(status=record.response_status or 200, body=record.response_body, replayed=True)
        status, body = operation()
        if 200 <= status < 300:
            record.response_status = status
            record.response_body = json.loads(json.dumps(body, cls=DjangoJSONEncoder))
            record.save(update_fields=["response_status", "response_body"])
        else:
            transaction.set_rollback(True)
    return IdempotentResponse(status=status, body=body, replayed=False)


# Webhooks

WEBHOOK_TIMEOUT_SECONDS = 5
WEBHOOK_MAX_ATTEMPTS = 8
SIGNATURE_HEADER = "X-Stockpilot-Signature"


def webhook_endpoint_create(
    *, merchant: Merchant, url: str, events: Sequence[str], description: str = "", is_active: bool = True
) -> WebhookEndpoint:
    """Register a URL for ``events``; a signing secret is generated."""
    endpoint = WebhookEndpoint(
        merchant=merchant,
        url=url,
        events=_events(events),
        secret=secrets.token_hex(32),
        description=description,
        is_active=is_active,
    )
    endpoint.full_clean()
    endpoint.save()
    return endpoint


def webhook_endpoint_update(*, endpoint: WebhookEndpoint, **changes: Any) -> WebhookEndpoint:
    """Change url, events, description or is_active of an endpoint."""
    unknown = sorted(set(changes) - {"url", "events", "description", "is_active"})
    if unknown:
        raise ValidationError({field: "This field cannot be changed here." for field in unknown})
    if "events" in changes:
        changes["events"] = _events(changes["events"])
    for field, value in changes.items():
        setattr(endpoint, field, value)
    endpoint.full_clean()
    endpoint.save()
    return endpoint


def webhook_endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    """Remove an endpoint and its delivery history."""
    endpoint.delete()


def _events(events: Sequence[str]) -> list[str]:
    events = list(dict.fromkeys(events))
    unknown = [event for event in events if event not in WebhookEvent.values]
    if unknown or not events:
        raise ValidationError({"events": f"Use one or more of {', '.join(WebhookEvent.values)}."})
    return events


def webhook_endpoints_for_event(*, merchant_id: int, event: str) -> list[WebhookEndpoint]:
    """The merchant's active endpoints that subscribe to ``event``, oldest first.

    Filtered in Python: JSON containment is not available on every database (SQLite).
    """
    endpoints = WebhookEndpoint.objects.filter(merchant_id=merchant_id, is_active=True).order_by("pk")
    return [endpoint for endpoint in endpoints if event in endpoint.events]


def webhook_event_emit(*, merchant: Merchant, event: str, payload: dict[str, Any]) -> list[WebhookDelivery]:
    """Queue ``event`` for every active endpoint of ``merchant`` that subscribes to it.

    The deliveries are written now and sent by ``webhook_delivery_send_task`` after the
    surrounding transaction commits (at once when there is none), so a rolled-back change
    announces nothing. Call it from the code path that made the change.
    """
    return webhook_events_emit(merchant=merchant, event=event, payloads=[payload])


def webhook_events_emit(*, merchant: Merchant, event: str, payloads: Sequence[dict[str, Any]]) -> list[WebhookDelivery]:
    """Queue one ``event`` per payload, like ``webhook_event_emit``, with one query for the endpoints and one insert."""
    from integrations.tasks import webhook_delivery_send_task

    if event not in WebhookEvent.values:
        raise ValidationError({"event": f"Unknown event {event!r}."})
    if not payloads:
        return []
    endpoints = webhook_endpoints_for_event(merchant_id=merchant.pk, event=event)
    if not endpoints:
        return []
    bodies = [json.loads(json.dumps(payload, cls=DjangoJSONEncoder)) for payload in payloads]
    deliveries = WebhookDelivery.objects.bulk_create(
        [WebhookDelivery(endpoint=endpoint, event=event, payload=body) for body in bodies for endpoint in endpoints]
    )
    for delivery in deliveries:
        transaction.on_commit(partial(webhook_delivery_send_task.delay, delivery.pk))
    return deliveries


def purchase_order_approved_emit(*, order: PurchaseOrder) -> list[WebhookDelivery]:
    """Announce that ``order`` was approved (``purchase_order.approved``)."""
    lines = list(order.lines.select_related("product").order_by("pk"))
    return webhook_event_emit(
        merchant=order.merchant,
        event=WebhookEvent.PURCHASE_ORDER_APPROVED,
        payload={
            "purchase_order": {
                "id": order.pk,
                "status": order.status,
                "supplier": {"id": order.supplier_id, "name": order.supplier.name},
                "warehouse": {"id": order.warehouse_id, "code": order.warehouse.code},
                "approved_at": order.approved_at,
                "total_value": str(sum((line.quantity * line.unit_cost for line in lines), Decimal("0"))),
                "lines": [
                    {"sku": line.product.sku, "quantity": line.quantity, "unit_cost": str(line.unit_cost)}
                    for line in lines
                ],
            }
        },
    )


def webhook_signature(*, secret: str, timestamp: int, body: bytes) -> str:
    """``t=<unix time>,v1=<hex HMAC-SHA256 of "<unix time>.<body>" with the endpoint's secret>``."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def webhook_body(*, delivery: WebhookDelivery) -> bytes:
    document = {
        "id": str(delivery.event_id),
        "event": delivery.event,
        "created_at": delivery.created_at.isoformat(),
        "merchant": delivery.endpoint.merchant.slug,
        "data": delivery.payload,
    }
    return json.dumps(document, separators=(",", ":"), sort_keys=True).encode()


@dataclass(frozen=True)
class AttemptOutcome:
    delivered: bool
    retryable: bool
    attempt: WebhookAttempt | None


def webhook_delivery_attempt(*, delivery_id: int) -> AttemptOutcome:
    """POST a pending delivery once and record the attempt; a delivery already settled is left alone.

    The row is locked for the attempt (others skip it), so two workers never send it together.
    Network errors, timeouts, 429 and 5xx answers are retryable; any other non-2xx answer fails
    the delivery at once.
    """
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("endpoint__merchant")
            .filter(pk=delivery_id, status=DeliveryStatus.PENDING)
            .first()
        )
        if delivery is None:
            return AttemptOutcome(delivered=False, retryable=False, attempt=None)
        body = webhook_body(delivery=delivery)
        timestamp = int(time.time())
        request = urllib.request.Request(
            delivery.endpoint.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "User-Agent": "Stockpilot-Webhooks/1",
                "X-Stockpilot-Event": delivery.event,
                "X-Stockpilot-Delivery": str(delivery.event_id),
                SIGNATURE_HEADER: webhook_signature(secret=delivery.endpoint.secret, timestamp=timestamp, body=body),
            },
        )
        status_code: int | None = None
        error = ""
        started = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:
                status_code = response.status
        except urllib.error.HTTPError as http_error:
            status_code = http_error.code
        except (urllib.error.URLError, TimeoutError, OSError) as network_error:
            error = str(getattr(network_error, "reason", network_error))[:500] or type(network_error).__name__
        duration_ms = int((time.monotonic() - started) * 1000)
        delivery.attempt_count += 1
        attempt = WebhookAttempt.objects.create(
            delivery=delivery,
            number=delivery.attempt_count,
            status_code=status_code,
            error=error,
            duration_ms=duration_ms,
        )
        delivered = status_code is not None and 200 <= status_code < 300
        retryable = not delivered and (status_code is None or status_code == 429 or status_code >= 500)
        if delivered:
            delivery.status = DeliveryStatus.SUCCEEDED
            delivery.delivered_at = timezone.now()
        elif not retryable or delivery.attempt_count >= WEBHOOK_MAX_ATTEMPTS:
            delivery.status = DeliveryStatus.FAILED
            retryable = False
        delivery.save(update_fields=["status", "attempt_count", "delivered_at"])
    return AttemptOutcome(delivered=delivered, retryable=retryable, attempt=attempt)


def webhook_retry_delay(*, attempt: int, base_seconds: float = 10.0, cap_seconds: float = 6 * 3600) -> float:
    """Exponential backoff before retry ``attempt`` (1 = the first retry): 10 s, 20 s, 40 s, ... at most 6 h."""
    return float(min(cap_seconds, base_seconds * 2 ** max(0, attempt - 1)))


# CSV imports

MAX_REPORTED_ERRORS = 1000


@dataclass(frozen=True)
class ImportOutcome:
    job: ImportJob
    errors: list[imports.RowError]


def csv_import_run(
    *, merchant: Merchant, kind: str, source: str | IO[bytes], filename: str = "", user: Actor = None
) -> ImportOutcome:
    """Check a whole CSV file and, only if every row is good, write it in one transaction.

    ``kind`` is products, sales (history: counts as demand, moves no stock) or stock (a
    snapshot: each level is set to the counted value through the ledger). Every bad cell is
    reported with its row (1 = first data row) and column; a file with any error writes nothing.
    The outcome is recorded as an ``ImportJob`` either way (with at most the first
    ``MAX_REPORTED_ERRORS`` errors; ``error_count`` has them all).
    """
    if kind not in ImportKind.values:
        raise ValidationError({"kind": f"Use one of {', '.join(ImportKind.values)}."})
    started = time.monotonic()
    frame, errors = imports.read_csv(source)
    written = 0
    if frame is not None:
        errors = imports.check_columns(frame, kind)
    if frame is not None and not errors:
        try:
            errors, written = _import_checked(merchant=merchant, kind=kind, frame=frame, user=user)
        except ValidationError as error:
            errors = [
                imports.RowError(None, field, message)
                for field, messages in error.message_dict.items()
                for message in messages
            ]
    job = ImportJob.objects.create(
        merchant=merchant,
        kind=kind,
        filename=filename[:255],
        status=ImportStatus.FAILED if errors else ImportStatus.SUCCEEDED,
        row_count=0 if frame is None else len(frame),
        written_count=0 if errors else written,
        error_count=len(errors),
        errors=[error.as_dict() for error in errors[:MAX_REPORTED_ERRORS]],
        duration_ms=int((time.monotonic() - started) * 1000),
        created_by=actor_or_none(user),
    )
    return ImportOutcome(job=job, errors=errors)


def _import_checked(*, merchant: Merchant, kind: str, frame: Any, user: Actor) -> tuple[list[imports.RowError], int]:
    if kind == ImportKind.PRODUCTS:
        suppliers = {supplier.name: supplier for supplier in Supplier.objects.filter(merchant=merchant)}
        checked = imports.check_products(frame, supplier_names=suppliers.keys())
        if checked.errors:
            return checked.errors, 0
        rows = checked.frame
        products = [
            inventory_services.ProductInput(
                sku=sku,
                name=name,
                description=description,
                unit_cost=Decimal(unit_cost),
                price=Decimal(price),
                supplier=suppliers.get(supplier),
                case_pack=int(case_pack),
                moq=int(moq),
                lead_time_days_override=None if override is None else int(override),
                is_active=bool(is_active),
            )
            for sku, name, description, unit_cost, price, supplier, case_pack, moq, override, is_active in zip(
                rows["sku"],
                rows["name"],
                rows["description"],
                rows["unit_cost"],
                rows["price"],
                rows["supplier"],
                rows["case_pack"],
                rows["moq"],
                rows["lead_time_days_override"].astype(object).where(rows["lead_time_days_override"].notna(), None),
                rows["is_active"],
                strict=True,
            )
        ]
        return [], inventory_services.products_upsert(merchant=merchant, products=products)
    product_ids = dict(Product.objects.filter(merchant=merchant).values_list("sku", "pk"))
    if kind == ImportKind.SALES:
        checked = imports.check_sales(frame, product_ids=product_ids)
        if checked.errors:
            return checked.errors, 0
        return [], inventory_services.sales_history_load(merchant=merchant, lines=checked.frame)
    warehouses = {warehouse.code: warehouse for warehouse in Warehouse.objects.filter(merchant=merchant)}
    checked = imports.check_stock(
        frame,
        product_ids=product_ids,
        warehouse_ids={code: warehouse.pk for code, warehouse in warehouses.items()},
        default_warehouse=warehouse_default_for_merchant(merchant=merchant).code,
    )
    if checked.errors:
        return checked.errors, 0
    products_by_id = {product.pk: product for product in Product.objects.filter(merchant=merchant)}
    warehouses_by_id = {warehouse.pk: warehouse for warehouse in warehouses.values()}
    counts = [
        inventory_services.StockCount(products_by_id[product_id], warehouses_by_id[warehouse_id], int(on_hand))
        for product_id, warehouse_id, on_hand in zip(
            checked.frame["product_id"], checked.frame["warehouse_id"], checked.frame["on_hand"], strict=True
        )
    ]
    inventory_services.stock_set_many(
        merchant=merchant, counts=counts, reference="stock import", note="stock snapshot import", user=user
    )
    return [], len(counts)
