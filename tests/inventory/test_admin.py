"""The admin's sales-order list shows cancellations and filters by them."""

from inventory import services
from inventory.services import SalesLineInput


def test_sales_order_list_filters_by_cancellation(admin_client, merchant, product, warehouse):
    services.stock_adjust(merchant=merchant, product=product, warehouse=warehouse, quantity=10)
    services.sales_order_record(merchant=merchant, external_id="KEPT-1", lines=[SalesLineInput("MUG-1", 1, "5")])
    gone, _ = services.sales_order_record(
        merchant=merchant, external_id="GONE-1", lines=[SalesLineInput("MUG-1", 1, "5")]
    )
    services.sales_order_cancel(order=gone)

    cancelled = admin_client.get("/admin/inventory/salesorder/?cancelled_at__isempty=0")
    live = admin_client.get("/admin/inventory/salesorder/?cancelled_at__isempty=1")

    assert (cancelled.status_code, live.status_code) == (200, 200)
    assert [order.external_id for order in cancelled.context["cl"].result_list] == ["GONE-1"]
    assert [order.external_id for order in live.context["cl"].result_list] == ["KEPT-1"]
