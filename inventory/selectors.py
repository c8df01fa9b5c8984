"""Reads, always scoped to one merchant. Pages, the API and other apps read inventory through here."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pandas as pd
from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import ValidationError
from django.db import connections
from django.db.models import (
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
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
    SalesOrder,
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


def on_order_by_product(*, merchant: Merchant, product_ids: list[int] | None = None) -> dict[int, int]:
    """Units approved or sent but not yet received, per product id (of ``product_ids`` only, when given)."""
    lines = PurchaseOrderLine.objects.filter(order__merchant=merchant, order__status__in=ON_ORDER_STATUSES)
    if product_ids is not None:
        lines = lines.filter(product_id__in=product_ids)
    rows = lines.values("product_id").annotate(outstanding=Sum(F("quantity") - F("quantity_received")))
    return {row["product_id"]: int(row["outstanding"] or 0) for row in rows}


@dataclass(frozen=True)
class ProductStock:
    """One product's stock summed over warehouses, and its units on order."""

    product_id: int
    sku: str
    available: int  # on hand − allocated
    on_order: int

    @property
    def position(self) -> int:
        """The inventory position the policy compares with its reorder point: on hand − allocated + on order."""
        return self.available + self.on_order


def _units_on_order_of_outer_product() -> QuerySet[Any, Any]:
    """For a ``Subquery``: units on order (approved, sent or partly received, not yet received) of the outer
    query's product."""
    return (
        PurchaseOrderLine.objects.filter(product=OuterRef("pk"), order__status__in=ON_ORDER_STATUSES)
        .values("product")
        .annotate(units=Sum(F("quantity") - F("quantity_received")))
        .values("units")
    )


def product_stock_for_products(*, merchant: Merchant, product_ids: Iterable[int]) -> dict[int, ProductStock]:
    """Stock and units on order of the given products of ``merchant``, in one query (a product without stock has 0)."""
    available = (
        StockLevel.objects.filter(product=OuterRef("pk"))
        .values("product")
        .annotate(units=Sum(F("on_hand") - F("allocated")))
        .values("units")
    )
    on_order = _units_on_order_of_outer_product()
    rows = (
        Product.objects.filter(merchant=merchant, pk__in=set(product_ids))
        .annotate(
            available_units=Coalesce(Subquery(available, output_field=IntegerField()), 0),
            on_order_units=Coalesce(Subquery(on_order, output_field=IntegerField()), 0),
        )
        .values_list("pk", "sku", "available_units", "on_order_units")
    )
    return {
        pk: ProductStock(product_id=pk, sku=sku, available=int(units), on_order=int(ordered))
        for pk, sku, units, ordered in rows
    }


def back_in_stock_dates_for_products(
    *, merchant: Merchant, product_ids: Iterable[int], exclude_order_id: int | None = None
) -> dict[int, datetime.date]:
    """The earliest expected date among the open purchase orders with units of each product still to receive.

    Products no such order expects are left out. ``exclude_order_id`` leaves one order out of the count.
    """
    lines = PurchaseOrderLine.objects.filter(
        order__merchant=merchant,
        order__status__in=OPEN_PURCHASE_ORDER_STATUSES,
        order__expected_at__isnull=False,
        product_id__in=set(product_ids),
        quantity__gt=F("quantity_received"),
    )
    if exclude_order_id is not None:
        lines = lines.exclude(order_id=exclude_order_id)
    earliest = lines.values("product_id").annotate(earliest=Min("order__expected_at"))
    return dict(earliest.values_list("product_id", "earliest"))


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


def _day_start(day: datetime.date) -> datetime.datetime:
    """Midnight at the start of ``day`` in the current time zone."""
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=timezone.get_current_timezone())


def _demand_lines() -> QuerySet[SalesOrderLine]:
    """The sales lines that count as demand: those of orders not cancelled."""
    return SalesOrderLine.objects.filter(order__cancelled_at__isnull=True)


def demand_frame_for_merchant(
    *,
    merchant: Merchant,
    since: datetime.date | None = None,
    until: datetime.date | None = None,
    product_ids: list[int] | None = None,
) -> pd.DataFrame:
    """Daily units sold per SKU as a long ``item_id,date,quantity`` frame (the forecasting engine's input)."""
    lines = _demand_lines().filter(order__merchant=merchant)
    if product_ids is not None:
        lines = lines.filter(product_id__in=product_ids)
    # timestamp bounds (not a cast to date) let PostgreSQL use the order-time index; same days in the current zone
    if since is not None:
        lines = lines.filter(order__ordered_at__gte=_day_start(since))
    if until is not None:
        end = _day_start(until + datetime.timedelta(days=1))
        lines = lines.filter(order__ordered_at__lt=end)
    rows = (
        lines.annotate(day=TruncDate("order__ordered_at"))
        .values_list("product__sku", "day")
        .annotate(units=Sum("quantity"))
        .order_by("product__sku", "day")
    )
    # A chunk reads a few hundred thousand rows: plain tuples from the cursor, without a model layer per row.
    sql, params = rows.query.sql_with_params()
    with connections[rows.db].cursor() as cursor:
        cursor.execute(sql, params)
        records = cursor.fetchall()
    frame = pd.DataFrame.from_records(records, columns=["item_id", "date", "quantity"])
    frame["date"] = pd.to_datetime(frame["date"])
    frame["quantity"] = frame["quantity"].astype(float)
    return frame


@dataclass(frozen=True)
class LedgerMismatch:
    product_sku: str
    warehouse_code: str
    on_hand: int
    ledger_sum: int


def product_ids_ever_sold(*, merchant: Merchant, before: datetime.date | None = None) -> set[int]:
    """Products with at least one sale line of an order not cancelled, ever or on a day before ``before`` in the
    current time zone (an index probe on the lines per product, joined to their orders): the others are new to the
    shop, or were first sold on or after ``before``."""
    sold = _demand_lines().filter(product=OuterRef("pk"))
    if before is not None:
        sold = sold.filter(order__ordered_at__lt=_day_start(before))
    products = Product.objects.filter(merchant=merchant).filter(Exists(sold)).order_by()
    return set(products.values_list("pk", flat=True))


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


def stock_level_list_for_merchant(*, merchant: Merchant) -> QuerySet[StockLevel]:
    """Stock levels with their product and warehouse, ordered by SKU and warehouse code."""
    return (
        StockLevel.objects.filter(merchant=merchant)
        .select_related("product", "warehouse")
        .order_by("product__sku", "warehouse__code")
    )


def sales_order_list_for_merchant(*, merchant: Merchant) -> QuerySet[SalesOrder]:
    """Sales orders (live and imported history) with their lines, newest first."""
    return (
        SalesOrder.objects.filter(merchant=merchant).prefetch_related("lines__product").order_by("-ordered_at", "-id")
    )


# Days of cover, for the dashboard and the product list

RECENT_DEMAND_DAYS = 28


def product_cover_list_for_merchant(
    *,
    merchant: Merchant,
    search: str = "",
    supplier_id: int | None = None,
    at_risk: bool = False,
    today: datetime.date | None = None,
) -> QuerySet[Product]:
    """``product_list_for_merchant`` plus what says whether a product may run out before an order could arrive.

    Adds ``on_order_total`` (units approved or sent, not received), ``recent_units`` (sold over the last
    ``RECENT_DEMAND_DAYS`` days before ``today``) and ``lead_time`` (days). ``at_risk`` keeps the products whose
    available stock plus stock on order does not cover the recent daily demand over the lead time; the filter runs
    in the database, so the list pages without loading every product. ``with_cover`` adds the days of cover.
    """
    today = today or timezone.localdate()
    until = _day_start(today)
    since = until - datetime.timedelta(days=RECENT_DEMAND_DAYS)
    on_order = _units_on_order_of_outer_product()
    sold = (
        _demand_lines()
        .filter(product=OuterRef("pk"), order__ordered_at__gte=since, order__ordered_at__lt=until)
        .values("product")
        .annotate(units=Sum("quantity"))
        .values("units")
    )
    products = product_list_for_merchant(merchant=merchant, search=search, supplier_id=supplier_id).annotate(
        on_order_total=Coalesce(Subquery(on_order, output_field=IntegerField()), Value(0)),
        recent_units=Coalesce(Subquery(sold, output_field=IntegerField()), Value(0)),
        lead_time=Coalesce(F("lead_time_days_override"), F("supplier__lead_time_days"), Value(0)),
    )
    if at_risk:
        # position × days < units sold × lead time, i.e. fewer days of cover than the lead time
        products = products.alias(
            shortfall=ExpressionWrapper(
                F("recent_units") * F("lead_time") - (F("available_total") + F("on_order_total")) * RECENT_DEMAND_DAYS,
                output_field=IntegerField(),
            )
        ).filter(shortfall__gt=0)
    return products


@dataclass(frozen=True)
class Cover:
    days_of_cover: float | None
    at_risk: bool


def cover_of(product: Product) -> Cover:
    """Days of cover of a product from ``product_cover_list_for_merchant`` (None without recent demand)."""
    units = product.recent_units  # type: ignore[attr-defined]
    if units <= 0:
        return Cover(None, False)
    position = product.available_total + product.on_order_total  # type: ignore[attr-defined]
    days = position * RECENT_DEMAND_DAYS / units
    return Cover(days, days < product.lead_time)  # type: ignore[attr-defined]


def with_cover(products: Iterable[Product]) -> list[Product]:
    """The products with ``days_of_cover`` and ``at_risk`` set from ``cover_of``, for display."""
    listed = list(products)
    for product in listed:
        cover = cover_of(product)
        product.days_of_cover = cover.days_of_cover  # type: ignore[attr-defined]
        product.at_risk = cover.at_risk  # type: ignore[attr-defined]
    return listed


def daily_sales_for_product(
    *, merchant: Merchant, product: Product, since: datetime.date, until: datetime.date
) -> dict[datetime.date, int]:
    """Units of one product sold per day from ``since`` to ``until`` (days without sales are left out)."""
    rows = (
        _demand_lines()
        .filter(
            order__merchant=merchant,
            product=product,
            order__ordered_at__date__gte=since,
            order__ordered_at__date__lte=until,
        )
        .annotate(day=TruncDate("order__ordered_at"))
        .values("day")
        .annotate(units=Sum("quantity"))
        .values_list("day", "units")
    )
    return {day: int(units) for day, units in rows}


@dataclass(frozen=True)
class StockoutPeriod:
    start: datetime.date
    end: datetime.date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def stockout_periods_for_product(
    *, merchant: Merchant, product: Product, since: datetime.date, until: datetime.date
) -> list[StockoutPeriod]:
    """Days from ``since`` to ``until`` that ended with nothing on hand in any warehouse, by the stock ledger.

    Days before the product's first ledger row are unknown and never counted as out of stock.
    """
    movements = list(
        StockMovement.objects.filter(merchant=merchant, product=product)
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(change=Sum("quantity"))
        .order_by("day")
        .values_list("day", "change")
    )
    if not movements:
        return []
    changes = dict(movements)
    first_day = movements[0][0]
    on_hand = sum(change for day, change in movements if day < since)
    periods: list[StockoutPeriod] = []
    start: datetime.date | None = None
    day = since
    while day <= until:
        on_hand += changes.get(day, 0)
        out = day >= first_day and on_hand <= 0
        if out and start is None:
            start = day
        if not out and start is not None:
            periods.append(StockoutPeriod(start, day - datetime.timedelta(days=1)))
            start = None
        day += datetime.timedelta(days=1)
    if start is not None:
        periods.append(StockoutPeriod(start, until))
    return periods


def membership_list_for_merchant(*, merchant: Merchant) -> QuerySet[Membership]:
    return Membership.objects.filter(merchant=merchant).select_related("user").order_by("user__username")


def membership_get(*, merchant: Merchant, membership_id: int) -> Membership:
    membership = membership_list_for_merchant(merchant=merchant).filter(pk=membership_id).first()
    if membership is None:
        raise Http404("No such member.")
    return membership


def supplier_get(*, merchant: Merchant, supplier_id: int) -> Supplier:
    supplier = Supplier.objects.filter(merchant=merchant, pk=supplier_id).first()
    if supplier is None:
        raise Http404("No such supplier.")
    return supplier


def product_list_with_stock_for_merchant(*, merchant: Merchant) -> QuerySet[Product]:
    """Products with the same stock totals as ``product_list_for_merchant``, from per-row subqueries.

    A page then costs only its own rows (and a count needs no join), which matters for large catalogues.
    """
    levels = StockLevel.objects.filter(product=OuterRef("pk")).order_by().values("product")
    on_hand = Subquery(levels.annotate(total=Sum("on_hand")).values("total"), output_field=IntegerField())
    allocated = Subquery(levels.annotate(total=Sum("allocated")).values("total"), output_field=IntegerField())
    return (
        Product.objects.filter(merchant=merchant)
        .select_related("supplier")
        .annotate(on_hand_total=Coalesce(on_hand, Value(0)), allocated_total=Coalesce(allocated, Value(0)))
        .annotate(available_total=F("on_hand_total") - F("allocated_total"))
        .order_by("sku")
    )
