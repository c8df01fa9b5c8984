import datetime

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from inventory.demo import demo_load
from inventory.models import (
    Membership,
    Merchant,
    Product,
    PurchaseOrder,
    SalesOrder,
    SalesOrderLine,
    StockLevel,
    StockMovement,
    Supplier,
)
from inventory.selectors import dashboard_figures, demand_frame_for_merchant, stock_ledger_mismatches

COUNTED = (
    Merchant,
    Membership,
    Supplier,
    Product,
    SalesOrder,
    SalesOrderLine,
    StockLevel,
    StockMovement,
    PurchaseOrder,
)


@pytest.mark.django_db
def test_demo_is_real_and_idempotent(client):
    today = datetime.date(2026, 11, 30)
    first = demo_load(today=today)
    counts = {model.__name__: model.objects.count() for model in COUNTED}
    second = demo_load(today=today)

    assert (first.products_created, first.sales_lines_created, first.purchase_orders_created) == (300, 70593, 2)
    assert (second.products_created, second.sales_lines_created, second.stock_movements_created) == (0, 0, 0)
    assert {model.__name__: model.objects.count() for model in COUNTED} == counts
    merchant = first.merchant
    assert stock_ledger_mismatches(merchant=merchant) == []
    demand = demand_frame_for_merchant(merchant=merchant)
    assert demand["date"].max() == datetime.datetime(2026, 11, 29)
    assert int(demand["quantity"].sum()) == 2_190_305  # every unit of the shipped file
    figures = dashboard_figures(merchant=merchant)
    assert (figures.sku_count, figures.open_purchase_orders, figures.late_purchase_orders) == (300, 2, 1)
    assert client.login(username="demo", password="demo")
    assert Membership.objects.get(user__username="demo").can_approve


@pytest.mark.django_db
def test_create_merchant_command():
    call_command("create_merchant", "north", "--user", "nina", "--password", "pw-123456", "--role", "buyer")
    membership = Membership.objects.get(user__username="nina")
    assert (membership.merchant.slug, membership.role) == ("north", "buyer")
    assert membership.merchant.warehouses.get().code == "MAIN"
    assert get_user_model().objects.get(username="nina").check_password("pw-123456")
    with pytest.raises(CommandError, match=r"Merchant 'north' already exists\."):
        call_command("create_merchant", "north", "--user", "nina", "--password", "pw-123456")
    with pytest.raises(CommandError, match="slug"):
        call_command("create_merchant", "not a slug!", "--user", "x", "--password", "pw")
    assert Merchant.objects.count() == 1
