"""The published reorder points of a few products: a read for every stock change, so one small query."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from forecasting.models import ProductPolicy
from inventory.models import Merchant


@dataclass(frozen=True)
class ReorderPoint:
    product_id: int
    reorder_point: float
    order_up_to: float


def reorder_points_published(*, merchant: Merchant, product_ids: Iterable[int]) -> dict[int, ReorderPoint]:
    """The (s, S) of the given products in the merchant's published run, for products that are reordered at all.

    Products the run did not plan, and those with a negative reorder point (the policy's "do not reorder"),
    are left out; so is everything before a run is published. One query, through the published run's job.
    """
    rows = ProductPolicy.objects.filter(
        job__forecast_run__merchant=merchant,
        job__forecast_run__is_published=True,
        product_id__in=set(product_ids),
        reorder_point__gte=0,
    ).values_list("product_id", "reorder_point", "order_up_to")
    return {
        product_id: ReorderPoint(product_id=product_id, reorder_point=reorder_point, order_up_to=order_up_to)
        for product_id, reorder_point, order_up_to in rows
    }
