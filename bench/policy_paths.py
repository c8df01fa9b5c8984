"""How many demand paths the policy search needs: plans on 200 and on 100 paths, scored on fresh paths.

Generates N daily SKUs (two years of Poisson demand, lead times 3-15 days, review every 7, MOQ and case packs as in
``pipeline_scale.py``), plans them with ``forecasting.policy.plan`` on each path count, and replays every chosen
(s, S) on the same 2,000 fresh demand and lead-time paths (a draw the search never saw). Prints the planning time
and the fresh-path expected cost and fill rate of each; the pipeline uses the smaller count for large runs
(``PLAN_LARGE_JOB_PATHS``).

    .venv/bin/python bench/policy_paths.py [--skus 500] [--paths 200 100] [--fresh 2000]
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from forecasting.policy import plan as planning  # noqa: E402
from forecasting.policy.distribution import sample_lead_times, sample_paths  # noqa: E402
from forecasting.policy.optimise import _evaluate, _score, level_profile  # noqa: E402


def shop(skus: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    days = pd.date_range("2024-01-01", periods=730, freq="D")
    rates = rng.gamma(0.8, 2.0, skus) + 0.05
    units = rng.poisson(np.outer(rates, np.ones(len(days))))
    ids = [f"SKU{i:05d}" for i in range(skus)]
    history = pd.DataFrame(
        {"item_id": np.repeat(ids, len(days)), "date": np.tile(days, skus), "quantity": units.reshape(-1)}
    )
    history = history[history["quantity"] > 0]
    unit_cost = rng.uniform(1, 30, skus).round(2)
    items = pd.DataFrame(
        {
            "item_id": ids,
            "lead_time": 3 + 3 * (np.arange(skus) % 5),
            "review_period": 7,
            "unit_cost": unit_cost,
            "holding_cost": (unit_cost * 0.25 / 365).round(5),
            "shortage_cost": (unit_cost * 0.5).round(2),
            "order_cost": 15.0,
            "moq": rng.choice([1, 12, 24], skus),
            "case_pack": rng.choice([1, 6, 12], skus),
            "on_hand": rng.integers(0, 50, skus),
            "on_order": 0,
        }
    )
    return history, planning.validate_items(items.astype(str))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--skus", type=int, default=500)
    parser.add_argument("--paths", type=int, nargs="+", default=[200, 100])
    parser.add_argument("--fresh", type=int, default=2000)
    arguments = parser.parse_args()
    history, items = shop(arguments.skus)
    horizon = planning.planning_horizon(items)
    found = planning.policy_forecast(history, horizon=horizon, freq="D")
    captured: dict[str, object] = {}
    choose = planning.choose_policies

    def spy(model, inputs, **options):
        captured.update(model=model, inputs=inputs, options=options)
        return choose(model, inputs, **options)

    planning.choose_policies = spy
    chosen = {}
    for paths in arguments.paths:
        started = time.perf_counter()
        frame = planning.plan(
            history,
            items,
            freq="D",
            forecasts=found.forecasts,
            correlation=found.correlation,
            options=planning.PlanOptions(paths=paths),
        )
        chosen[paths] = (frame, time.perf_counter() - started)
    model, inputs, options = captured["model"], captured["inputs"], captured["options"]
    rng = np.random.default_rng(12345)
    demand = sample_paths(model, paths=arguments.fresh, rng=rng, correlation=options["correlation"])
    leads = sample_lead_times(
        inputs.lead_time,
        options["lead_time_std"],
        paths=arguments.fresh,
        periods=model.horizon,
        rng=rng,
    )
    print(f"{arguments.skus} SKUs, daily, horizon {horizon}; costs on {arguments.fresh} fresh paths")
    print(f"{'paths':>6} {'plan s':>8} {'expected cost':>14} {'fill rate':>10} {'cost vs first':>14}")
    # the levels follow the forecast as the plans chose them (the profile depends on the forecast alone)
    profile = level_profile(model.mean, inputs.lead_time + inputs.review_period, model.horizon)
    phased = replace(inputs, level_profile=profile)
    first = None
    for paths, (frame, seconds) in chosen.items():
        low = frame["reorder_point"].to_numpy(dtype=float)
        high = np.where(low < 0, 1.0, frame["order_up_to"].to_numpy(dtype=float))
        totals = _evaluate(demand, leads, phased, low[:, None], high[:, None])
        cost, fill, _ = _score(totals, inputs.service_floor, low[:, None])
        total = float(cost.sum())
        first = first or total
        print(f"{paths:>6} {seconds:>8.2f} {total:>14.1f} {float(fill.mean()):>10.4f} {total / first - 1:>+14.2%}")


if __name__ == "__main__":
    main()
