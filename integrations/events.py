"""Webhook events for the changes ``inventory.services`` announce (through ``inventory.events``).

Each handler runs inside the transaction of the change, so the deliveries it writes commit with the change (and are
sent after commit) or vanish with a rollback. Stock changes are frequent: the handlers ask first whether any active
endpoint of the merchant subscribes, and do nothing more when none does.
"""

from __future__ import annotations

from collections.abc import Sequence

from forecasting.reorder_points import reorder_points_published
from integrations.models import WebhookEvent
from integrations.services import (
    purchase_order_approved_emit,
    webhook_endpoints_for_event,
    webhook_events_emit,
)
from inventory.events import ArrivalChange, PositionChange
from inventory.models import Merchant, PurchaseOrder
from inventory.selectors import back_in_stock_dates_for_products, product_stock_for_products


def purchase_order_approved_announce(*, order: PurchaseOrder) -> None:
    """``purchase_order.approved``, whichever page, API call or service approved the order."""
    if webhook_endpoints_for_event(merchant_id=order.merchant_id, event=WebhookEvent.PURCHASE_ORDER_APPROVED):
        purchase_order_approved_emit(order=order)


def below_reorder_point_announce(*, merchant: Merchant, changes: Sequence[PositionChange]) -> None:
    """``product.below_reorder_point`` for each product whose position went from above its reorder point to at or
    below it; a product that stays below announces nothing more until it has been above again.

    The position after the change is read now, inside the change's transaction; the one before is that minus the
    change. The reorder point is the one of the merchant's published run.
    """
    falling = {change.product_id: change.delta for change in changes if change.delta < 0}
    if not falling or not webhook_endpoints_for_event(
        merchant_id=merchant.pk, event=WebhookEvent.PRODUCT_BELOW_REORDER_POINT
    ):
        return
    points = reorder_points_published(merchant=merchant, product_ids=falling)
    if not points:
        return
    stock = product_stock_for_products(merchant=merchant, product_ids=points)
    payloads = []
    for product_id, point in sorted(points.items()):
        if product_id not in stock:
            continue
        position = stock[product_id].position
        previous = position - falling[product_id]
        if previous > point.reorder_point >= position:
            payloads.append(
                {
                    "product": {"id": product_id, "sku": stock[product_id].sku},
                    "position": position,
                    "previous_position": previous,
                    "reorder_point": point.reorder_point,
                    "order_up_to": point.order_up_to,
                }
            )
    webhook_events_emit(merchant=merchant, event=WebhookEvent.PRODUCT_BELOW_REORDER_POINT, payloads=payloads)


def back_in_stock_date_announce(*, order: PurchaseOrder, changes: Sequence[ArrivalChange]) -> None:
    """``product.back_in_stock_date_changed`` for each product out of stock (nothing available over all
    warehouses) whose expected back-in-stock date moved: the earliest expected date among the open purchase orders
    still to deliver it, or ``null`` when none is left.

    The service says what this order expected before and after; the other orders have not changed, so the date
    before is the earlier of the others' and this order's previous one.
    """
    if not webhook_endpoints_for_event(
        merchant_id=order.merchant_id, event=WebhookEvent.PRODUCT_BACK_IN_STOCK_DATE_CHANGED
    ):
        return
    merchant = order.merchant
    by_product = {change.product_id: change for change in changes}
    stock = product_stock_for_products(merchant=merchant, product_ids=by_product)
    out_of_stock = sorted(product_id for product_id, figures in stock.items() if figures.available <= 0)
    if not out_of_stock:
        return
    others = back_in_stock_dates_for_products(merchant=merchant, product_ids=out_of_stock, exclude_order_id=order.pk)
    payloads = []
    for product_id in out_of_stock:
        change = by_product[product_id]
        other = others.get(product_id)
        previous = min((date for date in (other, change.previous_expected_at) if date is not None), default=None)
        current = min((date for date in (other, change.expected_at) if date is not None), default=None)
        if previous != current:
            payloads.append(
                {
                    "product": {"id": product_id, "sku": stock[product_id].sku},
                    "previous_back_in_stock_date": previous,
                    "back_in_stock_date": current,
                }
            )
    webhook_events_emit(merchant=merchant, event=WebhookEvent.PRODUCT_BACK_IN_STOCK_DATE_CHANGED, payloads=payloads)
