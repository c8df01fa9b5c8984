"""A small merchant with 120 days of generated sales, for pipeline tests."""

import datetime
from decimal import Decimal

import numpy as np
import pandas as pd

from inventory import services
from inventory.models import Merchant, Product
from tests.factories import MerchantFactory, ProductFactory, SupplierFactory

TODAY = datetime.date(2026, 6, 1)
QUICK_METHODS = ("naive", "seasonal_naive", "croston_sba", "tsb")


def small_merchant(*, slug: str = "pipe", products: int = 6, stocked: tuple[int, ...] = (0, 1, 2)) -> Merchant:
    """``products`` SKUs over two suppliers; the ones at ``stocked`` indexes hold a year of stock, the rest none."""
    merchant = MerchantFactory(slug=slug)
    suppliers = [
        SupplierFactory(merchant=merchant, name="Alpha", lead_time_days=5),
        SupplierFactory(merchant=merchant, name="Beta", lead_time_days=10),
    ]
    warehouse = merchant.warehouses.get()
    rng = np.random.default_rng(7)
    rows = []
    made: list[Product] = []
    for index in range(products):
        product = ProductFactory(
            merchant=merchant,
            sku=f"P{index:02d}",
            supplier=suppliers[index % 2],
            unit_cost=Decimal("4.00"),
            price=Decimal("10.00"),
            case_pack=6 if index % 3 == 0 else 1,
        )
        made.append(product)
        rate = 2.0 + index
        for day in range(120):
            date = TODAY - datetime.timedelta(days=120 - day)
            units = int(rng.poisson(rate))
            if units:
                rows.append((f"d{day}", product.sku, f"{date}T12:00:00Z", units, "10.00"))
        if index in stocked:
            services.stock_adjust(merchant=merchant, product=product, warehouse=warehouse, quantity=int(rate * 365))
    frame = pd.DataFrame(rows, columns=["external_id", "sku", "ordered_at", "quantity", "unit_price"])
    services.sales_history_import(merchant=merchant, rows=frame)
    return merchant
