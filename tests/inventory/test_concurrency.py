"""Twenty concurrent sellers of one SKU on PostgreSQL: no lost update and no oversell."""

import threading

import pytest
from django.db import connection, connections

from inventory import services
from inventory.models import SalesOrder, StockLevel, StockMovement
from inventory.services import InsufficientStock, SalesLineInput

WORKERS = 20


def _run_concurrently(target, count: int) -> list[object]:
    barrier = threading.Barrier(count)
    outcomes: list[object] = [None] * count

    def run(index: int) -> None:
        try:
            barrier.wait()
            outcomes[index] = target(index)
        except Exception as error:  # each outcome is checked by the test
            outcomes[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


@pytest.fixture
def stocked(transactional_db, merchant, product, warehouse):
    assert connection.vendor == "postgresql"
    services.stock_adjust(merchant=merchant, product=product, warehouse=warehouse, quantity=10)
    return merchant, product, warehouse


def test_concurrent_sales_never_oversell(stocked):
    merchant, product, warehouse = stocked

    def sell(index: int):
        return services.sales_order_record(
            merchant=merchant, external_id=f"web-{index}", lines=[SalesLineInput(product.sku, 1, "5.00")]
        )

    outcomes = _run_concurrently(sell, WORKERS)

    sold = [o for o in outcomes if isinstance(o, tuple)]
    refused = [o for o in outcomes if isinstance(o, InsufficientStock)]
    assert (len(sold), len(refused)) == (10, 10)
    assert StockLevel.objects.get(product=product, warehouse=warehouse).on_hand == 0
    assert SalesOrder.objects.count() == 10
    assert StockMovement.objects.filter(kind="sale").count() == 10
    balances = sorted(StockMovement.objects.filter(kind="sale").values_list("balance_after", flat=True))
    assert balances == list(range(10))


def test_concurrent_adjustments_lose_no_update(stocked):
    merchant, product, warehouse = stocked

    def add(index: int):
        return services.stock_adjust(merchant=merchant, product=product, warehouse=warehouse, quantity=index + 1)

    outcomes = _run_concurrently(add, WORKERS)

    assert not [o for o in outcomes if isinstance(o, Exception)]
    assert StockLevel.objects.get(product=product, warehouse=warehouse).on_hand == 10 + sum(range(1, WORKERS + 1))


def test_the_same_order_pushed_concurrently_is_recorded_once(stocked):
    merchant, product, warehouse = stocked

    def push(index: int):
        return services.sales_order_record(
            merchant=merchant, external_id="web-same", lines=[SalesLineInput(product.sku, 2, "5.00")]
        )

    outcomes = _run_concurrently(push, WORKERS)

    assert not [o for o in outcomes if isinstance(o, Exception)]
    assert sum(1 for o in outcomes if o[1]) == 1  # type: ignore[index]
    assert StockLevel.objects.get(product=product, warehouse=warehouse).on_hand == 8
    assert StockMovement.objects.filter(kind="sale").count() == 1


def test_concurrent_cancellations_return_the_units_once(stocked):
    merchant, product, warehouse = stocked
    order, _ = services.sales_order_record(
        merchant=merchant, external_id="web-1", lines=[SalesLineInput(product.sku, 4, "5.00")]
    )

    outcomes = _run_concurrently(lambda index: services.sales_order_cancel(order=order), 8)

    assert sorted(cancelled for _, cancelled in outcomes) == [False] * 7 + [True]
    assert StockLevel.objects.get(product=product, warehouse=warehouse).on_hand == 10
    assert list(StockMovement.objects.filter(kind="return").values_list("quantity", "balance_after")) == [(4, 10)]
