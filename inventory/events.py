"""What ``inventory.services`` announces about a change: webhook events, called explicitly (no Django signals).

Each announcement is made by the service inside the transaction of the change, after the change is written. The
handler therefore sees the new state, its writes commit or roll back with the change, and an error it raises undoes
the change. ``integrations`` depends on ``inventory``, so its handlers are imported inside these functions.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from inventory.models import Merchant, PurchaseOrder


@dataclass(frozen=True)
class PositionChange:
    """How much one product's inventory position (on hand − allocated + on order, over all warehouses) moved."""

    product_id: int
    delta: int


@dataclass(frozen=True)
class ArrivalChange:
    """The date one purchase order expected a product before and after a change (``None``: it expects none).

    An order expects a product while it is open, has an expected date and has units of the product still to receive.
    """

    product_id: int
    previous_expected_at: datetime.date | None
    expected_at: datetime.date | None


def purchase_order_approved(*, order: PurchaseOrder) -> None:
    """``order`` (locked) was approved."""
    from integrations.events import purchase_order_approved_announce

    purchase_order_approved_announce(order=order)


def inventory_positions_changed(*, merchant: Merchant, changes: list[PositionChange]) -> None:
    """Products' inventory positions moved (one change per product, no zero deltas)."""
    from integrations.events import below_reorder_point_announce

    below_reorder_point_announce(merchant=merchant, changes=changes)


def purchase_order_arrivals_changed(*, order: PurchaseOrder, changes: list[ArrivalChange]) -> None:
    """The dates ``order`` expects products changed (only products whose date changed)."""
    from integrations.events import back_in_stock_date_announce

    back_in_stock_date_announce(order=order, changes=changes)
