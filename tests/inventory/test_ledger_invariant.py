"""The stock ledger invariant under random sequences of operations: every level equals its ledger sum."""

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inventory import services
from inventory.models import StockLevel, StockMovement
from inventory.selectors import stock_ledger_mismatches
from tests.factories import MerchantFactory, ProductFactory

operation = st.one_of(
    st.tuples(st.just("adjust"), st.integers(0, 1), st.integers(0, 1), st.integers(-30, 30)),
    st.tuples(st.just("sell"), st.integers(0, 1), st.integers(0, 1), st.integers(1, 20)),
    st.tuples(st.just("transfer"), st.integers(0, 1), st.integers(0, 1), st.integers(1, 20)),
    st.tuples(st.just("set"), st.integers(0, 1), st.integers(0, 1), st.integers(0, 40)),
    st.tuples(st.just("allocate"), st.integers(0, 1), st.integers(0, 1), st.integers(-10, 10)),
)


@pytest.mark.django_db
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=st.lists(operation, min_size=1, max_size=25))
def test_levels_always_equal_ledger_sums(operations):
    merchant = MerchantFactory()
    warehouses = [merchant.warehouses.get(), services.warehouse_create(merchant=merchant, code="B", name="B")]
    products = [ProductFactory(merchant=merchant), ProductFactory(merchant=merchant)]
    expected = {(p.pk, w.pk): 0 for p in products for w in warehouses}
    for number, (kind, product_index, warehouse_index, quantity) in enumerate(operations):
        product, warehouse = products[product_index], warehouses[warehouse_index]
        key = (product.pk, warehouse.pk)
        try:
            if kind == "adjust":
                services.stock_adjust(merchant=merchant, product=product, warehouse=warehouse, quantity=quantity)
                expected[key] += quantity
            elif kind == "sell":
                services.sales_order_record(
                    merchant=merchant,
                    external_id=f"o-{number}",
                    warehouse=warehouse,
                    lines=[services.SalesLineInput(product.sku, quantity, "1.00")],
                )
                expected[key] -= quantity
            elif kind == "transfer":
                other = warehouses[1 - warehouse_index]
                services.stock_transfer(
                    merchant=merchant, product=product, source=warehouse, destination=other, quantity=quantity
                )
                expected[key] -= quantity
                expected[(product.pk, other.pk)] += quantity
            elif kind == "set":
                services.stock_set(merchant=merchant, product=product, warehouse=warehouse, on_hand=quantity)
                expected[key] = quantity
            else:
                services.stock_allocate(merchant=merchant, product=product, warehouse=warehouse, quantity=quantity)
        except ValidationError:
            pass  # refused operations must leave everything as it was, which the checks below verify

    assert stock_ledger_mismatches(merchant=merchant) == []
    for level in StockLevel.objects.filter(merchant=merchant):
        assert level.on_hand == expected[(level.product_id, level.warehouse_id)]
        assert 0 <= level.allocated <= level.on_hand or level.allocated == 0
        ledger = StockMovement.objects.filter(product=level.product, warehouse=level.warehouse)
        assert (ledger.aggregate(total=Sum("quantity"))["total"] or 0) == level.on_hand
        last = ledger.order_by("-id").first()
        assert (last.balance_after if last else 0) == level.on_hand
