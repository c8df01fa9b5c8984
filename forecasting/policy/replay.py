"""The replay simulator: one set of periodic-review, lost-sales rules shared by planning, the product and the bench.

Pure numpy; no Django. The rules, per period ``t = 0 .. T-1``:

1. review (before period 0 when ``initial_review``, then every ``review_period`` periods): if the inventory
   position (on hand + on order) is at or below ``s`` and below ``S``, order ``S - position`` rounded up to at
   least the MOQ and then up to a whole number of case packs. An order placed at the review before period ``t``
   (that is, at the end of period ``t - 1``) with lead time ``L`` is received at the start of period ``t + L``:
   ``L = 0`` serves the next period, and the cover period of an order is ``L + review_period`` periods;
2. receive what arrives at the start of period ``t``;
3. serve demand from stock; unmet demand is lost;
4. pay ``holding_cost`` per unit left on hand at the end of the period, ``shortage_cost`` per lost unit and
   ``order_cost`` per order placed.

There is no review after the last period: an order placed then could not arrive inside the window.
``simulate`` runs many policies × demand paths at once by broadcasting; ``replay`` is the one-item view.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from forecasting.engine.errors import InputError

FloatArray = np.ndarray


@dataclass(frozen=True)
class SimulationTotals:
    """Totals over the window for every simulated row (arrays of the broadcast batch shape), and where the window
    leaves each row: ``end_on_hand`` and ``end_pipeline`` (batch + (J,): units arriving at the start of periods
    T..T+J-1), the ``on_hand`` and ``pipeline`` to replay the next periods from. ``arrival_slots`` is the
    simulator's ring of arrivals (slot w: periods t with t % J == w); ``end_pipeline`` unrolls it only when asked,
    so that the searches, which never ask, copy nothing."""

    holding_cost: np.ndarray
    shortage_cost: np.ndarray
    order_cost: np.ndarray
    lost_units: np.ndarray
    demand: np.ndarray
    orders: np.ndarray
    units_ordered: np.ndarray
    stock_sum: np.ndarray
    first_order: np.ndarray
    periods: int
    end_on_hand: np.ndarray
    arrival_slots: np.ndarray

    @property
    def cost(self) -> np.ndarray:
        return self.holding_cost + self.shortage_cost + self.order_cost

    @property
    def end_pipeline(self) -> np.ndarray:
        slots = self.arrival_slots
        return np.moveaxis(np.roll(slots, -(self.periods % len(slots)), axis=0), 0, -1)


def order_quantity(
    position: np.ndarray | float,
    reorder_point: np.ndarray | float,
    order_up_to: np.ndarray | float,
    *,
    moq: np.ndarray | float,
    case_pack: np.ndarray | float,
) -> np.ndarray:
    """The quantity the rules order at a review: 0 unless position <= s and position < S.

    ``S - position`` is raised to the MOQ, then rounded up to a whole number of case packs (so an MOQ that is not a
    pack multiple becomes the next pack multiple).
    """
    position = np.asarray(position, dtype=float)
    raw = np.asarray(order_up_to, dtype=float) - position
    place = (position <= reorder_point) & (raw > 0)
    pack = np.maximum(np.asarray(case_pack, dtype=float), 1.0)
    wanted = np.maximum(raw, moq)
    # The tolerance keeps 24.000001 units with a pack of 12 at 24, not 36 (as in ``simulate``).
    rounded = np.ceil(wanted / pack - 1e-6) * pack
    return np.where(place, rounded, 0.0)


def _time_axis(values: np.ndarray) -> np.ndarray:
    return values.reshape(1) if values.ndim == 0 else values


def simulate(
    demand: np.ndarray,
    reorder_point: np.ndarray | float,
    order_up_to: np.ndarray | float,
    *,
    lead_time: np.ndarray | int,
    review_period: np.ndarray | int = 1,
    on_hand: np.ndarray | float = 0.0,
    pipeline: np.ndarray | None = None,
    moq: np.ndarray | float = 0.0,
    case_pack: np.ndarray | float = 1.0,
    holding_cost: np.ndarray | float = 0.0,
    shortage_cost: np.ndarray | float = 0.0,
    order_cost: np.ndarray | float = 0.0,
    initial_review: bool = True,
    first_order: np.ndarray | None = None,
    dtype: type = np.float64,
) -> SimulationTotals:
    """Run the rules on every row of a broadcast batch.

    Shapes: ``demand`` is ``batch + (T,)``. ``reorder_point``, ``order_up_to`` and ``lead_time`` carry a trailing
    time axis of length 1 (static) or T (the value used at the review before period t). ``pipeline`` is
    ``batch + (J,)``: units arriving at the start of periods 0..J-1. The other arguments broadcast to ``batch``.
    ``first_order``, when given, replaces the rule at the initial review with that exact quantity (used to price
    "do not order now" and budget cuts). ``dtype=np.float32`` halves memory traffic for large searches.
    """
    demand = np.asarray(demand, dtype=dtype)
    periods = demand.shape[-1]
    levels_low = _time_axis(np.asarray(reorder_point, dtype=dtype))
    levels_high = _time_axis(np.asarray(order_up_to, dtype=dtype))
    leads = _time_axis(np.asarray(lead_time, dtype=np.int64))
    if (leads < 0).any():
        raise InputError("lead_time must be 0 or more periods.")
    arrivals: np.ndarray = np.zeros((1,), dtype=dtype) if pipeline is None else np.asarray(pipeline, dtype=dtype)
    review = np.asarray(review_period, dtype=np.int64)
    if (review < 1).any():
        raise InputError("review_period must be 1 or more periods.")
    moq_a: np.ndarray = np.asarray(moq, dtype=dtype)
    pack_a: np.ndarray = np.maximum(np.asarray(case_pack, dtype=dtype), 1)
    packed = bool((pack_a > 1).any())
    shape = np.broadcast_shapes(
        demand.shape[:-1],
        levels_low.shape[:-1],
        levels_high.shape[:-1],
        leads.shape[:-1],
        arrivals.shape[:-1],
        np.shape(on_hand),
        review.shape,
        moq_a.shape,
        pack_a.shape,
        np.shape(holding_cost),
        np.shape(shortage_cost),
        np.shape(order_cost),
    )
    longest = int(leads.max())
    single_lead = longest == int(leads.min())
    width = max(longest + 2, arrivals.shape[-1])
    # Slot w of the buffer holds what arrives at the start of every period t with t % width == w.
    buffer = np.zeros((width, *shape), dtype=dtype)
    buffer[: arrivals.shape[-1]] = np.moveaxis(np.broadcast_to(arrivals, (*shape, arrivals.shape[-1])), -1, 0)
    stock: np.ndarray = np.broadcast_to(np.asarray(on_hand, dtype=dtype), shape).copy()
    outstanding = buffer.sum(axis=0)
    lost: np.ndarray = np.zeros(shape, dtype=dtype)
    stock_sum: np.ndarray = np.zeros(shape, dtype=dtype)
    orders: np.ndarray = np.zeros(shape, dtype=dtype)
    units: np.ndarray = np.zeros(shape, dtype=dtype)
    first: np.ndarray = np.zeros(shape, dtype=dtype)
    every_period = bool((review == 1).all())
    flat_buffer = buffer.reshape(width, -1)
    by_period = np.ascontiguousarray(np.moveaxis(demand, -1, 0))  # demand[..., t] as one contiguous block
    shortfall: np.ndarray = np.empty(shape, dtype=dtype)
    for t in range(periods):
        due = every_period or bool((t % review == 0).any())
        if (t > 0 or initial_review) and (due or (t == 0 and first_order is not None)):
            quantity: np.ndarray
            if t == 0 and first_order is not None:
                quantity = np.broadcast_to(np.asarray(first_order, dtype=dtype), shape)
            else:
                position = stock + outstanding
                quantity = levels_high[..., min(t, levels_high.shape[-1] - 1)] - position
                place = position <= levels_low[..., min(t, levels_low.shape[-1] - 1)]
                place &= quantity > 0
                if not every_period:
                    place &= t % review == 0
                # Orders are whole units (packs): the tolerance keeps 24.000001 units with a pack of 12 at 24.
                quantity = np.maximum(quantity, moq_a)
                if packed:
                    quantity /= pack_a
                quantity = np.ceil(quantity - 1e-6)
                if packed:
                    quantity *= pack_a
                quantity = quantity * place
            if t == 0:
                first = np.broadcast_to(quantity, shape).copy()
            lead_now = leads[..., min(t, leads.shape[-1] - 1)]
            if single_lead:
                buffer[(t + longest) % width, ...] += quantity
            else:
                # each element's order lands in the one slot its own lead time picks; orders are sparse
                amounts = np.broadcast_to(quantity, shape).reshape(-1)
                placed = np.flatnonzero(amounts)
                slots = np.broadcast_to((t + lead_now) % width, shape).reshape(-1)
                flat_buffer[slots[placed], placed] += amounts[placed]
            outstanding += quantity
            orders += quantity > 0
            units += quantity
        received = buffer[t % width, ...]
        stock += received
        outstanding -= received
        received[...] = 0.0
        wanted = by_period[t]
        np.subtract(wanted, stock, out=shortfall)
        np.maximum(shortfall, 0.0, out=shortfall)
        lost += shortfall
        stock -= wanted
        np.maximum(stock, 0.0, out=stock)
        stock_sum += stock
    total_demand = np.broadcast_to(demand.sum(axis=-1), shape)
    return SimulationTotals(
        holding_cost=stock_sum * np.asarray(holding_cost, dtype=dtype),
        shortage_cost=lost * np.asarray(shortage_cost, dtype=dtype),
        order_cost=orders * np.asarray(order_cost, dtype=dtype),
        lost_units=lost,
        demand=total_demand,
        orders=orders,
        units_ordered=units,
        stock_sum=stock_sum,
        first_order=first,
        periods=periods,
        end_on_hand=stock,
        arrival_slots=buffer,
    )


class Policy(Protocol):
    """Anything that gives the (s, S) used at each review, from the demand seen before it."""

    def levels(self, demand: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(s, S) arrays of length 1 (static) or len(demand); entry t may use only ``demand[:t]``."""
        ...


@dataclass(frozen=True)
class StaticSS:
    """The same reorder point s and order-up-to level S at every review."""

    reorder_point: float
    order_up_to: float

    def levels(self, demand: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.array([float(self.reorder_point)]), np.array([float(self.order_up_to)])


@dataclass(frozen=True)
class SeedRule:
    """The seed's rule: at every review, order up to ``multiplier`` × recent mean demand × ``cover`` periods.

    The recent mean is over the last ``window`` periods of ``history`` followed by the demand replayed so far.
    """

    cover: int
    window: int
    history: tuple[float, ...] = field(default=())
    multiplier: float = 1.2

    def levels(self, demand: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        order_up_to = seed_rule_levels(
            np.asarray(self.history, dtype=float)[None, :],
            np.asarray(demand, dtype=float)[None, :],
            cover=self.cover,
            window=self.window,
            multiplier=self.multiplier,
        )[0]
        return order_up_to, order_up_to


def seed_rule_levels(
    history: np.ndarray, demand: np.ndarray, *, cover: np.ndarray | int, window: int, multiplier: float = 1.2
) -> np.ndarray:
    """Order-up-to levels of the seed rule for many items: ``(n, T)`` from ``history (n, H)`` and ``demand (n, T)``.

    Entry t uses the ``window`` periods before period t. With no past demand at all the level is 0.
    """
    combined = np.concatenate([history, demand], axis=1)
    offset = history.shape[1]
    cumulative = np.concatenate([np.zeros((combined.shape[0], 1)), np.cumsum(combined, axis=1)], axis=1)
    ends = offset + np.arange(demand.shape[1])
    starts = np.maximum(ends - window, 0)
    counts = np.maximum(ends - starts, 1)
    recent_mean = (cumulative[:, ends] - cumulative[:, starts]) / counts
    return multiplier * recent_mean * np.asarray(cover, dtype=float).reshape(-1, 1)


@dataclass(frozen=True)
class ReplayResult:
    """What a policy would have cost on past demand."""

    cost: float
    holding_cost: float
    shortage_cost: float
    order_cost: float
    fill_rate: float
    lost_units: float
    orders: int
    average_stock: float


def replay(
    demand: np.ndarray,
    policy: Policy,
    *,
    lead_time: int,
    on_hand: float,
    on_order_pipeline: tuple[float, ...] | np.ndarray = (),
    moq: float = 0.0,
    case_pack: float = 1.0,
    holding_cost: float,
    shortage_cost: float,
    order_cost: float,
    review_period: int = 1,
    initial_review: bool = True,
) -> ReplayResult:
    """Replay one item's past demand under ``policy`` with the module's rules.

    ``on_order_pipeline[j]`` units arrive at the start of period j. Fill rate is served / demanded (1 with no demand).
    """
    demand = np.asarray(demand, dtype=float)
    if demand.ndim != 1 or demand.size == 0:
        raise InputError("replay needs a non-empty one-dimensional demand array.")
    if (demand < 0).any():
        raise InputError("replay demand must not be negative.")
    low, high = policy.levels(demand)
    pipeline = np.asarray(on_order_pipeline, dtype=float) if len(on_order_pipeline) else None
    totals = simulate(
        demand,
        low,
        high,
        lead_time=lead_time,
        review_period=review_period,
        on_hand=on_hand,
        pipeline=pipeline,
        moq=moq,
        case_pack=case_pack,
        holding_cost=holding_cost,
        shortage_cost=shortage_cost,
        order_cost=order_cost,
        initial_review=initial_review,
    )
    demanded = float(totals.demand)
    lost = float(totals.lost_units)
    return ReplayResult(
        cost=float(totals.cost),
        holding_cost=float(totals.holding_cost),
        shortage_cost=float(totals.shortage_cost),
        order_cost=float(totals.order_cost),
        fill_rate=1.0 if demanded == 0 else 1.0 - lost / demanded,
        lost_units=lost,
        orders=int(totals.orders),
        average_stock=float(totals.stock_sum) / totals.periods,
    )
