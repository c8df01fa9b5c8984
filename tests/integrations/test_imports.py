"""CSV imports through POST /api/v1/imports/ and `manage.py import_csv`: all or nothing, every bad row named."""

import io

import pytest
from django.core.management import CommandError, call_command

from integrations.models import ImportJob
from inventory.models import Product, SalesOrder, SalesOrderLine, StockLevel, StockMovement
from inventory.selectors import stock_ledger_mismatches
from tests.api.conftest import key_client
from tests.factories import MembershipFactory, MerchantFactory, ProductFactory, SupplierFactory


@pytest.fixture
def merchant(db):
    return MerchantFactory(slug="acme")


@pytest.fixture
def admin_client(merchant):
    return key_client(MembershipFactory(merchant=merchant, role="admin"))


def _upload(client, kind: str, text: str):
    return client.post("/api/v1/imports/", {"kind": kind, "file": io.BytesIO(text.encode())}, format="multipart")


def test_products_import_creates_and_updates(merchant, admin_client):
    SupplierFactory(merchant=merchant, name="Mugs Ltd")
    ProductFactory(merchant=merchant, sku="MUG-1", name="Old name", price="1.00")
    response = _upload(
        admin_client,
        "products",
        "sku,name,unit_cost,price,supplier,case_pack,is_active\n"
        "MUG-1,Blue mug,2.5,6.00,Mugs Ltd,6,yes\n"
        "CUP-1,Red cup,1.2500,3,,,no\n",
    )
    assert response.status_code == 201, response.json()
    assert (response.json()["status"], response.json()["written_count"]) == ("succeeded", 2)
    mug = Product.objects.get(sku="MUG-1")
    assert (mug.name, str(mug.price), mug.supplier.name, mug.case_pack) == ("Blue mug", "6.00", "Mugs Ltd", 6)
    cup = Product.objects.get(sku="CUP-1")
    assert (str(cup.unit_cost), cup.supplier, cup.is_active) == ("1.2500", None, False)


def test_every_bad_row_is_reported_and_nothing_is_written(merchant, admin_client):
    response = _upload(
        admin_client,
        "products",
        "sku,name,unit_cost,price,moq\n"
        "A-1,Fine,1.00,2.00,1\n"
        ",No sku,1.00,2.00,1\n"
        "A-3,Bad money,abc,-2,1\n"
        "A-1,Duplicate,1.00,2.00,0\n",
    )
    assert response.status_code == 422
    body = response.json()
    assert (body["status"], body["error_count"], body["written_count"]) == ("failed", 5, 0)
    assert [(error["row"], error["column"]) for error in body["errors"]] == [
        (2, "sku"),
        (3, "price"),
        (3, "unit_cost"),
        (4, "moq"),
        (4, "sku"),
    ]
    assert Product.objects.count() == 0
    assert ImportJob.objects.get().status == "failed"


def test_missing_and_unknown_columns_are_named(merchant, admin_client):
    body = _upload(admin_client, "stock", "sku,qty\nA,1\n").json()
    assert body["errors"] == [
        {"row": None, "column": "on_hand", "message": "Missing column."},
        {"row": None, "column": "qty", "message": "Unknown column."},
    ]


def test_not_a_csv_is_422(merchant, admin_client):
    response = admin_client.post(
        "/api/v1/imports/", {"kind": "sales", "file": io.BytesIO(b"\xff\xfe\x00bad")}, format="multipart"
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["column"] == "file"


def test_sales_history_import_counts_demand_without_moving_stock_and_runs_once(merchant, admin_client):
    ProductFactory(merchant=merchant, sku="MUG-1")
    ProductFactory(merchant=merchant, sku="CUP-1")
    csv = (
        "external_id,sku,ordered_at,quantity,unit_price\n"
        "INV-1,MUG-1,2024-03-01 10:00:00,2,5.00\n"
        "INV-1,CUP-1,2024-03-01 10:00:00,1,3.5\n"
        "INV-2,MUG-1,2024-03-02T09:30:00+01:00,4,4.99\n"
    )
    assert _upload(admin_client, "sales", csv).json()["written_count"] == 3
    assert SalesOrder.objects.filter(is_historical=True).count() == 2
    assert sorted(SalesOrderLine.objects.values_list("quantity", flat=True)) == [1, 2, 4]
    assert str(SalesOrderLine.objects.get(quantity=4).unit_price) == "4.99"
    assert StockMovement.objects.count() == 0
    again = _upload(admin_client, "sales", csv).json()
    assert (again["status"], again["written_count"]) == ("succeeded", 0)
    assert SalesOrderLine.objects.count() == 3


def test_sales_rows_with_unknown_skus_dates_or_quantities_are_named(merchant, admin_client):
    ProductFactory(merchant=merchant, sku="MUG-1")
    body = _upload(
        admin_client,
        "sales",
        "external_id,sku,ordered_at,quantity,unit_price\n"
        "INV-1,NOPE,2024-03-01,2,5\n"
        "INV-2,MUG-1,yesterday,-1,5\n"
        "INV-3,MUG-1,2024-03-01,1.5,5\n",
    ).json()
    assert [(e["row"], e["column"]) for e in body["errors"]] == [
        (1, "sku"),
        (2, "ordered_at"),
        (2, "quantity"),
        (3, "quantity"),
    ]
    assert body["errors"][0]["message"] == "Unknown SKU: 'NOPE'"
    assert SalesOrder.objects.count() == 0


def test_stock_snapshot_sets_levels_through_the_ledger(merchant, admin_client):
    ProductFactory(merchant=merchant, sku="MUG-1")
    ProductFactory(merchant=merchant, sku="CUP-1")
    assert _upload(admin_client, "stock", "sku,on_hand\nMUG-1,12\nCUP-1,0\n").status_code == 201
    assert _upload(admin_client, "stock", "sku,on_hand,warehouse\nMUG-1,7,MAIN\n").status_code == 201
    assert StockLevel.objects.get(product__sku="MUG-1").on_hand == 7
    assert list(StockMovement.objects.order_by("id").values_list("quantity", flat=True)) == [12, -5]
    assert stock_ledger_mismatches(merchant=merchant) == []


def test_import_csv_command(merchant, tmp_path, capsys):
    ProductFactory(merchant=merchant, sku="MUG-1")
    good = tmp_path / "stock.csv"
    good.write_text("sku,on_hand\nMUG-1,5\n")
    call_command("import_csv", "stock", str(good), "--merchant", "acme")
    assert "Imported 1 of 1 stock rows" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_text("sku,on_hand\nMUG-1,-5\nNOPE,1\n")
    with pytest.raises(CommandError, match="2 error"):
        call_command("import_csv", "stock", str(bad), "--merchant", "acme")
    assert capsys.readouterr().err.splitlines() == [
        "row 1, on_hand: Not a whole number: '-5'",
        "row 2, sku: Unknown SKU: 'NOPE'",
    ]
    assert StockLevel.objects.get().on_hand == 5
