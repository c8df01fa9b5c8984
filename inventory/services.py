"""Writes for the catalogue, the stock ledger, sales orders and purchase orders.

Every stock change locks the affected ``StockLevel`` rows (``select_for_update``, in
primary-key order so that two transactions never wait on each other in a cycle),
updates them with ``F()`` expressions and appends a ``StockMovement`` in the same
transaction, so the level always equals the sum of its movements.

Oversell rule: a live sale of more units than are available (on hand less allocated)
in the warehouse is rejected with ``InsufficientStock`` and writes nothing; there are
no backorders.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import pandas as pd
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.models import User as AuthUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from inventory import events
from inventory.models import (
    ON_ORDER_STATUSES,
    OPEN_PURCHASE_ORDER_STATUSES,
    Membership,
    Merchant,
    MovementKind,
    Product,
    PurchaseOrder,
    PurchaseOrderEvent,
    PurchaseOrderLine,
    PurchaseOrderStatus,
    Role,
    SalesOrder,
    SalesOrderLine,
    StockLevel,
    StockMovement,
    Supplier,
    Warehouse,
)
from inventory.selectors import warehouse_default_for_merchant

MAX_QUANTITY = 1_000_000_000
Actor = AuthUser | AnonymousUser | None


class InsufficientStock(ValidationError):
    """A sale asked for more units than the warehouse has available."""

    conflict_code = "insufficient_stock"  # the API answers 409 with this code


class IllegalTransition(ValidationError):
    """A purchase order was asked to move to a status its state machine does not allow."""

    conflict_code = "illegal_transition"


def actor_or_none(user: Actor) -> AuthUser | None:
    """The user to record as the author of a change; anonymous and system changes record none."""
    return user if isinstance(user, AuthUser) else None


def _require_same_merchant(merchant: Merchant, **objects: object) -> None:
    for field, value in objects.items():
        if value is not None and getattr(value, "merchant_id", None) != merchant.pk:
            raise ValidationError({field: f"{field.capitalize()} does not belong to merchant {merchant.slug}."})


def _quantity(value: object, *, field: str, allow_zero: bool = False, allow_negative: bool = False) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError({field: f"Quantity must be a whole number, got {value!r}."})
    if not allow_negative and value < 0:
        raise ValidationError({field: f"Quantity must not be negative, got {value}."})
    if not allow_zero and value == 0:
        raise ValidationError({field: "Quantity must not be zero."})
    if abs(value) > MAX_QUANTITY:
        raise ValidationError({field: f"Quantity {value} is out of range (at most {MAX_QUANTITY})."})
    return value


def _money(value: object, *, field: str) -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationError({field: f"{value!r} is not an amount of money."}) from None
    if not amount.is_finite() or amount < 0:
        raise ValidationError({field: f"Amount must be zero or more, got {value}."})
    return amount


# Merchants and members


def merchant_create(*, slug: str, name: str, currency: str = "GBP") -> Merchant:
    """Create a merchant with a default warehouse ``MAIN``."""
    merchant = Merchant(slug=slug, name=name, currency=currency)
    merchant.full_clean()
    with transaction.atomic():
        merchant.save()
        Warehouse.objects.create(merchant=merchant, code="MAIN", name="Main warehouse", is_default=True)
    return merchant


def membership_set(*, merchant: Merchant, user: AuthUser, role: str) -> Membership:
    """Give ``user`` the ``role`` at ``merchant``, creating or updating the membership."""
    if role not in Role.values:
        raise ValidationError({"role": f"Unknown role {role!r}; use one of {', '.join(Role.values)}."})
    membership, _ = Membership.objects.update_or_create(user=user, merchant=merchant, defaults={"role": role})
    return membership


# Catalogue


def supplier_create(
    *,
    merchant: Merchant,
    name: str,
    lead_time_days: int = 7,
    lead_time_std_days: Decimal | float | str = Decimal("0"),
    currency: str | None = None,
    min_order_value: Decimal | float | str = Decimal("0"),
    email: str = "",
) -> Supplier:
    """Create a supplier of ``merchant``."""
    supplier = Supplier(
        merchant=merchant,
        name=name,
        lead_time_days=lead_time_days,
        lead_time_std_days=_money(lead_time_std_days, field="lead_time_std_days"),
        currency=currency or merchant.currency,
        min_order_value=_money(min_order_value, field="min_order_value"),
        email=email,
    )
    supplier.full_clean()
    supplier.save()
    return supplier


def warehouse_create(*, merchant: Merchant, code: str, name: str) -> Warehouse:
    """Create a warehouse of ``merchant``."""
    warehouse = Warehouse(merchant=merchant, code=code, name=name)
    warehouse.full_clean()
    warehouse.save()
    return warehouse


SUPPLIER_FIELDS = ("name", "lead_time_days", "lead_time_std_days", "currency", "min_order_value", "email")


def supplier_update(*, supplier: Supplier, **changes: object) -> Supplier:
    """Change the named fields of ``supplier`` (see ``SUPPLIER_FIELDS``)."""
    unknown = sorted(set(changes) - set(SUPPLIER_FIELDS))
    if unknown:
        raise ValidationError({field: "This field cannot be changed here." for field in unknown})
    for field in ("lead_time_std_days", "min_order_value"):
        if field in changes:
            changes[field] = _money(changes[field], field=field)
    for field, value in changes.items():
        setattr(supplier, field, value)
    supplier.full_clean()
    supplier.save()
    return supplier


def warehouse_update(*, warehouse: Warehouse, **changes: object) -> Warehouse:
    """Change the code or name of ``warehouse``."""
    unknown = sorted(set(changes) - {"code", "name"})
    if unknown:
        raise ValidationError({field: "This field cannot be changed here." for field in unknown})
    for field, value in changes.items():
        setattr(warehouse, field, value)
    warehouse.full_clean()
    warehouse.save()
    return warehouse


PRODUCT_FIELDS = (
    "name",
    "description",
    "unit_cost",
    "price",
    "supplier",
    "case_pack",
    "moq",
    "lead_time_days_override",
    "is_active",
)


def product_create(
    *,
    merchant: Merchant,
    sku: str,
    name: str,
    unit_cost: Decimal | str | float,
    price: Decimal | str | float,
    description: str = "",
    supplier: Supplier | None = None,
    case_pack: int = 1,
    moq: int = 1,
    lead_time_days_override: int | None = None,
    is_active: bool = True,
) -> Product:
    """Create a product; its SKU must be new for the merchant."""
    _require_same_merchant(merchant, supplier=supplier)
    product = Product(
        merchant=merchant,
        sku=sku,
        name=name,
        description=description,
        unit_cost=_money(unit_cost, field="unit_cost"),
        price=_money(price, field="price"),
        supplier=supplier,
        case_pack=case_pack,
        moq=moq,
        lead_time_days_override=lead_time_days_override,
        is_active=is_active,
    )
    product.full_clean()
    product.save()
    return product


def product_update(*, product: Product, **changes: object) -> Product:
    """Change the named fields of ``product`` (see ``PRODUCT_FIELDS``)."""
    unknown = sorted(set(changes) - set(PRODUCT_FIELDS))
    if unknown:
        raise ValidationError({field: "This field cannot be changed here." for field in unknown})
    _require_same_merchant(product.merchant, supplier=changes.get("supplier"))
    for field in ("unit_cost", "price"):
        if field in changes:
            changes[field] = _money(changes[field], field=field)
    for field, value in changes.items():
        setattr(product, field, value)
    product.full_clean()
    product.save()
    return product


# Stock


def _levels_locked(*, merchant: Merchant, pairs: Iterable[tuple[int, int]]) -> dict[tuple[int, int], StockLevel]:
    """Create missing levels, then lock every (product_id, warehouse_id) level in primary-key order."""
    wanted = sorted(set(pairs))
    existing = {
        (level.product_id, level.warehouse_id)
        for level in StockLevel.objects.filter(
            merchant=merchant, product_id__in={p for p, _ in wanted}, warehouse_id__in={w for _, w in wanted}
        )
    }
    missing = [pair for pair in wanted if pair not in existing]
    if missing:
        StockLevel.objects.bulk_create(
            [StockLevel(merchant=merchant, product_id=p, warehouse_id=w) for p, w in missing],
            ignore_conflicts=True,
        )
    locked = (
        StockLevel.objects.select_for_update()
        .filter(merchant=merchant, product_id__in={p for p, _ in wanted}, warehouse_id__in={w for _, w in wanted})
        .order_by("pk")
    )
    levels = {(level.product_id, level.warehouse_id): level for level in locked}
    return {pair: levels[pair] for pair in wanted}


def _position_changed(*, merchant: Merchant, deltas: Iterable[tuple[int, int]]) -> None:
    """Announce how each product's inventory position moved (``inventory.events.inventory_positions_changed``).

    ``deltas`` are (product_id, signed units) pairs; they are summed per product and products whose position
    did not move (a transfer between warehouses) are left out. Call inside the transaction of the change.
    """
    totals: dict[int, int] = {}
    for product_id, delta in deltas:
        totals[product_id] = totals.get(product_id, 0) + delta
    changes = [events.PositionChange(product_id, delta) for product_id, delta in sorted(totals.items()) if delta]
    if changes:
        events.inventory_positions_changed(merchant=merchant, changes=changes)


@dataclass(frozen=True)
class StockChange:
    product: Product
    warehouse: Warehouse
    quantity: int
    kind: str


def _apply_stock_changes(
    *,
    merchant: Merchant,
    changes: Sequence[StockChange],
    reference: str,
    note: str,
    user: Actor,
    check_available: bool,
) -> list[StockMovement]:
    """Lock, check and apply signed on-hand changes; one ledger row per change. Call inside a transaction."""
    levels = _levels_locked(merchant=merchant, pairs=[(c.product.pk, c.warehouse.pk) for c in changes])
    balances = {pair: level.on_hand for pair, level in levels.items()}
    for change in changes:
        pair = (change.product.pk, change.warehouse.pk)
        new_balance = balances[pair] + change.quantity
        floor = levels[pair].allocated if (check_available and change.quantity < 0) else 0
        if new_balance < floor:
            available = balances[pair] - floor
            raise InsufficientStock(
                {
                    "quantity": f"Not enough stock of {change.product.sku} in {change.warehouse.code}: "
                    f"{available} available, {-change.quantity} requested."
                }
            )
        balances[pair] = new_balance
    movements = []
    actor = actor_or_none(user)
    running = {pair: level.on_hand for pair, level in levels.items()}
    for change in changes:
        pair = (change.product.pk, change.warehouse.pk)
        running[pair] += change.quantity
        movements.append(
            StockMovement(
                merchant=merchant,
                product=change.product,
                warehouse=change.warehouse,
                kind=change.kind,
                quantity=change.quantity,
                balance_after=running[pair],
                reference=reference[:200],
                note=note[:500],
                created_by=actor,
            )
        )
    for pair, level in levels.items():
        delta = balances[pair] - level.on_hand
        if delta:
            StockLevel.objects.filter(pk=level.pk).update(on_hand=F("on_hand") + delta, updated_at=timezone.now())
    return StockMovement.objects.bulk_create(movements)


def stock_adjust(
    *,
    merchant: Merchant,
    product: Product,
    warehouse: Warehouse,
    quantity: int,
    kind: str = MovementKind.ADJUSTMENT,
    reference: str = "",
    note: str = "",
    user: Actor = None,
) -> StockMovement:
    """Change on-hand units by a signed ``quantity`` and record it in the ledger.

    ``kind`` is an adjustment, a return (positive) or a receipt (positive). On hand never
    goes below zero: such a change raises ``InsufficientStock`` and writes nothing. An adjustment
    that leaves fewer units than are allocated (breakage, shrinkage) cuts the allocation to what
    is left, and the ledger row's note says how many were released.
    """
    _require_same_merchant(merchant, product=product, warehouse=warehouse)
    _quantity(quantity, field="quantity", allow_negative=True)
    if kind not in (MovementKind.ADJUSTMENT, MovementKind.RETURN, MovementKind.RECEIPT):
        raise ValidationError({"kind": f"Use stock_adjust for adjustments, returns and receipts, not {kind!r}."})
    if kind in (MovementKind.RETURN, MovementKind.RECEIPT) and quantity < 0:
        raise ValidationError({"quantity": f"A {kind} adds stock; the quantity must be positive."})
    with transaction.atomic():
        level = _levels_locked(merchant=merchant, pairs=[(product.pk, warehouse.pk)])[(product.pk, warehouse.pk)]
        remaining = level.on_hand + quantity
        released = _release_uncounted_allocation(level, counted=remaining) if remaining >= 0 else 0
        (movement,) = _apply_stock_changes(
            merchant=merchant,
            changes=[StockChange(product, warehouse, quantity, kind)],
            reference=reference,
            note=_release_note(note, f"{released} allocated units released (fewer are left)" if released else ""),
            user=user,
            check_available=False,
        )
        _position_changed(merchant=merchant, deltas=[(product.pk, quantity + released)])
    return movement


def stock_set(
    *,
    merchant: Merchant,
    product: Product,
    warehouse: Warehouse,
    on_hand: int,
    reference: str = "",
    note: str = "",
    user: Actor = None,
) -> StockMovement | None:
    """Set on-hand units to a counted value (a stock take), recording the difference as an adjustment.

    The count is the truth: when fewer units are counted than are allocated, the allocation is cut to the count
    (those reservations can no longer be met) and the ledger row's note says how many were released."""
    _require_same_merchant(merchant, product=product, warehouse=warehouse)
    _quantity(on_hand, field="on_hand", allow_zero=True)
    with transaction.atomic():
        level = _levels_locked(merchant=merchant, pairs=[(product.pk, warehouse.pk)])[(product.pk, warehouse.pk)]
        delta = on_hand - level.on_hand
        if delta == 0:
            return None
        released = _release_uncounted_allocation(level, counted=on_hand)
        (movement,) = _apply_stock_changes(
            merchant=merchant,
            changes=[StockChange(product, warehouse, delta, MovementKind.ADJUSTMENT)],
            reference=reference,
            note=_release_note(
                note or "stock take", f"{released} allocated units released (fewer were counted)" if released else ""
            ),
            user=user,
            check_available=False,
        )
        _position_changed(merchant=merchant, deltas=[(product.pk, delta + released)])
    return movement


def _release_uncounted_allocation(level: StockLevel, *, counted: int) -> int:
    """Cut a locked level's allocation to ``counted`` on-hand units (a count or what an adjustment leaves);
    the number of units released."""
    released = max(level.allocated - counted, 0)
    if released:
        StockLevel.objects.filter(pk=level.pk).update(allocated=counted)
    return released


def _release_note(note: str, release: str) -> str:
    """The ledger note, with what a count or adjustment released from the allocation (if anything) after it."""
    return "; ".join(part for part in (note, release) if part)


def stock_transfer(
    *,
    merchant: Merchant,
    product: Product,
    source: Warehouse,
    destination: Warehouse,
    quantity: int,
    reference: str = "",
    user: Actor = None,
) -> list[StockMovement]:
    """Move available units between two warehouses: two ledger rows in one transaction."""
    _require_same_merchant(merchant, product=product, source=source, destination=destination)
    _quantity(quantity, field="quantity")
    if source.pk == destination.pk:
        raise ValidationError({"destination": "Source and destination are the same warehouse."})
    changes = [
        StockChange(product, source, -quantity, MovementKind.TRANSFER),
        StockChange(product, destination, quantity, MovementKind.TRANSFER),
    ]
    with transaction.atomic():
        movements = _apply_stock_changes(
            merchant=merchant,
            changes=changes,
            reference=reference or f"transfer {source.code}→{destination.code}",
            note="",
            user=user,
            check_available=True,
        )
        _position_changed(merchant=merchant, deltas=[(change.product.pk, change.quantity) for change in changes])
    return movements


def stock_allocate(*, merchant: Merchant, product: Product, warehouse: Warehouse, quantity: int) -> StockLevel:
    """Reserve (positive) or release (negative) units; allocation never exceeds on hand nor goes below zero."""
    _require_same_merchant(merchant, product=product, warehouse=warehouse)
    _quantity(quantity, field="quantity", allow_negative=True)
    with transaction.atomic():
        level = _levels_locked(merchant=merchant, pairs=[(product.pk, warehouse.pk)])[(product.pk, warehouse.pk)]
        new_allocated = level.allocated + quantity
        if new_allocated < 0:
            raise ValidationError({"quantity": f"Only {level.allocated} units of {product.sku} are allocated."})
        if new_allocated > level.on_hand:
            raise InsufficientStock(
                {"quantity": f"Cannot allocate {quantity} of {product.sku}: {level.available} available."}
            )
        StockLevel.objects.filter(pk=level.pk).update(allocated=F("allocated") + quantity)
        level.refresh_from_db()
        _position_changed(merchant=merchant, deltas=[(product.pk, -quantity)])
    return level


# Sales orders


@dataclass(frozen=True)
class SalesLineInput:
    sku: str
    quantity: int
    unit_price: Decimal | str | float


def sales_order_record(
    *,
    merchant: Merchant,
    external_id: str,
    lines: Sequence[SalesLineInput],
    channel: str = "web",
    warehouse: Warehouse | None = None,
    ordered_at: datetime.datetime | None = None,
    user: Actor = None,
) -> tuple[SalesOrder, bool]:
    """Record a live order and take its units from stock, exactly once per (channel, external_id).

    Returns ``(order, created)``: a repeat of an order already recorded returns the first
    one with ``created=False`` and changes no stock. A line for more units than are
    available rejects the whole order with ``InsufficientStock``.
    """
    external_id = (external_id or "").strip()
    if not external_id:
        raise ValidationError({"external_id": "An order needs the storefront's external id."})
    if not lines:
        raise ValidationError({"lines": "An order needs at least one line."})
    warehouse = warehouse or warehouse_default_for_merchant(merchant=merchant)
    _require_same_merchant(merchant, warehouse=warehouse)
    existing = SalesOrder.objects.filter(merchant=merchant, channel=channel, external_id=external_id).first()
    if existing is not None:
        return existing, False
    products = _products_by_sku(merchant=merchant, skus=[line.sku for line in lines])
    parsed = []
    for index, line in enumerate(lines):
        quantity = _quantity(line.quantity, field=f"lines[{index}].quantity")
        parsed.append((products[line.sku], quantity, _money(line.unit_price, field=f"lines[{index}].unit_price")))
    try:
        with transaction.atomic():
            order = SalesOrder.objects.create(
                merchant=merchant,
                channel=channel,
                external_id=external_id,
                warehouse=warehouse,
                ordered_at=ordered_at or timezone.now(),
                created_by=actor_or_none(user),
            )
            SalesOrderLine.objects.bulk_create(
                [SalesOrderLine(order=order, product=p, quantity=q, unit_price=price) for p, q, price in parsed]
            )
            _apply_stock_changes(
                merchant=merchant,
                changes=[StockChange(p, warehouse, -q, MovementKind.SALE) for p, q, _ in parsed],
                reference=f"sales order {channel}:{external_id}",
                note="",
                user=user,
                check_available=True,
            )
            _position_changed(merchant=merchant, deltas=[(p.pk, -q) for p, q, _ in parsed])
    except IntegrityError:
        # Another request recorded the same order between our check and our insert.
        concurrent = SalesOrder.objects.filter(merchant=merchant, channel=channel, external_id=external_id).first()
        if concurrent is None:
            raise
        return concurrent, False
    return order, True


def sales_order_cancel(*, order: SalesOrder, reason: str = "", user: Actor = None) -> tuple[SalesOrder, bool]:
    """Cancel a sales order, exactly once: it stops counting as demand, and a live order's units go back to the
    stock of its warehouse (one ``return`` ledger row per line).

    Returns ``(order, cancelled)``: cancelling an order already cancelled returns it unchanged with
    ``cancelled=False`` and moves no stock. Imported history (``is_historical``) never took stock, so none is
    returned.
    """
    reason = (reason or "").strip()
    if len(reason) > 500:
        raise ValidationError({"reason": "A cancellation reason has at most 500 characters."})
    with transaction.atomic():
        locked = SalesOrder.objects.select_for_update().select_related("merchant", "warehouse").get(pk=order.pk)
        if locked.cancelled_at is not None:
            return locked, False
        locked.cancelled_at = timezone.now()
        locked.cancel_reason = reason
        locked.save(update_fields=["cancelled_at", "cancel_reason"])
        if not locked.is_historical:
            lines = list(locked.lines.select_related("product").order_by("pk"))
            _apply_stock_changes(
                merchant=locked.merchant,
                changes=[
                    StockChange(line.product, locked.warehouse, line.quantity, MovementKind.RETURN) for line in lines
                ],
                reference=f"sales order {locked.channel}:{locked.external_id} cancelled",
                note=reason,
                user=user,
                check_available=False,
            )
            _position_changed(merchant=locked.merchant, deltas=[(line.product_id, line.quantity) for line in lines])
    return locked, True


def _products_by_sku(*, merchant: Merchant, skus: Sequence[str]) -> dict[str, Product]:
    products = {p.sku: p for p in Product.objects.filter(merchant=merchant, sku__in=set(skus))}
    unknown = [sku for sku in skus if sku not in products]
    if unknown:
        raise ValidationError({"sku": f"Unknown SKU(s) for this merchant: {', '.join(sorted(set(unknown)))}."})
    return products


# Purchase orders


@dataclass(frozen=True)
class PurchaseLineInput:
    product: Product
    quantity: int
    unit_cost: Decimal | str | float | None = None


def purchase_order_create(
    *,
    merchant: Merchant,
    supplier: Supplier,
    lines: Sequence[PurchaseLineInput],
    warehouse: Warehouse | None = None,
    note: str = "",
    user: Actor = None,
) -> PurchaseOrder:
    """Create a draft purchase order; unit costs default to the products' costs."""
    warehouse = warehouse or warehouse_default_for_merchant(merchant=merchant)
    _require_same_merchant(merchant, supplier=supplier, warehouse=warehouse)
    if not lines:
        raise ValidationError({"lines": "A purchase order needs at least one line."})
    built = []
    for index, line in enumerate(lines):
        _require_same_merchant(merchant, product=line.product)
        quantity = _quantity(line.quantity, field=f"lines[{index}].quantity")
        cost = line.product.unit_cost if line.unit_cost is None else line.unit_cost
        built.append((line.product, quantity, _money(cost, field=f"lines[{index}].unit_cost")))
    with transaction.atomic():
        order = PurchaseOrder.objects.create(
            merchant=merchant, supplier=supplier, warehouse=warehouse, note=note, created_by=actor_or_none(user)
        )
        PurchaseOrderLine.objects.bulk_create(
            [PurchaseOrderLine(order=order, product=p, quantity=q, unit_cost=c) for p, q, c in built]
        )
        PurchaseOrderEvent.objects.create(
            order=order, action="create", to_status=order.status, user=actor_or_none(user)
        )
    return order


def _purchase_order_locked(order: PurchaseOrder) -> PurchaseOrder:
    return PurchaseOrder.objects.select_for_update().select_related("supplier").get(pk=order.pk)


def _arrival_dates(order: PurchaseOrder, lines: Iterable[PurchaseOrderLine]) -> dict[int, datetime.date]:
    """The date ``order`` expects each product it still has units of to receive; none while undated or closed.

    ``lines`` is only read when the order has a date and is open, so a queryset costs nothing otherwise.
    """
    if order.status not in OPEN_PURCHASE_ORDER_STATUSES or order.expected_at is None:
        return {}
    return {line.product_id: order.expected_at for line in lines if line.quantity_outstanding > 0}


def _arrivals_changed(
    *, order: PurchaseOrder, before: Mapping[int, datetime.date], after: Mapping[int, datetime.date]
) -> None:
    """Announce the products whose expected date on ``order`` changed (``purchase_order_arrivals_changed``)."""
    changes = [
        events.ArrivalChange(product_id, before.get(product_id), after.get(product_id))
        for product_id in sorted(before.keys() | after.keys())
        if before.get(product_id) != after.get(product_id)
    ]
    if changes:
        events.purchase_order_arrivals_changed(order=order, changes=changes)


def _move(order: PurchaseOrder, to_status: str, *, user: Actor, action: str, note: str = "") -> None:
    if not order.can_move_to(to_status):
        done = {"approve": "approved", "send": "sent", "receive": "received", "cancel": "cancelled"}[action]
        raise IllegalTransition({"status": f"Purchase order {order.pk} is {order.status}; it cannot be {done}."})
    from_status = order.status
    order.status = to_status
    PurchaseOrderEvent.objects.create(
        order=order,
        action=action,
        from_status=from_status,
        to_status=to_status,
        note=note[:500],
        user=actor_or_none(user),
    )


def purchase_order_approve(*, order: PurchaseOrder, user: Actor = None) -> PurchaseOrder:
    """Approve a draft purchase order: its lines now count as stock on order.

    Announces it through ``inventory.events.purchase_order_approved`` in the same transaction (webhooks announce it).
    """
    with transaction.atomic():
        order = _purchase_order_locked(order)
        _move(order, PurchaseOrderStatus.APPROVED, user=user, action="approve")
        order.approved_at = timezone.now()
        order.save(update_fields=["status", "approved_at"])
        _position_changed(
            merchant=order.merchant,
            deltas=[(line.product_id, line.quantity_outstanding) for line in order.lines.all()],
        )
        events.purchase_order_approved(order=order)
    return order


def purchase_order_send(
    *, order: PurchaseOrder, expected_at: datetime.date | None = None, user: Actor = None
) -> PurchaseOrder:
    """Mark an approved order as sent to the supplier; arrival defaults to today plus the lead time."""
    with transaction.atomic():
        order = _purchase_order_locked(order)
        lines = order.lines.all()
        before = _arrival_dates(order, lines)
        _move(order, PurchaseOrderStatus.SENT, user=user, action="send")
        order.sent_at = timezone.now()
        order.expected_at = expected_at or (
            timezone.localdate() + datetime.timedelta(days=order.supplier.lead_time_days)
        )
        order.save(update_fields=["status", "sent_at", "expected_at"])
        _arrivals_changed(order=order, before=before, after=_arrival_dates(order, lines))
    return order


def purchase_order_receive(
    *, order: PurchaseOrder, quantities: dict[int, int] | None = None, user: Actor = None
) -> PurchaseOrder:
    """Receive units against a sent order, in part or in full, writing receipt movements.

    ``quantities`` maps line ids to units received now; ``None`` receives everything
    outstanding. Receiving more than is outstanding on a line is an error.
    """
    with transaction.atomic():
        order = _purchase_order_locked(order)
        if order.status not in (PurchaseOrderStatus.SENT, PurchaseOrderStatus.PARTIALLY_RECEIVED):
            raise IllegalTransition(
                {"status": f"Purchase order {order.pk} is {order.status}; only sent orders can be received."}
            )
        lines = {line.pk: line for line in order.lines.select_for_update().select_related("product").order_by("pk")}
        before = _arrival_dates(order, lines.values())
        if quantities is None:
            quantities = {pk: line.quantity_outstanding for pk, line in lines.items() if line.quantity_outstanding}
        if not quantities or not any(quantities.values()):
            raise ValidationError({"quantities": "Nothing to receive."})
        changes = []
        for line_id, quantity in sorted(quantities.items()):
            if line_id not in lines:
                raise ValidationError({"quantities": f"Line {line_id} is not on purchase order {order.pk}."})
            line = lines[line_id]
            _quantity(quantity, field=f"quantities[{line_id}]", allow_zero=True)
            if quantity > line.quantity_outstanding:
                raise ValidationError(
                    {
                        f"quantities[{line_id}]": f"{quantity} units of {line.product.sku} exceed the "
                        f"{line.quantity_outstanding} outstanding."
                    }
                )
            if quantity:
                changes.append(StockChange(line.product, order.warehouse, quantity, MovementKind.RECEIPT))
                PurchaseOrderLine.objects.filter(pk=line.pk).update(quantity_received=F("quantity_received") + quantity)
                line.quantity_received += quantity
        _apply_stock_changes(
            merchant=order.merchant,
            changes=changes,
            reference=f"purchase order {order.pk}",
            note="",
            user=user,
            check_available=False,
        )
        complete = all(line.quantity_outstanding == 0 for line in lines.values())
        to_status = PurchaseOrderStatus.RECEIVED if complete else PurchaseOrderStatus.PARTIALLY_RECEIVED
        _move(order, to_status, user=user, action="receive")
        update_fields = ["status"]
        if complete:
            order.received_at = timezone.now()
            update_fields.append("received_at")
        order.save(update_fields=update_fields)
        # Received units move from on order to on hand: the inventory position does not change.
        _arrivals_changed(order=order, before=before, after=_arrival_dates(order, lines.values()))
    return order


def purchase_order_cancel(*, order: PurchaseOrder, reason: str = "", user: Actor = None) -> PurchaseOrder:
    """Cancel an order that has not started arriving."""
    with transaction.atomic():
        order = _purchase_order_locked(order)
        lines = order.lines.all()
        was_on_order = order.status in ON_ORDER_STATUSES
        before = _arrival_dates(order, lines)
        _move(order, PurchaseOrderStatus.CANCELLED, user=user, action="cancel", note=reason)
        order.cancelled_at = timezone.now()
        order.save(update_fields=["status", "cancelled_at"])
        if was_on_order:
            _position_changed(
                merchant=order.merchant, deltas=[(line.product_id, -line.quantity_outstanding) for line in lines]
            )
        _arrivals_changed(order=order, before=before, after={})
    return order


def purchase_order_line_set_quantity(
    *, line: PurchaseOrderLine, quantity: int, user: Actor = None
) -> PurchaseOrderLine:
    """Edit a line's quantity while its order is still a draft."""
    _quantity(quantity, field="quantity")
    with transaction.atomic():
        order = _purchase_order_locked(line.order)
        if order.status != PurchaseOrderStatus.DRAFT:
            raise IllegalTransition({"status": f"Purchase order {order.pk} is {order.status}; only drafts change."})
        previous = line.quantity
        PurchaseOrderLine.objects.filter(pk=line.pk).update(quantity=quantity)
        line.quantity = quantity
        PurchaseOrderEvent.objects.create(
            order=order,
            action="edit",
            from_status=order.status,
            to_status=order.status,
            note=f"{line.product.sku}: {previous} → {quantity}",
            user=actor_or_none(user),
        )
    return line


# Sales history (bulk)

SALES_HISTORY_COLUMNS = ("external_id", "sku", "ordered_at", "quantity", "unit_price")


def sales_history_import(
    *,
    merchant: Merchant,
    rows: pd.DataFrame,
    channel: str = "history",
    warehouse: Warehouse | None = None,
) -> int:
    """Bulk-load past sales as historical orders: they count as demand but do not move stock.

    ``rows`` has ``SALES_HISTORY_COLUMNS``, one row per order line. Orders whose
    (channel, external_id) is already recorded are skipped, so a repeated import adds
    nothing. Every row is checked first; any bad row raises a ``ValidationError`` naming
    its row number (1 = first data row) and column, and nothing is written.
    Returns the number of lines written.
    """
    missing = [column for column in SALES_HISTORY_COLUMNS if column not in rows.columns]
    if missing:
        raise ValidationError({"columns": f"Missing column(s): {', '.join(missing)}."})
    warehouse = warehouse or warehouse_default_for_merchant(merchant=merchant)
    _require_same_merchant(merchant, warehouse=warehouse)
    products = dict(Product.objects.filter(merchant=merchant).values_list("sku", "pk"))
    frame = rows.reset_index(drop=True)
    errors: list[str] = []
    sku = frame["sku"].astype(str).str.strip()
    for index in sku.index[~sku.isin(products.keys())][:20]:
        errors.append(f"row {index + 1}, sku: unknown SKU {sku[index]!r}.")
    quantity = pd.to_numeric(frame["quantity"], errors="coerce")
    bad_quantity = quantity.isna() | (quantity <= 0) | (quantity != quantity.round()) | (quantity > MAX_QUANTITY)
    for index in frame.index[bad_quantity][:20]:
        errors.append(f"row {index + 1}, quantity: {frame['quantity'][index]!r} is not a positive whole number.")
    price = pd.to_numeric(frame["unit_price"], errors="coerce")
    for index in frame.index[price.isna() | (price < 0)][:20]:
        errors.append(f"row {index + 1}, unit_price: {frame['unit_price'][index]!r} is not a price.")
    ordered_at = pd.to_datetime(frame["ordered_at"], errors="coerce", utc=True, format="mixed")
    for index in frame.index[ordered_at.isna()][:20]:
        errors.append(f"row {index + 1}, ordered_at: {frame['ordered_at'][index]!r} is not a date.")
    external_id = frame["external_id"].astype(str).str.strip()
    for index in frame.index[external_id == ""][:20]:
        errors.append(f"row {index + 1}, external_id: empty.")
    if errors:
        raise ValidationError({"rows": errors})

    clean = pd.DataFrame(
        {
            "external_id": external_id,
            "product_id": sku.map(products),
            "ordered_at": ordered_at,
            "quantity": quantity.astype(int),
            "unit_price": price.round(2),
        }
    )
    return sales_history_load(merchant=merchant, lines=clean, channel=channel, warehouse=warehouse)


# Bulk loads for CSV imports (added with the REST API). Each writes everything or nothing.


@dataclass(frozen=True)
class ProductInput:
    sku: str
    name: str
    unit_cost: Decimal
    price: Decimal
    description: str = ""
    supplier: Supplier | None = None
    case_pack: int = 1
    moq: int = 1
    lead_time_days_override: int | None = None
    is_active: bool = True


def products_upsert(*, merchant: Merchant, products: Sequence[ProductInput], batch_size: int = 2000) -> int:
    """Create the products whose SKUs are new for ``merchant`` and update the others, in one transaction.

    Every product is checked first (field rules, supplier of the same merchant, no SKU twice);
    a bad one raises ``ValidationError`` keyed ``products[index].field`` and nothing is written.
    Returns the number of products written.
    """
    errors: dict[str, list[str]] = {}
    seen: set[str] = set()
    built = []
    for index, item in enumerate(products):
        if item.sku in seen:
            errors[f"products[{index}].sku"] = [f"SKU {item.sku!r} appears more than once."]
        seen.add(item.sku)
        if item.supplier is not None and item.supplier.merchant_id != merchant.pk:
            errors[f"products[{index}].supplier"] = [f"Supplier does not belong to merchant {merchant.slug}."]
        product = Product(
            merchant=merchant,
            sku=item.sku,
            name=item.name,
            description=item.description,
            unit_cost=item.unit_cost,
            price=item.price,
            supplier=item.supplier,
            case_pack=item.case_pack,
            moq=item.moq,
            lead_time_days_override=item.lead_time_days_override,
            is_active=item.is_active,
        )
        try:
            product.clean_fields(exclude=["merchant", "supplier"])
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                errors[f"products[{index}].{field}"] = messages
        built.append(product)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        Product.objects.bulk_create(
            built,
            batch_size=batch_size,
            update_conflicts=True,
            unique_fields=["merchant", "sku"],
            update_fields=[*PRODUCT_FIELDS, "updated_at"],
        )
    return len(built)


@dataclass(frozen=True)
class StockCount:
    product: Product
    warehouse: Warehouse
    on_hand: int


def stock_set_many(
    *, merchant: Merchant, counts: Sequence[StockCount], reference: str = "", note: str = "", user: Actor = None
) -> int:
    """Set on-hand units to counted values (a stock snapshot) in one transaction, like ``stock_set`` for each.

    Each difference is recorded as an adjustment in the ledger. Returns the number of levels changed.
    """
    pairs = [(count.product.pk, count.warehouse.pk) for count in counts]
    if len(set(pairs)) != len(pairs):
        raise ValidationError({"counts": "A product is counted twice in the same warehouse."})
    for index, count in enumerate(counts):
        _require_same_merchant(merchant, product=count.product, warehouse=count.warehouse)
        _quantity(count.on_hand, field=f"counts[{index}].on_hand", allow_zero=True)
    with transaction.atomic():
        levels = _levels_locked(merchant=merchant, pairs=pairs)
        changes = [
            StockChange(count.product, count.warehouse, delta, MovementKind.ADJUSTMENT)
            for count in counts
            if (delta := count.on_hand - levels[(count.product.pk, count.warehouse.pk)].on_hand)
        ]
        # Only a changed level can be counted below its allocation (an unchanged one already holds it).
        released = []
        for change in changes:
            level = levels[(change.product.pk, change.warehouse.pk)]
            released.append(_release_uncounted_allocation(level, counted=level.on_hand + change.quantity))
        if changes:
            # One note for the whole snapshot; levels whose allocation was cut are named in it.
            pairs_released = list(zip(changes, released, strict=True))
            cut = ", ".join(f"{c.product.sku} in {c.warehouse.code}: {units}" for c, units in pairs_released if units)
            _apply_stock_changes(
                merchant=merchant,
                changes=changes,
                reference=reference,
                note=_release_note(
                    note or "stock take", f"allocated units released (fewer were counted): {cut}" if cut else ""
                ),
                user=user,
                check_available=False,
            )
            _position_changed(
                merchant=merchant, deltas=[(c.product.pk, c.quantity + units) for c, units in pairs_released]
            )
    return len(changes)


SALES_HISTORY_LOAD_COLUMNS = ("external_id", "product_id", "ordered_at", "quantity", "unit_price")


def sales_history_load(
    *, merchant: Merchant, lines: pd.DataFrame, channel: str = "history", warehouse: Warehouse | None = None
) -> int:
    """Write already-checked history lines as historical orders, fast: PostgreSQL ``COPY`` for the lines.

    ``lines`` has ``SALES_HISTORY_LOAD_COLUMNS`` with product ids of ``merchant``, positive whole
    quantities, prices with at most two decimals and UTC timestamps (as ``sales_history_import``
    produces after its checks). Orders already recorded for (channel, external_id) are skipped, so a
    repeated load adds nothing. Returns the number of lines written.
    """
    missing = [column for column in SALES_HISTORY_LOAD_COLUMNS if column not in lines.columns]
    if missing:
        raise ValidationError({"columns": f"Missing column(s): {', '.join(missing)}."})
    warehouse = warehouse or warehouse_default_for_merchant(merchant=merchant)
    _require_same_merchant(merchant, warehouse=warehouse)
    product_ids = set(Product.objects.filter(merchant=merchant).values_list("pk", flat=True))
    foreign = ~lines["product_id"].isin(product_ids)
    if foreign.any():
        raise ValidationError({"product_id": "Products must belong to the merchant."})
    if (lines["quantity"] < 1).any() or (lines["quantity"] > MAX_QUANTITY).any():
        raise ValidationError({"quantity": f"Quantities must be between 1 and {MAX_QUANTITY}."})
    with transaction.atomic():
        external_ids = lines["external_id"].unique().tolist()
        known: set[str] = set()
        for start in range(0, len(external_ids), 20_000):
            known.update(
                SalesOrder.objects.filter(
                    merchant=merchant, channel=channel, external_id__in=external_ids[start : start + 20_000]
                ).values_list("external_id", flat=True)
            )
        if known:
            lines = lines[~lines["external_id"].isin(known)]
        if lines.empty:
            return 0
        heads = lines.groupby("external_id", sort=False)["ordered_at"].min()
        orders = SalesOrder.objects.bulk_create(
            [
                SalesOrder(
                    merchant=merchant,
                    channel=channel,
                    external_id=external_id,
                    warehouse=warehouse,
                    ordered_at=timestamp.to_pydatetime(),
                    is_historical=True,
                )
                for external_id, timestamp in heads.items()
            ],
            batch_size=5000,
        )
        order_ids = pd.Series({order.external_id: order.pk for order in orders})
        rows = pd.DataFrame(
            {
                "order_id": lines["external_id"].map(order_ids).to_numpy(),
                "product_id": lines["product_id"].to_numpy(),
                "quantity": lines["quantity"].to_numpy(),
                "unit_price": lines["unit_price"].astype(float).round(2).to_numpy(),
            }
        )
        if connection.vendor == "postgresql":
            table = SalesOrderLine._meta.db_table
            with (
                connection.cursor() as cursor,
                cursor.copy(  # type: ignore[attr-defined]
                    f"COPY {table} (order_id, product_id, quantity, unit_price) FROM STDIN WITH (FORMAT csv)"
                ) as copy,
            ):
                for start in range(0, len(rows), 100_000):
                    chunk = rows.iloc[start : start + 100_000]
                    copy.write(chunk.to_csv(index=False, header=False, float_format="%.2f"))
        else:
            SalesOrderLine.objects.bulk_create(
                [
                    SalesOrderLine(order_id=o, product_id=p, quantity=q, unit_price=Decimal(f"{u:.2f}"))
                    for o, p, q, u in rows.itertuples(index=False)
                ],
                batch_size=5000,
            )
    return len(rows)


def purchase_order_line_remove(*, line: PurchaseOrderLine, reason: str = "", user: Actor = None) -> None:
    """Remove a line from a draft order, recording which and why on the order."""
    with transaction.atomic():
        order = _purchase_order_locked(line.order)
        if order.status != PurchaseOrderStatus.DRAFT:
            raise IllegalTransition({"status": f"Purchase order {order.pk} is {order.status}; only drafts change."})
        lines = order.lines.all()
        before = _arrival_dates(order, lines)
        PurchaseOrderEvent.objects.create(
            order=order,
            action="remove line",
            from_status=order.status,
            to_status=order.status,
            note=f"{line.product.sku} × {line.quantity}: {reason}"[:500],
            user=actor_or_none(user),
        )
        PurchaseOrderLine.objects.filter(pk=line.pk).delete()
        _arrivals_changed(
            order=order, before=before, after=_arrival_dates(order, (other for other in lines if other.pk != line.pk))
        )
