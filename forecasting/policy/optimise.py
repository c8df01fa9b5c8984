"""Choosing (s, S) per item by minimising expected cost on demand paths drawn from the forecast distribution.

Every candidate (s, S) of an item is replayed with the rules of ``replay.simulate`` on the same sampled demand and
lead-time paths (common random numbers), starting from the item's current stock and pipeline, over the planning
horizon. With a ``level_profile`` the candidate is the (s, S) of the first review, and later reviews scale both
levels with the forecast demand over their own cover period (a promotion or a seasonal peak later in the horizon
raises the levels of the reviews that must cover it, instead of today's order). The search is a grid built from
the cover-period demand quantiles (including the newsvendor critical fractile) and lot sizes around the EOQ, or
every integer pair when that is small, followed by a pattern search on integers around the best point. A service
floor is a constraint on the simulated fill rate; when no candidate meets it the candidate with the best fill rate
wins. Pure numpy; no Django.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from forecasting.policy.replay import SimulationTotals, simulate

COVER_LEVELS = np.array([0.5, 0.8, 0.9, 0.95, 0.98, 0.995])
LOT_MULTIPLES = np.array([0.5, 1.0, 1.5, 2.0, 3.0, 5.0])
EXHAUSTIVE_LIMIT = 160
REFINE_ROUNDS = 3
CHUNK_ELEMENTS = 250_000
NEVER = -1.0


@dataclass(frozen=True)
class PlanningInputs:
    """Per-item arrays ``(n,)`` (``pipeline`` is ``(n, J)``: units arriving at the start of periods 0..J-1;
    ``level_profile``, when given, is ``(n, H)``: the factor on (s, S) at each review, see ``level_profile``)."""

    lead_time: np.ndarray
    review_period: np.ndarray
    holding_cost: np.ndarray
    shortage_cost: np.ndarray
    order_cost: np.ndarray
    moq: np.ndarray
    case_pack: np.ndarray
    on_hand: np.ndarray
    pipeline: np.ndarray
    service_floor: np.ndarray
    level_profile: np.ndarray | None = None

    def take(self, index: np.ndarray | slice) -> PlanningInputs:
        taken: dict[str, Any] = {
            name: None if getattr(self, name) is None else getattr(self, name)[index]
            for name in self.__dataclass_fields__
        }
        return PlanningInputs(**taken)


def level_profile(mean: np.ndarray, cover: np.ndarray, periods: int) -> np.ndarray:
    """How the levels follow the forecast: per item and review t, ``(n, periods)``, the forecast demand over the
    cover period that starts at t divided by that of the first review (1 when the first is 0).

    ``mean`` is the forecast mean per period ``(n, H)``; beyond the horizon its last period repeats. A promotion
    in five weeks then raises the levels of the reviews whose cover period holds it, not today's order.
    """
    mean = np.maximum(np.asarray(mean, dtype=float), 0.0)
    n = mean.shape[0]
    cover = np.asarray(cover, dtype=np.int64)
    extended = np.concatenate([mean, np.repeat(mean[:, -1:], periods + int(cover.max(initial=0)), axis=1)], axis=1)
    cumulative = np.concatenate([np.zeros((n, 1)), np.cumsum(extended, axis=1)], axis=1)
    reviews = np.arange(periods)[None, :]
    totals = np.take_along_axis(cumulative, reviews + cover[:, None], axis=1) - cumulative[:, :periods]
    first = totals[:, :1]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(first > 0, totals / first, 1.0)


def phased_levels(low: np.ndarray, high: np.ndarray, profile: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """(s, S) ``(n, C)`` at every review: ``(n, C, T)`` scaled by ``profile (n, T)`` and rounded to whole units
    (S stays above s), or ``(n, C, 1)`` when there is no profile. Never ordering (s = -1) stays so."""
    low, high = np.asarray(low, dtype=float)[:, :, None], np.asarray(high, dtype=float)[:, :, None]
    if profile is None:
        return low, high
    ratio = profile[:, None, :]
    never = low < 0
    low_t = np.where(never, low, np.round(low * ratio))
    high_t = np.where(never, high, np.maximum(np.round(high * ratio), low_t + 1))
    return low_t, high_t


@dataclass(frozen=True)
class OptimisedPolicy:
    """The chosen (s, S) per item with its simulated consequences over the planning horizon (arrays ``(n,)``)."""

    reorder_point: np.ndarray
    order_up_to: np.ndarray
    order_now: np.ndarray
    expected_cost: np.ndarray
    expected_holding_cost: np.ndarray
    expected_shortage_cost: np.ndarray
    expected_order_cost: np.ndarray
    expected_fill_rate: np.ndarray
    expected_cost_without_order: np.ndarray
    floor_met: np.ndarray
    level_profile: np.ndarray


def critical_fractile(holding_cost: float, shortage_cost: float) -> float:
    """The newsvendor service level p / (p + h): the probability of not running out that minimises cost."""
    return shortage_cost / (shortage_cost + holding_cost)


def newsvendor_level(demand_samples: np.ndarray, *, holding_cost: float, shortage_cost: float) -> float:
    """The smallest stock level whose empirical demand CDF reaches the critical fractile."""
    ordered = np.sort(np.asarray(demand_samples, dtype=float))
    target = critical_fractile(holding_cost, shortage_cost)
    index = int(np.ceil(target * len(ordered) - 1e-9)) - 1
    return float(ordered[min(max(index, 0), len(ordered) - 1)])


def textbook_levels(
    mean: np.ndarray,
    std: np.ndarray,
    *,
    cover: np.ndarray,
    holding_cost: np.ndarray,
    order_cost: np.ndarray,
    z: float = 1.645,
    lead_time_std: np.ndarray | float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """The textbook (s, S): s = mean + z·sigma over the cover period, S = s + EOQ (per-period mean and std)."""
    cover = np.asarray(cover, dtype=float)
    spread = np.sqrt(cover * std**2 + (mean * np.asarray(lead_time_std, dtype=float)) ** 2)
    reorder_point = mean * cover + z * spread
    with np.errstate(divide="ignore", invalid="ignore"):
        eoq = np.where(holding_cost > 0, np.sqrt(2.0 * order_cost * mean / holding_cost), mean * cover)
    return reorder_point, reorder_point + np.maximum(eoq, 1.0)


def cover_demand(paths: np.ndarray, cover: np.ndarray) -> np.ndarray:
    """Demand over the first ``cover`` periods of each path ``(n, P)``; beyond the horizon it is scaled up."""
    cumulative = np.cumsum(paths, axis=2)
    horizon = paths.shape[2]
    inside = np.minimum(cover, horizon).astype(np.int64)
    totals = np.take_along_axis(cumulative, (inside - 1)[:, None, None], axis=2)[:, :, 0]
    return totals * (np.asarray(cover, dtype=float) / inside)[:, None]


def empirical_quantiles(samples: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """Per-row quantiles ``(n, K)`` of samples ``(n, P)``: the smallest sample whose empirical CDF reaches the level."""
    ordered = np.sort(samples, axis=1)
    index = np.clip(np.ceil(levels * samples.shape[1] - 1e-9).astype(np.int64) - 1, 0, samples.shape[1] - 1)
    return np.take_along_axis(ordered, index, axis=1)


def candidate_grids(paths: np.ndarray, inputs: PlanningInputs) -> list[np.ndarray]:
    """Candidate (s, S) pairs per item, each an array ``(C_i, 2)``.

    s runs over cover-period demand quantiles (including the critical fractile p / (p + h)) and -1 (never order);
    S - s over multiples of the EOQ (at least a pack and the MOQ), and 1 (order up to s + 1, a base stock). When the
    integer range this spans is small, every integer pair is a candidate instead.
    """
    cover = inputs.lead_time + inputs.review_period
    totals = cover_demand(paths, cover)
    mean = paths.mean(axis=(1, 2))
    fractile = inputs.shortage_cost / np.maximum(inputs.shortage_cost + inputs.holding_cost, 1e-12)
    wanted = np.concatenate([np.broadcast_to(COVER_LEVELS, (len(mean), len(COVER_LEVELS))), fractile[:, None]], axis=1)
    levels = empirical_quantiles(totals, wanted)
    with np.errstate(divide="ignore", invalid="ignore"):
        eoq = np.where(
            inputs.holding_cost > 0,
            np.sqrt(2.0 * inputs.order_cost * mean / inputs.holding_cost),
            mean * paths.shape[2],
        )
    lot = np.maximum.reduce([np.nan_to_num(eoq), inputs.case_pack, inputs.moq, np.ones_like(mean)])
    grids = []
    for row in range(paths.shape[0]):
        low_values = np.unique(np.ceil(levels[row]))
        top = max(float(low_values.max()), 0.0)
        high_top = top + float(np.ceil(lot[row] * LOT_MULTIPLES[-1]))
        exhaustive = sum(high_top - max(s, 0.0) for s in np.arange(-1.0, top + 1))
        if exhaustive <= EXHAUSTIVE_LIMIT:
            low = np.repeat(np.arange(-1.0, top + 1), [int(high_top - max(s, 0.0)) for s in np.arange(-1.0, top + 1)])
            high = np.concatenate([np.arange(max(s, 0.0) + 1, high_top + 1) for s in np.arange(-1.0, top + 1)])
        else:
            lots = np.unique(np.concatenate([[1.0], np.ceil(lot[row] * LOT_MULTIPLES)]))
            low = np.concatenate([np.repeat(low_values, len(lots)), [NEVER]])
            high = np.concatenate(
                [np.maximum(np.repeat(low_values, len(lots)), 0.0) + np.tile(lots, len(low_values)), [1.0]]
            )
        grids.append(np.column_stack([low, high]))
    return grids


def _padded(grids: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Stack per-item grids into ``(n, C)`` arrays, padding short grids with their first pair."""
    width = max(len(grid) for grid in grids)
    low = np.empty((len(grids), width))
    high = np.empty((len(grids), width))
    for row, grid in enumerate(grids):
        padded = np.concatenate([grid, np.repeat(grid[:1], width - len(grid), axis=0)])
        low[row], high[row] = padded[:, 0], padded[:, 1]
    return low, high


def _evaluate(
    paths: np.ndarray, leads: np.ndarray, inputs: PlanningInputs, low: np.ndarray, high: np.ndarray, **options: object
) -> SimulationTotals:
    column = (slice(None), None, None)
    low_t, high_t = phased_levels(low, high, inputs.level_profile)
    return simulate(
        paths[:, None, :, :],
        low_t[:, :, None, :],
        high_t[:, :, None, :],
        lead_time=leads[:, None, :, :],
        review_period=inputs.review_period[column],
        on_hand=inputs.on_hand[column],
        pipeline=inputs.pipeline[:, None, None, :],
        moq=inputs.moq[column],
        case_pack=inputs.case_pack[column],
        holding_cost=inputs.holding_cost[column],
        shortage_cost=inputs.shortage_cost[column],
        order_cost=inputs.order_cost[column],
        dtype=np.float32,
        **options,  # type: ignore[arg-type]
    )


def _score(totals: SimulationTotals, floor: np.ndarray, low: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean cost, fill rate and the objective: cost (or a large penalty below the service floor).

    Exact ties, common when demand is (nearly) deterministic, go to the higher reorder point: the safer choice
    and the one a merchant expects to read.
    """
    cost = totals.cost.mean(axis=2).astype(float)
    demand = totals.demand.sum(axis=2)
    fill = np.where(demand > 0, 1.0 - totals.lost_units.sum(axis=2) / np.maximum(demand, 1e-12), 1.0)
    shortfall = np.maximum(floor[:, None] - fill, 0.0)
    objective = np.where(shortfall > 1e-12, 1e12 * (1.0 + shortfall), cost) - 1e-9 * low
    return cost, fill, objective


def _pattern_step(
    paths: np.ndarray,
    leads: np.ndarray,
    inputs: PlanningInputs,
    active: np.ndarray,
    best_low: np.ndarray,
    best_high: np.ndarray,
    best_objective: np.ndarray,
    step_low: np.ndarray,
    step_high: np.ndarray,
    moves: np.ndarray,
) -> np.ndarray:
    """Try the neighbours of the best point of each ``active`` item; update the best in place where one is better.

    Returns the mask (over ``active``) of the items that moved.
    """
    whole = len(active) == len(best_low)
    pick_rows = slice(None) if whole else active
    low_try = np.maximum(best_low[active, None] + moves[None, :, 0] * step_low[active, None], NEVER)
    high_try = np.maximum(
        best_high[active, None] + moves[None, :, 1] * step_high[active, None], np.maximum(low_try + 1, 1)
    )
    subset = inputs if whole else inputs.take(active)
    _, _, trial = _score(
        _evaluate(paths[pick_rows], leads[pick_rows], subset, low_try, high_try), subset.service_floor, low_try
    )
    local = np.arange(len(active))
    pick = np.argmin(trial, axis=1)
    better = trial[local, pick] < best_objective[active] - 1e-12
    chosen = active[better]
    best_low[chosen] = low_try[local, pick][better]
    best_high[chosen] = high_try[local, pick][better]
    best_objective[chosen] = trial[local, pick][better]
    return better


def _optimise_chunk(
    paths: np.ndarray, leads: np.ndarray, inputs: PlanningInputs, grids: list[np.ndarray]
) -> OptimisedPolicy:
    low, high = _padded(grids)
    rows = np.arange(paths.shape[0])
    _, _, objective = _score(_evaluate(paths, leads, inputs, low, high), inputs.service_floor, low)
    best = np.argmin(objective, axis=1)
    best_low, best_high, best_objective = low[rows, best], high[rows, best], objective[rows, best]
    spread = np.maximum(np.ceil((high.max(axis=1) - np.maximum(low.min(axis=1), 0)) / 8.0), 1.0)
    step_low, step_high = spread.copy(), spread.copy()
    moves = np.array([(-1, 0), (1, 0), (0, -1), (0, 1), (-1, -1), (1, 1), (-1, 1), (1, -1)], dtype=float)
    for _ in range(REFINE_ROUNDS):
        # The second step of a round only matters for items the first one moved: for the others it would try the
        # same neighbours again and change nothing, so it runs on the moved items alone (same result, less work).
        active = rows
        for _ in range(2):
            if not len(active):
                break
            moved = _pattern_step(
                paths, leads, inputs, active, best_low, best_high, best_objective, step_low, step_high, moves
            )
            active = active[moved]
        step_low = np.maximum(np.floor(step_low / 2), 1.0)
        step_high = np.maximum(np.floor(step_high / 2), 1.0)
    chosen = _evaluate(paths, leads, inputs, best_low[:, None], best_high[:, None])
    cost, fill, _ = _score(chosen, inputs.service_floor, best_low[:, None])
    skipped = _evaluate(paths, leads, inputs, best_low[:, None], best_high[:, None], first_order=np.zeros(1))
    never = best_low < 0
    return OptimisedPolicy(
        reorder_point=best_low,
        order_up_to=np.where(never, 0.0, best_high),
        order_now=chosen.first_order[:, 0, 0],
        expected_cost=cost[:, 0],
        expected_holding_cost=chosen.holding_cost.mean(axis=2)[:, 0],
        expected_shortage_cost=chosen.shortage_cost.mean(axis=2)[:, 0],
        expected_order_cost=chosen.order_cost.mean(axis=2)[:, 0],
        expected_fill_rate=fill[:, 0],
        expected_cost_without_order=skipped.cost.mean(axis=2)[:, 0],
        floor_met=fill[:, 0] >= inputs.service_floor - 1e-12,
        level_profile=(
            inputs.level_profile if inputs.level_profile is not None else np.ones((paths.shape[0], paths.shape[2]))
        ),
    )


def optimise_policies(paths: np.ndarray, leads: np.ndarray, inputs: PlanningInputs) -> OptimisedPolicy:
    """Choose (s, S) for every item from its demand paths ``(n, P, H)`` and lead-time paths ``(n, P, H)``.

    Items are processed in chunks of similar grid size that keep the simulated arrays small enough for the cache.
    """
    grids = candidate_grids(paths, inputs)
    sizes = np.array([len(grid) for grid in grids])
    order = np.argsort(sizes, kind="stable")
    parts: list[tuple[np.ndarray, OptimisedPolicy]] = []
    start = 0
    while start < len(order):
        per_item = int(sizes[order[start]]) * paths.shape[1]
        stop = start + 1
        while (
            stop < len(order)
            and (stop - start + 1) * max(per_item, int(sizes[order[stop]]) * paths.shape[1]) <= CHUNK_ELEMENTS
        ):
            per_item = max(per_item, int(sizes[order[stop]]) * paths.shape[1])
            stop += 1
        index = order[start:stop]
        parts.append(
            (index, _optimise_chunk(paths[index], leads[index], inputs.take(index), [grids[i] for i in index]))
        )
        start = stop
    positions = np.concatenate([index for index, _ in parts])
    inverse = np.empty_like(positions)
    inverse[positions] = np.arange(len(positions))
    fields = OptimisedPolicy.__dataclass_fields__
    return OptimisedPolicy(
        **{name: np.concatenate([getattr(part, name) for _, part in parts])[inverse] for name in fields}
    )
