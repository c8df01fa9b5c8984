import datetime
from decimal import Decimal

import pandas as pd
import pytest
from django.core.exceptions import ValidationError

from inventory import services
from inventory.models import (
    MovementKind,
    Product,
    SalesOrder,
    SalesOrderLine,
    StockLevel,
    StockMovement,
    Warehouse,
)
from inventory.selectors import demand_frame_for_merchant, stock_ledger_mismatches
from inventory.services import InsufficientStock, SalesLineInput
from tests.factories import MerchantFactory, ProductFactory


def _level(product: Product, warehouse: Warehouse) -> StockLevel:
    return StockLevel.objects.get(product=product, warehouse=warehouse)


def test_stock_adjust_writes_level_and_ledger_row(merchant, product, warehouse, buyer):
    # when
    movement = services.stock_adjust(
        merchant=merchant, product=product, warehouse=warehouse, quantity=12, reference="count", user=buyer
    )
    services.stock_adjust(merchant=merchant, product=product, warehouse=warehouse, quantity=-5)
    # then
    assert _level(product, warehouse).on_hand == 7
    assert (movement.kind, movement.quantity, movement.balance_after, movement.created_by) == (
        MovementKind.ADJUSTMENT,
        12,
        12,
        buyer,
    )
    assert list(StockMovement.objects.order_by("id").values_list("quantity", "balance_after")) == [(12, 12), (-5, 7)]
    assert stock_ledger_mismatches(merchant=merchant) == []


def test_stock_adjust_below_zero_is_rejected_and_writes_nothing(merchant, product, warehouse):
    services.stock_adjust(merchant=merchant, product=product, warehouse=warehouse, quantity=3)
    with pytest.raises(InsufficientStock) as error:
        services.stock_adjust(merchant=merchant, product=product, warehouse=warehouse, quantity=-4)
    assert error.value.message_dict == {"quantity": ["Not enough stock of MUG-1 in MAIN: 3 available, 4 requested."]}
    assert _level(product, warehouse).on_hand == 3
    assert StockMovement.objects.count() == 1


def test_stock_set_records_the_difference(merchant, product, warehouse):
    services.stock_adjust(merchant=merchant, product=product, warehouse=warehouse, quantity=10)
    movement = services.stock_set(merchant=merchant, product=product, warehouse=warehouse, on_hand=4)
    assert movement is not None and movement.quantity == -6
    assert services.stock_set(merchant=merchant, product=product, warehouse=warehouse, on_hand=4) is None
    assert _level(product, warehouse).on_hand == 4


def test_a_stock_take_below_the_allocation_releases_what_was_not_counted(merchant, product, warehouse):
    services.stock_adjust(merchant=merchant, product=product, warehouse=warehouse, quantity=10)
    services.stock_allocate(merchant=merchant, product=product, warehouse=warehouse, quantity=7)

    movement = services.stock_set(merchant=merchant, product=product, warehouse=warehouse, on_hand=3)

    level = _level(product, warehouse)
    assert (level.on_hand, level.allocated) == (3, 3)
    assert movement is not None
    assert (movement.quantity, movement.note) == (-7, "stock take; 4 allocated units released (fewer were counted)")
    assert stock_ledger_mismatches(merchant=merchant) == []


def test_an_adjustment_below_the_allocation_releases_what_is_no_longer_there(merchant, product, warehouse):
    services.stock_adjust(merchant=merchant, product=product, warehouse=warehouse, quantity=10)
    services.stock_allocate(merchant=merchant, product=product, warehouse=warehouse, quantity=8)

    movement = services.stock_adjust(
        merchant=merchant, product=product, warehouse=warehouse, quantity=-5, note="dropped a case"
    )

    level = _level(product, warehouse)
    assert (level.on_hand, level.allocated) == (5, 5)
    assert movement.note == "dropped a case; 3 allocated units released (fewer are left)"
    with pytest.raises(InsufficientStock):
        services.stock_adjust(merchant=merchant, product=product, warehouse=warehouse, quantity=-6)
    assert (_level(product, warehouse).on_hand, _level(product, warehouse).allocated) == (5, 5)


def test_a_stock_snapshot_below_the_allocation_releases_what_was_not_counted(merchant, product, warehouse):
    other = ProductFactory(merchant=merchant, sku="MUG-2")
    for item in (product, other):
        services.stock_adjust(merchant=merchant, product=item, warehouse=warehouse, quantity=10)
        services.stock_allocate(merchant=merchant, product=item, warehouse=warehouse, quantity=5)

    changed = services.stock_set_many(
        merchant=merchant,
        counts=[services.StockCount(product, warehouse, 2), services.StockCount(other, warehouse, 8)],
        note="snapshot",
    )

    assert changed == 2
    assert [(_level(item, warehouse).on_hand, _level(item, warehouse).allocated) for item in (product, other)] == [
        (2, 2),
        (8, 5),
    ]
    assert set(StockMovement.objects.filter(quantity__in=[-8, -2]).values_list("note", flat=True)) == {
        "snapshot; allocated units released (fewer were counted): MUG-1 in MAIN: 3"
    }


def test_stock_transfer_moves_units_with_two_ledger_rows(merchant, product, warehouse):
    store = services.warehouse_create(merchant=merchant, code="SHOP", name="Shop floor")
    services.stock_adjust(merchant=merchant, product=product, warehouse=warehouse, quantity=10)
    rows = services.stock_transfer(merchant=merchant, product=product, source=warehouse, destination=store, quantity=4)
    assert [(r.warehouse.code, r.quantity, r.balance_after, r.kind) for r in rows] == [
        ("MAIN", -4, 6, "transfer"),
        ("SHOP", 4, 4, "transfer"),
    ]
    assert (_level(product, warehouse).on_hand, _level(product, store).on_hand) == (6, 4)


def test_allocation_limits_what_can_be_sold(merchant, product, warehouse):
    services.stock_adjust(merchant=merchant, product=product, warehouse=warehouse, quantity=5)
    level = services.stock_allocate(merchant=merchant, product=product, warehouse=warehouse, quantity=3)
    assert (level.on_hand, level.allocated, level.available) == (5, 3, 2)
    with pytest.raises(InsufficientStock):
        services.sales_order_record(merchant=merchant, external_id="A-1", lines=[SalesLineInput("MUG-1", 3, "5.00")])
    assert SalesOrder.objects.count() == 0


def test_sales_order_takes_stock_once(merchant, product, warehouse):
    services.stock_adjust(merchant=merchant, product=product, warehouse=warehouse, quantity=10)
    lines = [SalesLineInput("MUG-1", 3, "5.00")]
    # when the storefront sends the same order twice
    first, created_first = services.sales_order_record(merchant=merchant, external_id="1001", lines=lines)
    again, created_again = services.sales_order_record(merchant=merchant, external_id="1001", lines=lines)
    # then
    assert (created_first, created_again, again.pk) == (True, False, first.pk)
    assert _level(product, warehouse).on_hand == 7
    assert list(StockMovement.objects.filter(kind="sale").values_list("quantity", "reference")) == [
        (-3, "sales order web:1001")
    ]


def test_cancelling_a_live_order_returns_its_units_once_and_it_stops_counting_as_demand(
    merchant, product, warehouse, buyer
):
    services.stock_adjust(merchant=merchant, product=product, warehouse=warehouse, quantity=10)
    kept, _ = services.sales_order_record(
        merchant=merchant,
        external_id="1001",
        lines=[SalesLineInput("MUG-1", 2, "5.00")],
        ordered_at=datetime.datetime(2024, 3, 1, 12, tzinfo=datetime.UTC),
    )
    order, _ = services.sales_order_record(
        merchant=merchant,
        external_id="1002",
        lines=[SalesLineInput("MUG-1", 3, "5.00")],
        ordered_at=datetime.datetime(2024, 3, 1, 15, tzinfo=datetime.UTC),
    )

    # when: the storefront cancels the second order, twice
    cancelled, first = services.sales_order_cancel(order=order, reason="  customer changed their mind ", user=buyer)
    again, second = services.sales_order_cancel(order=order, reason="again")

    # then
    assert (first, second, again.pk, again.cancel_reason) == (True, False, order.pk, "customer changed their mind")
    assert cancelled.cancelled_at is not None and again.cancelled_at == cancelled.cancelled_at
    assert _level(product, warehouse).on_hand == 8
    assert list(StockMovement.objects.filter(kind="return").values_list("quantity", "balance_after", "reference")) == [
        (3, 8, "sales order web:1002 cancelled")
    ]
    assert stock_ledger_mismatches(merchant=merchant) == []
    assert demand_frame_for_merchant(merchant=merchant).to_dict("records") == [
        {"item_id": "MUG-1", "date": pd.Timestamp("2024-03-01"), "quantity": 2.0}
    ]
    assert kept.cancelled_at is None


def test_cancelling_imported_history_moves_no_stock(merchant, product, warehouse):
    rows = pd.DataFrame(
        {"external_id": ["h-1"], "sku": ["MUG-1"], "ordered_at": ["2024-03-01"], "quantity": ["5"], "unit_price": ["5"]}
    )
    services.sales_history_import(merchant=merchant, rows=rows)
    order = SalesOrder.objects.get(external_id="h-1")

    _, cancelled = services.sales_order_cancel(order=order)

    assert cancelled is True
    assert StockMovement.objects.count() == 0
    assert demand_frame_for_merchant(merchant=merchant).empty


def test_a_cancellation_reason_over_500_characters_is_refused_and_nothing_changes(merchant, product, warehouse):
    services.stock_adjust(merchant=merchant, product=product, warehouse=warehouse, quantity=10)
    order, _ = services.sales_order_record(merchant=merchant, external_id="1", lines=[SalesLineInput("MUG-1", 3, "5")])

    with pytest.raises(ValidationError) as error:
        services.sales_order_cancel(order=order, reason="x" * 501)

    assert error.value.message_dict == {"reason": ["A cancellation reason has at most 500 characters."]}
    assert (SalesOrder.objects.get().cancelled_at, _level(product, warehouse).on_hand) == (None, 7)


def test_oversell_rejects_the_whole_order(merchant, product, warehouse):
    other = ProductFactory(merchant=merchant, sku="MUG-2")
    services.stock_adjust(merchant=merchant, product=product, warehouse=warehouse, quantity=10)
    services.stock_adjust(merchant=merchant, product=other, warehouse=warehouse, quantity=1)
    with pytest.raises(InsufficientStock) as error:
        services.sales_order_record(
            merchant=merchant,
            external_id="1002",
            lines=[SalesLineInput("MUG-1", 2, "5.00"), SalesLineInput("MUG-2", 2, "5.00")],
        )
    assert error.value.message_dict == {"quantity": ["Not enough stock of MUG-2 in MAIN: 1 available, 2 requested."]}
    assert (_level(product, warehouse).on_hand, _level(other, warehouse).on_hand) == (10, 1)
    assert (SalesOrder.objects.count(), SalesOrderLine.objects.count(), StockMovement.objects.count()) == (0, 0, 2)


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"external_id": " "}, {"external_id": ["An order needs the storefront's external id."]}),
        ({"lines": []}, {"lines": ["An order needs at least one line."]}),
        ({"lines": [SalesLineInput("NOPE", 1, "1")]}, {"sku": ["Unknown SKU(s) for this merchant: NOPE."]}),
        ({"lines": [SalesLineInput("MUG-1", 0, "1")]}, {"lines[0].quantity": ["Quantity must not be zero."]}),
        (
            {"lines": [SalesLineInput("MUG-1", -2, "1")]},
            {"lines[0].quantity": ["Quantity must not be negative, got -2."]},
        ),
        (
            {"lines": [SalesLineInput("MUG-1", 2.5, "1")]},  # type: ignore[arg-type]
            {"lines[0].quantity": ["Quantity must be a whole number, got 2.5."]},
        ),
        (
            {"lines": [SalesLineInput("MUG-1", 10**12, "1")]},
            {"lines[0].quantity": ["Quantity 1000000000000 is out of range (at most 1000000000)."]},
        ),
        (
            {"lines": [SalesLineInput("MUG-1", 1, "free")]},
            {"lines[0].unit_price": ["'free' is not an amount of money."]},
        ),
        (
            {"lines": [SalesLineInput("MUG-1", 1, "-1")]},
            {"lines[0].unit_price": ["Amount must be zero or more, got -1."]},
        ),
    ],
)
def test_sales_order_bad_input_names_the_field_and_writes_nothing(merchant, product, warehouse, kwargs, expected):
    services.stock_adjust(merchant=merchant, product=product, warehouse=warehouse, quantity=10)
    arguments = {"merchant": merchant, "external_id": "X-1", "lines": [SalesLineInput("MUG-1", 1, "5")]} | kwargs
    with pytest.raises(ValidationError) as error:
        services.sales_order_record(**arguments)
    assert error.value.message_dict == expected
    assert (SalesOrder.objects.count(), StockMovement.objects.count(), _level(product, warehouse).on_hand) == (0, 1, 10)


def test_services_refuse_another_merchants_objects(merchant, product, warehouse):
    other = MerchantFactory(slug="other")
    other_product = ProductFactory(merchant=other)
    with pytest.raises(ValidationError) as error:
        services.stock_adjust(merchant=merchant, product=other_product, warehouse=warehouse, quantity=1)
    assert error.value.message_dict == {"product": ["Product does not belong to merchant acme."]}
    with pytest.raises(ValidationError):
        services.product_create(
            merchant=merchant, sku="X", name="X", unit_cost="1", price="2", supplier=other_product.supplier
        )
    assert StockMovement.objects.count() == 0


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"sku": ""}, "sku"),
        ({"name": ""}, "name"),
        ({"unit_cost": "-1"}, "unit_cost"),
        ({"price": "abc"}, "price"),
        ({"case_pack": 0}, "case_pack"),
        ({"moq": 0}, "moq"),
        ({"sku": "MUG-1"}, "__all__"),
    ],
)
def test_product_create_bad_input(merchant, product, kwargs, field):
    arguments = {"merchant": merchant, "sku": "NEW-1", "name": "New", "unit_cost": "1.00", "price": "2.00"} | kwargs
    with pytest.raises(ValidationError) as error:
        services.product_create(**arguments)
    assert list(error.value.message_dict) == [field]
    assert Product.objects.filter(merchant=merchant).count() == 1


def test_product_update_changes_only_known_fields(product):
    services.product_update(product=product, price="7.50", case_pack=6)
    product.refresh_from_db()
    assert (product.price, product.case_pack) == (Decimal("7.50"), 6)
    with pytest.raises(ValidationError) as error:
        services.product_update(product=product, merchant_id=99)
    assert error.value.message_dict == {"merchant_id": ["This field cannot be changed here."]}


def test_sales_history_import_is_bulk_idempotent_and_does_not_move_stock(merchant, product, warehouse):
    rows = pd.DataFrame(
        {
            "external_id": ["h-1", "h-1", "h-2"],
            "sku": ["MUG-1", "MUG-1", "MUG-1"],
            "ordered_at": ["2024-03-01T10:00:00Z", "2024-03-01T10:00:00Z", "2024-03-03"],
            "quantity": [2, 3, 4],
            "unit_price": ["5.00", "5.00", "4.50"],
        }
    )
    assert services.sales_history_import(merchant=merchant, rows=rows) == 3
    assert services.sales_history_import(merchant=merchant, rows=rows) == 0
    assert SalesOrder.objects.filter(is_historical=True).count() == 2
    assert StockMovement.objects.count() == 0
    frame = demand_frame_for_merchant(merchant=merchant)
    assert frame.to_dict("records") == [
        {"item_id": "MUG-1", "date": pd.Timestamp("2024-03-01"), "quantity": 5.0},
        {"item_id": "MUG-1", "date": pd.Timestamp("2024-03-03"), "quantity": 4.0},
    ]


def test_sales_history_import_reports_every_bad_row_and_writes_nothing(merchant, product):
    rows = pd.DataFrame(
        {
            "external_id": ["h-1", "h-2", ""],
            "sku": ["MUG-1", "GHOST", "MUG-1"],
            "ordered_at": ["2024-03-01", "yesterday-ish", "2024-03-02"],
            "quantity": ["2", "1.5", "-3"],
            "unit_price": ["5", "5", "x"],
        }
    )
    with pytest.raises(ValidationError) as error:
        services.sales_history_import(merchant=merchant, rows=rows)
    assert error.value.message_dict == {
        "rows": [
            "row 2, sku: unknown SKU 'GHOST'.",
            "row 2, quantity: '1.5' is not a positive whole number.",
            "row 3, quantity: '-3' is not a positive whole number.",
            "row 3, unit_price: 'x' is not a price.",
            "row 2, ordered_at: 'yesterday-ish' is not a date.",
            "row 3, external_id: empty.",
        ]
    }
    assert SalesOrder.objects.count() == 0


def test_demand_frame_respects_date_window(merchant, product, warehouse):
    services.stock_adjust(merchant=merchant, product=product, warehouse=warehouse, quantity=10)
    services.sales_order_record(
        merchant=merchant,
        external_id="1",
        lines=[SalesLineInput("MUG-1", 2, "5")],
        ordered_at=datetime.datetime(2024, 5, 1, 9, tzinfo=datetime.UTC),
    )
    assert demand_frame_for_merchant(merchant=merchant, since=datetime.date(2024, 5, 2)).empty
    assert demand_frame_for_merchant(merchant=merchant, until=datetime.date(2024, 5, 1))["quantity"].tolist() == [2.0]
