"""Inventory policy benchmark: replay four policies on the real held-out windows of the forecasting splits.

    nice -n 10 .venv/bin/python bench/policy_cost.py [--datasets carparts,breakfast] [--paths 200] [--seed 0]
        [--back N] [--recent] [--replan N] [--worst N]

For every item of every split (bench.datasets), economics are drawn once from a seed derived from the item id:
unit cost log-normal (median 10), holding 25%/year of unit cost, shortage half the unit cost, order cost 15,
lead time 1-3 weeks (weekly), 3-14 days (daily) or 0-1 month (monthly: an order at the end of a month arrives
for the next month, or one month later), review every period, case packs on 30% of items and MOQs on 20%.
Every policy starts from the same stock (one cover period of the recent mean demand, nothing on order) and is
replayed with ``forecasting.policy.replay.simulate`` on the test demand:

- seed: order up to 1.2 × mean demand of the last quarter × cover, at every review (rolling over the test);
- textbook: s = mean + 1.645·sigma over the cover period (95%), S = s + EOQ, from the last 52 training periods;
- hindsight: the best static (s, S) per item found by grid and pattern search on the test demand itself (the grid
  also contains every static policy compared here), a bound no static policy can beat;
- ours: ``forecasting.policy`` as the product and ``plan_csv`` run it (``policy_forecast``: the forecasting engine,
  drivers included, and the persistence of its backtest errors -> quantile-function demand paths with correlated
  periods -> expected-cost search over (s, S) from the current stock, over the rest of the test window as planning
  horizon, with both levels following the forecast: at each review they are scaled by the forecast demand over that
  review's cover period relative to the first one, ``level_profile``). Like the product, which plans again on the
  latest sales and stock each time it runs, ours re-plans during the window: every period on weekly and monthly
  data, every 7 days on daily data (``--replan N`` changes it), each plan on the history plus the test demand
  already seen and from the stock and open orders the replay left; between plans the latest plan's phased levels
  apply. Everything ours uses is known at the time it plans (the drivers' future values are a plan, such as a
  promotion calendar). The ``once`` columns are the first plan kept over the whole window (planned once at the
  origin), for comparison. ``--recent`` plans on the recent-demand forecast instead (``recent_demand_forecast``).

Target per dataset: ours closes at least half of the gap between the better of seed/textbook and hindsight.
``--back N`` holds out the window N periods earlier (``bench.datasets.earlier_window``), to see whether a change
helps on windows it was not made on. ``--worst N`` also prints, per dataset, the N items whose replayed cost
exceeds their hindsight bound most, with their recent and held-out demand: where the rest of the gap is.
"""

from __future__ import annotations

import argparse
import sys
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.datasets import LOADERS, Split, earlier_window
from forecasting.policy.demand import RECENT_PERIODS, policy_forecast, recent_demand_forecast
from forecasting.policy.distribution import demand_model
from forecasting.policy.optimise import PlanningInputs, phased_levels, textbook_levels
from forecasting.policy.plan import choose_policies
from forecasting.policy.replay import SimulationTotals, seed_rule_levels, simulate

PERIODS_PER_YEAR = {"D": 365.0, "W": 52.0, "M": 12.0}
SEED_WINDOW = {"D": 91, "W": 13, "M": 3}
# How often the product re-plans in the replay, in periods: a weekly planning run on daily data, else every review.
REPLAN = {"D": 7, "W": 1, "M": 1}
ORDER_COST = 15.0


@dataclass(frozen=True)
class Economics:
    item_ids: np.ndarray
    unit_cost: np.ndarray
    holding_cost: np.ndarray
    shortage_cost: np.ndarray
    order_cost: np.ndarray
    lead_time: np.ndarray
    review_period: np.ndarray
    moq: np.ndarray
    case_pack: np.ndarray
    on_hand: np.ndarray


def _kind(freq: str) -> str:
    return "M" if freq.startswith("M") else freq[0]


def _item_rng(item_id: str) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(str(item_id).encode()))


def economics_for(split: Split, train: np.ndarray, item_ids: np.ndarray) -> Economics:
    """Plausible per-item economics; only the item id and the training demand are used."""
    kind = _kind(split.freq)
    n = len(item_ids)
    fields: dict[str, np.ndarray] = {name: np.zeros(n) for name in ("unit_cost", "lead_time", "moq", "case_pack")}
    recent_mean = train[:, -RECENT_PERIODS:].mean(axis=1)
    for row, item in enumerate(item_ids):
        rng = _item_rng(item)
        fields["unit_cost"][row] = round(float(np.exp(rng.normal(np.log(10.0), 0.8))), 2)
        if kind == "D":
            fields["lead_time"][row] = rng.integers(3, 15)
        elif kind == "W":
            fields["lead_time"][row] = rng.integers(1, 4)
        else:
            fields["lead_time"][row] = rng.choice([0, 0, 1])
        draw_pack, draw_moq = rng.random(), rng.random()
        packs = [size for size in (6, 12, 24) if size <= 4 * recent_mean[row]]
        fields["case_pack"][row] = max(packs) if packs and draw_pack < 0.3 else 1
        fields["moq"][row] = np.ceil(2 * recent_mean[row]) if draw_moq < 0.2 and recent_mean[row] >= 1 else 0
    unit_cost = fields["unit_cost"]
    lead = fields["lead_time"].astype(np.int64)
    review = np.ones(n, dtype=np.int64)
    return Economics(
        item_ids=item_ids,
        unit_cost=unit_cost,
        holding_cost=0.25 * unit_cost / PERIODS_PER_YEAR[kind],
        shortage_cost=0.5 * unit_cost,
        order_cost=np.full(n, ORDER_COST),
        lead_time=lead,
        review_period=review,
        moq=fields["moq"],
        case_pack=fields["case_pack"],
        on_hand=np.round(recent_mean * (lead + review)),
    )


def replay_many(test: np.ndarray, low: np.ndarray, high: np.ndarray, economics: Economics) -> SimulationTotals:
    """Replay levels ``(n, C, 1)`` or ``(n, 1, T)`` on the test demand; totals ``(n, C)``."""
    column = (slice(None), None)
    return simulate(
        test[:, None, :],
        low,
        high,
        lead_time=economics.lead_time[:, None, None],
        review_period=economics.review_period[column],
        on_hand=economics.on_hand[column],
        moq=economics.moq[column],
        case_pack=economics.case_pack[column],
        holding_cost=economics.holding_cost[column],
        shortage_cost=economics.shortage_cost[column],
        order_cost=economics.order_cost[column],
    )


def hindsight(
    test: np.ndarray, economics: Economics, extra: list[tuple[np.ndarray, np.ndarray]]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Best static (s, S) cost per item on the test demand itself: grid, then integer pattern search.

    ``extra`` levels (the compared static policies) join the starting grid, so the bound is at most their cost.
    """
    n, periods = test.shape
    cover = economics.lead_time + economics.review_period
    windows = np.zeros(n)
    for row in range(n):
        sums = np.convolve(test[row], np.ones(int(cover[row])), mode="valid") if periods >= cover[row] else test[row]
        windows[row] = sums.max() if len(sums) else test[row].sum()
    top = np.maximum(np.ceil(1.5 * windows), 1.0)
    lot_top = np.maximum(np.ceil(test.sum(axis=1) + top), 2.0)
    fractions = np.linspace(0.0, 1.0, 14)
    low_grid = np.concatenate([np.full((n, 1), -1.0), np.round(top[:, None] * fractions[None, :])], axis=1)
    lot_grid = np.round(np.exp(np.linspace(0.0, 1.0, 14)[None, :] * np.log(lot_top)[:, None]))
    low = np.repeat(low_grid, lot_grid.shape[1], axis=1)
    high = np.maximum(low, 0.0) + np.tile(lot_grid, (1, low_grid.shape[1]))
    if extra:
        extra_low = np.column_stack([np.ceil(levels[0]) for levels in extra])
        extra_high = np.column_stack([np.ceil(levels[1]) for levels in extra])
        low = np.concatenate([low, extra_low], axis=1)
        high = np.concatenate([high, np.maximum(extra_high, extra_low + 1)], axis=1)
    cost = replay_many(test, low[:, :, None], high[:, :, None], economics).cost
    rows = np.arange(n)
    pick = np.argmin(cost, axis=1)
    best_low, best_high, best = low[rows, pick], high[rows, pick], cost[rows, pick]
    step_low = np.maximum(np.ceil(top / 13.0), 1.0)
    step_high = np.maximum(np.ceil(lot_top / 13.0), 1.0)
    moves = np.array([(-1, 0), (1, 0), (0, -1), (0, 1), (-1, -1), (1, 1), (-1, 1), (1, -1)], dtype=float)
    while True:
        for _ in range(3):
            trial_low = np.maximum(best_low[:, None] + moves[None, :, 0] * step_low[:, None], -1.0)
            trial_high = np.maximum(best_high[:, None] + moves[None, :, 1] * step_high[:, None], trial_low + 1)
            trial = replay_many(test, trial_low[:, :, None], trial_high[:, :, None], economics).cost
            choice = np.argmin(trial, axis=1)
            better = trial[rows, choice] < best - 1e-9
            best_low = np.where(better, trial_low[rows, choice], best_low)
            best_high = np.where(better, trial_high[rows, choice], best_high)
            best = np.where(better, trial[rows, choice], best)
        if (step_low <= 1).all() and (step_high <= 1).all():
            break
        step_low = np.maximum(np.floor(step_low / 2), 1.0)
        step_high = np.maximum(np.floor(step_high / 2), 1.0)
    return best, best_low, best_high


def _plan(
    history: pd.DataFrame,
    split: Split,
    economics: Economics,
    *,
    horizon: int,
    on_hand: np.ndarray,
    pipeline: np.ndarray,
    paths: int,
    recent: bool,
    seed: int,
) -> tuple[np.ndarray, np.ndarray, float, float]:
    """One run of the product's plan on ``history`` from the given stock: the phased (s, S) ``(n, horizon)``, the
    forecast's seconds and the policy's seconds (distributions, paths and search)."""
    started = time.perf_counter()
    if recent:
        found = recent_demand_forecast(history, horizon=horizon, freq=split.freq)
    else:
        found = policy_forecast(history, horizon=horizon, freq=split.freq, features=split.features)
    forecast_seconds = time.perf_counter() - started
    started = time.perf_counter()
    model = demand_model(found.forecasts, item_ids=economics.item_ids)
    n = len(economics.item_ids)
    inputs = PlanningInputs(
        lead_time=economics.lead_time,
        review_period=economics.review_period,
        holding_cost=economics.holding_cost,
        shortage_cost=economics.shortage_cost,
        order_cost=economics.order_cost,
        moq=economics.moq,
        case_pack=economics.case_pack,
        on_hand=on_hand,
        pipeline=pipeline,
        service_floor=np.zeros(n),
    )
    chosen, _ = choose_policies(
        model,
        inputs,
        lead_time_std=np.zeros(n),
        correlation=found.correlation,
        paths=paths,
        seed=seed,
    )
    low, high = phased_levels(chosen.reorder_point[:, None], chosen.order_up_to[:, None], chosen.level_profile)
    return low[:, 0], high[:, 0], forecast_seconds, time.perf_counter() - started


@dataclass(frozen=True)
class Ours:
    """Our levels per item and review ``(n, T)``, re-planned (``low``, ``high``) and planned once at the origin
    (``once_low``, ``once_high``), the number of plans, and the mean seconds of one forecast and one policy run."""

    low: np.ndarray
    high: np.ndarray
    once_low: np.ndarray
    once_high: np.ndarray
    plans: int
    forecast_seconds: float
    policy_seconds: float


def ours(
    split: Split,
    test: np.ndarray,
    economics: Economics,
    *,
    replan: int,
    paths: int,
    recent: bool = False,
    seed: int = 0,
) -> Ours:
    """(s, S) per item and review from the policy package, as the product makes them: a plan every ``replan``
    periods of the test window, each on the history and the demand seen up to it, from the stock the replay of the
    earlier plans left (on hand and on order), over the rest of the window as planning horizon. Between plans the
    levels follow the latest plan's forecast (``level_profile``). The first plan, kept over the whole window, is
    the plan made once at the origin.

    The forecast and its error correlation come from ``policy_forecast`` (the product's path), or from
    ``recent_demand_forecast`` with ``recent=True``.
    """
    n, periods = test.shape
    test_dates = pd.to_datetime(split.test["date"])
    dates = pd.DatetimeIndex(sorted(test_dates.unique()))
    low, high = np.zeros((n, periods)), np.zeros((n, periods))
    once_low, once_high = low, high
    seconds: list[tuple[float, float]] = []
    for origin in range(0, periods, replan):
        seen = split.test[test_dates < dates[origin]]
        on_hand, pipeline = economics.on_hand, np.zeros((n, 1))
        if origin:
            state = replay_many(test[:, :origin], low[:, None, :origin], high[:, None, :origin], economics)
            on_hand, pipeline = state.end_on_hand[:, 0], state.end_pipeline[:, 0]
        planned_low, planned_high, forecast_seconds, policy_seconds = _plan(
            pd.concat([split.train, seen], ignore_index=True),
            split,
            economics,
            horizon=periods - origin,
            on_hand=on_hand,
            pipeline=pipeline,
            paths=paths,
            recent=recent,
            seed=seed,
        )
        if origin == 0:
            once_low, once_high = planned_low, planned_high
        stop = min(periods, origin + replan)
        low[:, origin:stop], high[:, origin:stop] = planned_low[:, : stop - origin], planned_high[:, : stop - origin]
        seconds.append((forecast_seconds, policy_seconds))
    mean_forecast, mean_policy = np.mean(seconds, axis=0)
    return Ours(low, high, once_low, once_high, len(seconds), float(mean_forecast), float(mean_policy))


def worst_items(
    item_ids: np.ndarray, train: np.ndarray, test: np.ndarray, ours_cost: np.ndarray, bound: np.ndarray, count: int
) -> pd.DataFrame:
    """The ``count`` items whose cost under our policy exceeds the hindsight bound most, and their demand."""
    frame = pd.DataFrame(
        {
            "item_id": item_ids,
            "mean_last_13": train[:, -13:].mean(axis=1),
            "mean_last_4": train[:, -4:].mean(axis=1),
            "mean_held_out": test.mean(axis=1),
            "ours": ours_cost,
            "hindsight": bound,
            "excess": ours_cost - bound,
        }
    )
    frame["share_of_gap"] = frame["excess"] / max(float(frame["excess"].sum()), 1e-12)
    return frame.sort_values("excess", ascending=False, kind="stable").head(count).reset_index(drop=True)


def run(split: Split, *, paths: int, recent: bool, seed: int = 0, worst: int = 0, replan: int = 0) -> dict[str, object]:
    train_frame = split.train.pivot(index="item_id", columns="date", values="quantity").sort_index()
    test_frame = split.test.pivot(index="item_id", columns="date", values="quantity").reindex(train_frame.index)
    item_ids = train_frame.index.to_numpy()
    train, test = train_frame.to_numpy(dtype=float), test_frame.to_numpy(dtype=float)
    economics = economics_for(split, train, item_ids)
    cover = economics.lead_time + economics.review_period
    kind = _kind(split.freq)

    seed_high = seed_rule_levels(train, test, cover=cover, window=SEED_WINDOW[kind])
    last_year = train[:, -RECENT_PERIODS:]
    text_low, text_high = textbook_levels(
        last_year.mean(axis=1),
        last_year.std(axis=1),
        cover=cover,
        holding_cost=economics.holding_cost,
        order_cost=economics.order_cost,
    )
    text_low, text_high = np.ceil(text_low), np.ceil(text_high)
    planned = ours(split, test, economics, replan=replan or REPLAN[kind], paths=paths, recent=recent, seed=seed)

    results: dict[str, SimulationTotals] = {
        "seed": replay_many(test, seed_high[:, None, :], seed_high[:, None, :], economics),
        "textbook": replay_many(test, text_low[:, None, None], text_high[:, None, None], economics),
        "ours": replay_many(test, planned.low[:, None, :], planned.high[:, None, :], economics),
        "once": replay_many(test, planned.once_low[:, None, :], planned.once_high[:, None, :], economics),
    }
    bound_grid, _, _ = hindsight(test, economics, [])
    bound_started, _, _ = hindsight(
        test,
        economics,
        [(text_low, text_high), (planned.low[:, 0], planned.high[:, 0]), (seed_high[:, 0], seed_high[:, 0])],
    )
    bound = np.minimum(bound_grid, bound_started)
    costs = {name: float(result.cost.sum()) for name, result in results.items()}
    costs["hindsight"] = float(bound.sum())
    fills = {
        name: 1.0 - float(r.lost_units.sum()) / max(float(r.demand[:, 0].sum()), 1e-12) for name, r in results.items()
    }
    better = min(costs["seed"], costs["textbook"])
    gap = better - costs["hindsight"]
    closed = (better - costs["ours"]) / gap if gap > 0 else float("nan")
    closed_once = (better - costs["once"]) / gap if gap > 0 else float("nan")
    return {
        "dataset": split.name,
        "items": len(item_ids),
        "periods": split.horizon,
        **{f"{name}_cost": value for name, value in costs.items()},
        **{f"{name}_fill": value for name, value in fills.items()},
        "gap_closed": closed,
        "gap_closed_once": closed_once,
        "target_met": bool(closed >= 0.5),
        "plans": planned.plans,
        "skus_per_second": len(item_ids) / max(planned.policy_seconds, 1e-9),
        "forecast_seconds": planned.forecast_seconds,
        "grid_missed_items": int((bound < bound_grid - 1e-6).sum()),
        "grid_missed_cost": float((bound_grid - bound).sum()),
        "worst": worst_items(item_ids, train, test, results["ours"].cost[:, 0], bound, worst) if worst else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default=",".join(LOADERS), help="Comma-separated subset of " + ",".join(LOADERS))
    parser.add_argument("--paths", type=int, default=200, help="Demand paths per item for our optimiser.")
    parser.add_argument("--seed", type=int, default=0, help="Seed of our optimiser's demand paths.")
    parser.add_argument(
        "--back",
        type=int,
        default=0,
        help="Hold out the window this many periods earlier (training on the dates before it): other windows.",
    )
    parser.add_argument(
        "--recent",
        action="store_true",
        help="Plan ours on the recent-demand forecast (recent_demand_forecast) instead of the engine's.",
    )
    parser.add_argument(
        "--replan",
        type=int,
        default=0,
        help="Plan ours every N periods of the window (default: every 7 days for daily data, every period otherwise).",
    )
    parser.add_argument(
        "--worst", type=int, default=0, help="Also print the N items with the most cost above their hindsight bound."
    )
    arguments = parser.parse_args()
    rows = []
    for name in arguments.datasets.split(","):
        started = time.perf_counter()
        split = earlier_window(LOADERS[name](), arguments.back)
        rows.append(
            run(
                split,
                paths=arguments.paths,
                recent=arguments.recent,
                seed=arguments.seed,
                worst=arguments.worst,
                replan=arguments.replan,
            )
        )
        print(f"{name}: done in {time.perf_counter() - started:.0f}s", file=sys.stderr, flush=True)
    worst_frames = [row.pop("worst") for row in rows]
    table = pd.DataFrame(rows)
    shown = pd.DataFrame(
        {
            "dataset": table["dataset"],
            "items": table["items"],
            "periods": table["periods"],
            "seed": table["seed_cost"].map("{:,.0f}".format),
            "textbook": table["textbook_cost"].map("{:,.0f}".format),
            "hindsight": table["hindsight_cost"].map("{:,.0f}".format),
            "ours": table["ours_cost"].map("{:,.0f}".format),
            "seed/text": (table["seed_cost"] / table["textbook_cost"]).map("{:.2f}".format),
            "fill seed/text/ours": [
                f"{a:.1%}/{b:.1%}/{c:.1%}"
                for a, b, c in zip(table["seed_fill"], table["textbook_fill"], table["ours_fill"], strict=True)
            ],
            "gap closed": table["gap_closed"].map("{:.1%}".format),
            "target >=50%": table["target_met"].map({True: "met", False: "NOT met"}),
            "once": table["once_cost"].map("{:,.0f}".format),
            "once closed": table["gap_closed_once"].map("{:.1%}".format),
            "plans": table["plans"],
            "forecast s/plan": table["forecast_seconds"].map("{:,.1f}".format),
            "policy SKU/s": table["skus_per_second"].map("{:,.0f}".format),
        }
    )
    source = "recent_demand_forecast" if arguments.recent else "policy_forecast (the forecasting engine)"
    print(
        f"Total replayed cost over the held-out window (holding + lost sales + orders), same starting stock; "
        f"our forecast: {source}, {arguments.paths} paths per item."
    )
    print(shown.to_string(index=False))
    print(
        "hindsight search alone missed a better static policy found among the compared ones on "
        f"{table['grid_missed_items'].tolist()} items (cost {[round(x) for x in table['grid_missed_cost']]})"
    )
    for dataset, worst in zip(table["dataset"], worst_frames, strict=True):
        if isinstance(worst, pd.DataFrame):
            print(f"\n{dataset}: the items furthest above their hindsight bound (cost; mean demand per period)")
            print(worst.to_string(index=False, float_format=lambda value: f"{value:,.2f}"))


if __name__ == "__main__":
    main()
