"""Reads that the pipeline leans on."""

import datetime

import pandas as pd
import pytest

from inventory import services
from inventory.selectors import demand_frame_for_merchant, product_ids_ever_sold
from tests.factories import MerchantFactory, ProductFactory

pytestmark = pytest.mark.django_db


def test_demand_in_a_window_counts_whole_days_at_both_ends_and_new_products_never_sold():
    # given: five products sold once each, around a window of 1 to 31 March, and another shop's product
    shop, other = MerchantFactory(slug="shop"), MerchantFactory(slug="other")
    sold_at = {
        "FIRST-MOMENT": "2026-03-01T00:00:00Z",
        "LAST-MOMENT": "2026-03-31T23:59:59Z",
        "DAY-BEFORE": "2026-02-28T23:59:59Z",
        "DAY-AFTER": "2026-04-01T00:00:00Z",
        "MIDDLE": "2026-03-15T12:00:00Z",
    }
    products = {sku: ProductFactory(merchant=shop, sku=sku) for sku in [*sold_at, "NEVER"]}
    rows = [(f"o-{sku}", sku, when, 1, "5.00") for sku, when in sold_at.items()]
    services.sales_history_import(
        merchant=shop, rows=pd.DataFrame(rows, columns=["external_id", "sku", "ordered_at", "quantity", "unit_price"])
    )
    ProductFactory(merchant=other, sku="MIDDLE")
    services.sales_history_import(
        merchant=other,
        rows=pd.DataFrame(
            [("x", "MIDDLE", "2026-03-15T12:00:00Z", 1, "5.00")],
            columns=["external_id", "sku", "ordered_at", "quantity", "unit_price"],
        ),
    )

    # when
    demand = demand_frame_for_merchant(merchant=shop, since=datetime.date(2026, 3, 1), until=datetime.date(2026, 3, 31))
    sold = product_ids_ever_sold(merchant=shop)

    # then
    assert [(row.item_id, str(row.date.date()), row.quantity) for row in demand.itertuples()] == [
        ("FIRST-MOMENT", "2026-03-01", 1.0),
        ("LAST-MOMENT", "2026-03-31", 1.0),
        ("MIDDLE", "2026-03-15", 1.0),
    ]
    assert sold == {products[sku].pk for sku in sold_at}
