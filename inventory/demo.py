"""The demo merchant, built from real UCI Online Retail sales shipped in ``inventory/demo_data/``.

Sales dates are shifted so that the last day of the real history is yesterday at the
first load; everything the source does not have (suppliers, costs, packs, stock) is
derived deterministically from each SKU, so two loads on the same data agree.
"""

from __future__ import annotations

import datetime
import zlib
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pandas as pd
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from inventory import services
from inventory.models import Merchant, Product, PurchaseOrder, Role, SalesOrder, StockMovement, Supplier
from inventory.selectors import warehouse_default_for_merchant

DEMO_DATA_DIR = Path(__file__).resolve().parent / "demo_data"
DEMO_SLUG = "demo"
OPENING_STOCK_REFERENCE = "demo: opening stock"


@dataclass(frozen=True)
class DemoSupplier:
    name: str
    lead_time_days: int
    lead_time_std_days: Decimal
    min_order_value: Decimal


DEMO_SUPPLIERS = (
    DemoSupplier("Kent Giftware Ltd", 5, Decimal("1.0"), Decimal("150")),
    DemoSupplier("Midlands Homeware", 7, Decimal("1.5"), Decimal("200")),
    DemoSupplier("Northern Paper Co", 10, Decimal("2.0"), Decimal("100")),
    DemoSupplier("Shenzhen Trading", 28, Decimal("5.0"), Decimal("1000")),
    DemoSupplier("Lisbon Ceramics", 14, Decimal("3.0"), Decimal("300")),
)
CASE_PACKS = (1, 6, 12, 12, 24, 48)
MOQS = (1, 1, 12, 24, 48, 96)
# Days of cover of the opening stock: a few stockouts, some short, most healthy.
COVER_DAYS = (0, 3, 7, 12, 20, 30, 30, 45, 45, 60, 60, 90)


def _stable(sku: str, salt: str) -> int:
    return zlib.crc32(f"{salt}:{sku}".encode())


@dataclass(frozen=True)
class DemoResult:
    merchant: Merchant
    products_created: int
    sales_lines_created: int
    stock_movements_created: int
    purchase_orders_created: int


def demo_load(*, today: datetime.date | None = None) -> DemoResult:
    """Create (or complete) the demo merchant. Running it again changes nothing."""
    today = today or timezone.localdate()
    products_frame = pd.read_csv(DEMO_DATA_DIR / "uci_products.csv", dtype={"sku": str})
    sales = pd.read_csv(DEMO_DATA_DIR / "uci_daily_sales.csv.gz", dtype={"sku": str}, parse_dates=["date"])
    with transaction.atomic():
        merchant = Merchant.objects.filter(slug=DEMO_SLUG).first() or services.merchant_create(
            slug=DEMO_SLUG, name="Demo Gift Shop", currency="GBP"
        )
        _demo_user(merchant)
        suppliers = _demo_suppliers(merchant)
        products_created = _demo_products(merchant, products_frame, suppliers)
        lines_created = _demo_sales(merchant, sales, today)
        movements_created = _demo_opening_stock(merchant, sales)
        orders_created = _demo_purchase_orders(merchant, today)
    return DemoResult(merchant, products_created, lines_created, movements_created, orders_created)


def _demo_user(merchant: Merchant) -> None:
    user_model = get_user_model()
    user = user_model.objects.filter(username="demo").first()
    if user is None:
        user = user_model.objects.create_user(username="demo", password="demo", first_name="Demo")
    services.membership_set(merchant=merchant, user=user, role=Role.BUYER)


def _demo_suppliers(merchant: Merchant) -> list[Supplier]:
    suppliers = []
    for spec in DEMO_SUPPLIERS:
        supplier = Supplier.objects.filter(merchant=merchant, name=spec.name).first() or services.supplier_create(
            merchant=merchant,
            name=spec.name,
            lead_time_days=spec.lead_time_days,
            lead_time_std_days=spec.lead_time_std_days,
            min_order_value=spec.min_order_value,
        )
        suppliers.append(supplier)
    return suppliers


def _demo_products(merchant: Merchant, frame: pd.DataFrame, suppliers: list[Supplier]) -> int:
    existing = set(Product.objects.filter(merchant=merchant).values_list("sku", flat=True))
    created = 0
    for row in frame.itertuples(index=False):
        sku = str(row.sku)
        if sku in existing:
            continue
        price = Decimal(str(row.price)).quantize(Decimal("0.01"))
        margin = Decimal(40 + _stable(sku, "margin") % 25) / 100
        name = str(row.name).strip().title()
        services.product_create(
            merchant=merchant,
            sku=sku,
            name=name,
            description=f"{name}. Gift-ware from the UCI Online Retail catalogue, sold singly and in trade packs.",
            unit_cost=(price * (1 - margin)).quantize(Decimal("0.0001")),
            price=price,
            supplier=suppliers[_stable(sku, "supplier") % len(suppliers)],
            case_pack=CASE_PACKS[_stable(sku, "pack") % len(CASE_PACKS)],
            moq=MOQS[_stable(sku, "moq") % len(MOQS)],
        )
        created += 1
    return created


def _demo_sales(merchant: Merchant, sales: pd.DataFrame, today: datetime.date) -> int:
    if SalesOrder.objects.filter(merchant=merchant, channel="history").exists():
        return 0
    shift = pd.Timestamp(today - datetime.timedelta(days=1)) - sales["date"].max()
    prices = dict(Product.objects.filter(merchant=merchant).values_list("sku", "price"))
    noon = pd.Timedelta(hours=12)
    rows = pd.DataFrame(
        {
            "external_id": "uci-" + sales["date"].dt.strftime("%Y-%m-%d"),
            "sku": sales["sku"],
            "ordered_at": (sales["date"] + shift + noon).dt.tz_localize("UTC"),
            "quantity": sales["quantity"],
            "unit_price": sales["sku"].map(prices).astype(float),
        }
    )
    return services.sales_history_import(merchant=merchant, rows=rows, channel="history")


def _demo_opening_stock(merchant: Merchant, sales: pd.DataFrame) -> int:
    if StockMovement.objects.filter(merchant=merchant, reference=OPENING_STOCK_REFERENCE).exists():
        return 0
    last = sales["date"].max()
    recent = sales[sales["date"] > last - pd.Timedelta(days=28)]
    daily_mean = recent.groupby("sku")["quantity"].sum() / 28.0
    warehouse = warehouse_default_for_merchant(merchant=merchant)
    created = 0
    for product in Product.objects.filter(merchant=merchant).order_by("sku"):
        cover = COVER_DAYS[_stable(product.sku, "cover") % len(COVER_DAYS)]
        units = round(float(daily_mean.get(product.sku, 0.0)) * cover)
        if units > 0:
            services.stock_adjust(
                merchant=merchant,
                product=product,
                warehouse=warehouse,
                quantity=units,
                kind="receipt",
                reference=OPENING_STOCK_REFERENCE,
            )
            created += 1
    return created


def _demo_purchase_orders(merchant: Merchant, today: datetime.date) -> int:
    if PurchaseOrder.objects.filter(merchant=merchant).exists():
        return 0
    created = 0
    for supplier, days_from_today in zip(
        Supplier.objects.filter(merchant=merchant).order_by("name")[:2], (3, -2), strict=False
    ):
        products = list(Product.objects.filter(merchant=merchant, supplier=supplier).order_by("sku")[:4])
        if not products:
            continue
        order = services.purchase_order_create(
            merchant=merchant,
            supplier=supplier,
            lines=[services.PurchaseLineInput(product=p, quantity=max(p.moq, p.case_pack) * 2) for p in products],
            note="Demo order",
        )
        services.purchase_order_approve(order=order)
        services.purchase_order_send(order=order, expected_at=today + datetime.timedelta(days=days_from_today))
        created += 1
    return created
