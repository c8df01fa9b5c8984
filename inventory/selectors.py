"""Reads, always scoped to one merchant. Pages, the API and other apps read inventory through here."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

import pandas as pd
from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import ValidationError
from django.db.models import DecimalField, ExpressionWrapper, F, IntegerField, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, TruncDate
from django.http import Http404
from django.utils import timezone

from inventory.models import (
    ON_ORDER_STATUSES,
    OPEN_PURCHASE_ORDER_STATUSES,
    Membership,
    Merchant,
    Product,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
    SalesOrderLine,
    StockLevel,
    StockMovement,
    Supplier,
    Warehouse,
)


def memberships_for_user(*, user: User | AnonymousUser) -> QuerySet[Membership]:
    if not user.is_authenticated:
        return Membership.objects.none()
    return Membership.objects.filter(user=user, merchant__is_active=True).select_related("merchant")


def membership_for_user(*, user: User | AnonymousUser, merchant_slug: str) -> Membership:
    """The user's membership at the merchant, or 404: a non-member cannot tell the merchant exists."""
    membership = memberships_for_user(user=user).filter(merchant__slug=merchant_slug).first()
    if membership is None:
        raise Http404("No such merchant.")
    return membership


def merchant_ids_for_user(*, user: User | AnonymousUser) -> list[int]:
    return list(memberships_for_user(user=user).values_list("merchant_id", flat=True))


def product_list_for_merchant(
    *, merchant: Merchant, search: str = "", supplier_id: int | None = None, active_only: bool = False
) -> QuerySet[Product]:
    """Products with stock summed over warehouses (``on_hand_total``, ``allocated_total``, ``available_total``)."""
    products = Product.objects.filter(merchant=merchant).select_related("supplier")
    if search:
        products = products.filter(Q(sku__icontains=search) | Q(name__icontains=search))
    if supplier_id is not None:
        products = products.filter(supplier_id=supplier_id)
    if active_only:
        products = products.filter(is_active=True)
    return (
        products.annotate(
            on_hand_total=Coalesce(Sum("stock_levels__on_hand"), Value(0)),
            allocated_total=Coalesce(Sum("stock_levels__allocated"), Value(0)),
        )
        .annotate(available_total=F("on_hand_total") - F("allocated_total"))
        .order_by("sku")
    )


def product_get(*, merchant: Merchant, product_id: int) -> Product:
    product = Product.objects.filter(merchant=merchant, pk=product_id).select_related("supplier").first()
    if product is None:
        raise Http404("No such product.")
    return product


def supplier_list_for_merchant(*, merchant: Merchant) -> QuerySet[Supplier]:
    return Supplier.objects.filter(merchant=merchant)


def warehouse_list_for_merchant(*, merchant: Merchant) -> QuerySet[Warehouse]:
    return Warehouse.objects.filter(merchant=merchant)


def warehouse_default_for_merchant(*, merchant: Merchant) -> Warehouse:
    """The merchant's default warehouse (its first one if none is marked default)."""
    warehouse = Warehouse.objects.filter(merchant=merchant).order_by("-is_default", "pk").first()
    if warehouse is None:
        raise ValidationError({"warehouse": f"Merchant {merchant.slug} has no warehouse."})
    return warehouse


def stock_levels_for_product(*, merchant: Merchant, product: Product) -> QuerySet[StockLevel]:
    return StockLevel.objects.filter(merchant=merchant, product=product).select_related("warehouse")


def stock_movements_for_product(*, merchant: Merchant, product: Product, limit: int = 50) -> list[StockMovement]:
    return list(
        StockMovement.objects.filter(merchant=merchant, product=product)
        .select_related("warehouse", "created_by")
        .order_by("-created_at", "-id")[:limit]
    )


def on_order_by_product(*, merchant: Merchant) -> dict[int, int]:
    """Units approved or sent but not yet received, per product id."""
    rows = (
        PurchaseOrderLine.objects.filter(order__merchant=merchant, order__status__in=ON_ORDER_STATUSES)
        .values("product_id")
        .annotate(outstanding=Sum(F("quantity") - F("quantity_received")))
    )
    return {row["product_id"]: int(row["outstanding"] or 0) for row in rows}


def purchase_order_list_for_merchant(*, merchant: Merchant, status: str | None = None) -> QuerySet[PurchaseOrder]:
    orders = PurchaseOrder.objects.filter(merchant=merchant).select_related("supplier", "warehouse")
    if status:
        orders = orders.filter(status=status)
    line_value = ExpressionWrapper(
        F("lines__quantity") * F("lines__unit_cost"), output_field=DecimalField(max_digits=18, decimal_places=4)
    )
    return orders.annotate(
        total_value=Coalesce(Sum(line_value), Value(Decimal("0")), output_field=DecimalField()),
        total_units=Coalesce(Sum("lines__quantity"), Value(0), output_field=IntegerField()),
    ).order_by("-created_at", "-id")


def purchase_order_get(*, merchant: Merchant, order_id: int) -> PurchaseOrder:
    order = (
        PurchaseOrder.objects.filter(merchant=merchant, pk=order_id)
        .select_related("supplier", "warehouse")
        .prefetch_related("lines__product", "events__user")
        .first()
    )
    if order is None:
        raise Http404("No such purchase order.")
    return order


@dataclass(frozen=True)
class DashboardFigures:
    sku_count: int
    stockout_count: int
    open_purchase_orders: int
    late_purchase_orders: int
    stock_value: Decimal
    below_reorder_point: int | None


def dashboard_figures(*, merchant: Merchant, below_reorder_point: int | None = None) -> DashboardFigures:
    """Headline figures for the dashboard. ``below_reorder_point`` comes from the policy, once it exists."""
    active = Product.objects.filter(merchant=merchant, is_active=True)
    stock = active.annotate(available=Coalesce(Sum("stock_levels__on_hand") - Sum("stock_levels__allocated"), 0))
    value = StockLevel.objects.filter(merchant=merchant).aggregate(
        value=Coalesce(
            Sum(
                ExpressionWrapper(
                    F("on_hand") * F("product__unit_cost"), output_field=DecimalField(max_digits=18, decimal_places=4)
                )
            ),
            Value(Decimal("0")),
            output_field=DecimalField(),
        )
    )["value"]
    open_orders = PurchaseOrder.objects.filter(merchant=merchant, status__in=OPEN_PURCHASE_ORDER_STATUSES)
    late = open_orders.filter(
        status__in=(PurchaseOrderStatus.SENT, PurchaseOrderStatus.PARTIALLY_RECEIVED),
        expected_at__lt=timezone.localdate(),
    )
    return DashboardFigures(
        sku_count=active.count(),
        stockout_count=stock.filter(available__lte=0).count(),
        open_purchase_orders=open_orders.count(),
        late_purchase_orders=late.count(),
        stock_value=Decimal(value).quantize(Decimal("0.01")),
        below_reorder_point=below_reorder_point,
    )


def demand_frame_for_merchant(
    *, merchant: Merchant, since: datetime.date | None = None, until: datetime.date | None = None
) -> pd.DataFrame:
    """Daily units sold per SKU as a long ``item_id,date,quantity`` frame (the forecasting engine's input)."""
    lines = SalesOrderLine.objects.filter(order__merchant=merchant)
    if since is not None:
        lines = lines.filter(order__ordered_at__date__gte=since)
    if until is not None:
        lines = lines.filter(order__ordered_at__date__lte=until)
    rows = (
        lines.annotate(day=TruncDate("order__ordered_at"))
        .values("product__sku", "day")
        .annotate(units=Sum("quantity"))
        .order_by("product__sku", "day")
    )
    frame = pd.DataFrame.from_records(list(rows), columns=["product__sku", "day", "units"])
    frame = frame.rename(columns={"product__sku": "item_id", "day": "date", "units": "quantity"})
    frame["date"] = pd.to_datetime(frame["date"])
    frame["quantity"] = frame["quantity"].astype(float)
    return frame


@dataclass(frozen=True)
class LedgerMismatch:
    product_sku: str
    warehouse_code: str
    on_hand: int
    ledger_sum: int


def stock_ledger_mismatches(*, merchant: Merchant) -> list[LedgerMismatch]:
    """Stock levels whose on-hand units differ from the sum of their ledger rows (none, if all is well)."""
    sums = {
        (row["product_id"], row["warehouse_id"]): int(row["total"])
        for row in StockMovement.objects.filter(merchant=merchant)
        .values("product_id", "warehouse_id")
        .annotate(total=Sum("quantity"))
    }
    mismatches = []
    levels = StockLevel.objects.filter(merchant=merchant).select_related("product", "warehouse").order_by("pk")
    for level in levels:
        ledger_sum = sums.pop((level.product_id, level.warehouse_id), 0)
        if ledger_sum != level.on_hand:
            mismatches.append(LedgerMismatch(level.product.sku, level.warehouse.code, level.on_hand, ledger_sum))
    for (product_id, warehouse_id), ledger_sum in sorted(sums.items()):
        if ledger_sum:
            product = Product.objects.get(pk=product_id)
            warehouse = Warehouse.objects.get(pk=warehouse_id)
            mismatches.append(LedgerMismatch(product.sku, warehouse.code, 0, ledger_sum))
    return mismatches
