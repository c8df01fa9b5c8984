"""Accuracy of the forecasting engine against statsforecast baselines on the real data sets.

    nice -n 10 .venv/bin/python -m bench.forecast_accuracy [--datasets carparts,breakfast] [--fresh]
        [--back N] [--seed N] [--methods gbm_tweedie,ets]

Fits on each split's train part, forecasts its horizon and scores the held-out last window. Prints one
table: dataset x method with WRMSSE, WAPE, bias, scaled quantile loss (GluonTS weighted quantile loss
over 0.1/0.5/0.9), p10-p90 coverage, and for the engine its ratio to the best baseline on WRMSSE and on
quantile loss (among baselines with intervals). Baseline forecasts are cached in /tmp between runs;
``--fresh`` recomputes them.

The targets are judged on the last window. ``--back N`` holds out the window N periods earlier
(``bench.datasets.earlier_window``: trained on the dates before it, the later dates dropped), to see whether a
change holds on windows it was not made on; ``--seed N`` sets the engine's seed (its global model samples rows and
columns), to tell a change from seed noise; ``--methods`` restricts the engine's candidates (``gbm_tweedie`` alone:
the global model without selection).
"""

from __future__ import annotations

import argparse
import os

# Before LightGBM loads: at most 2 threads, and idle threads sleep instead of spinning on a shared machine.
os.environ.setdefault("OMP_NUM_THREADS", "2")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import pickle
import time
import warnings

import numpy as np
import pandas as pd

from bench.datasets import CACHE_DIR, LOADERS, Split, earlier_window
from forecasting.engine import EngineConfig, forecast
from forecasting.engine import metrics as engine_metrics
from forecasting.engine.config import ALL_METHODS, season_length

QUANTILES = (0.1, 0.5, 0.9)
BASELINE_CACHE_VERSION = 1


def _matrix(frame: pd.DataFrame, items: list[str], column: str = "quantity") -> np.ndarray:
    return frame.pivot(index="item_id", columns="date", values=column).reindex(items).to_numpy(dtype=float)


def _baselines(split: Split) -> dict[str, dict[str, np.ndarray]]:
    """statsforecast baselines: point forecasts, and p10/p50/p90 for those with intervals (80% level)."""
    from statsforecast import StatsForecast
    from statsforecast.models import TSB, AutoETS, CrostonSBA, Naive, SeasonalNaive

    season = season_length(split.freq)
    items = sorted(split.train["item_id"].unique())
    frame = split.train.rename(columns={"item_id": "unique_id", "date": "ds", "quantity": "y"})
    shortest = int(frame.groupby("unique_id").size().min())
    seasonal = season > 1 and shortest >= season
    first = SeasonalNaive(season_length=season, alias="seasonal_naive") if seasonal else Naive(alias="naive")
    # statsforecast's AutoETS does not fit seasons longer than 24 periods (weekly data): non-seasonal there.
    ets = AutoETS(season_length=season if 1 < season <= 24 else 1, alias="ets")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with_intervals = StatsForecast(models=[first, ets], freq=split.freq, n_jobs=2).forecast(
            df=frame, h=split.horizon, level=[80]
        )
        without = StatsForecast(
            models=[CrostonSBA(alias="croston_sba"), TSB(alpha_d=0.1, alpha_p=0.1, alias="tsb")],
            freq=split.freq,
            n_jobs=2,
        ).forecast(df=frame, h=split.horizon)
    merged = with_intervals.merge(without, on=["unique_id", "ds"]).rename(
        columns={"unique_id": "item_id", "ds": "date"}
    )
    results: dict[str, dict[str, np.ndarray]] = {}
    for name in [first.alias, "ets", "croston_sba", "tsb"]:
        entry = {"mean": np.maximum(_matrix(merged, items, name), 0.0)}
        if name in (first.alias, "ets"):
            low = np.maximum(_matrix(merged, items, f"{name}-lo-80"), 0.0)
            high = np.maximum(_matrix(merged, items, f"{name}-hi-80"), 0.0)
            entry["quantiles"] = np.stack([low, entry["mean"], np.maximum(high, entry["mean"])])
        results[name] = entry
    average = np.mean([results[name]["mean"] for name in (first.alias, "ets", "croston_sba")], axis=0)
    results["avg(ets,sba,snaive)"] = {"mean": average}
    return results


def _cached_baselines(split: Split, fresh: bool, back: int = 0) -> tuple[dict[str, dict[str, np.ndarray]], float]:
    window = f"-back{back}" if back else ""
    path = CACHE_DIR / f"baselines-{split.name}{window}-v{BASELINE_CACHE_VERSION}.pkl"
    if path.exists() and not fresh:
        with path.open("rb") as handle:
            return pickle.load(handle)
    started = time.perf_counter()
    value = (_baselines(split), 0.0)
    value = (value[0], time.perf_counter() - started)
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        pickle.dump(value, handle)
    return value


def evaluate(
    split: Split, *, fresh: bool, config: EngineConfig | None = None, back: int = 0
) -> list[dict[str, object]]:
    """Score the engine and the baselines on ``split`` (``back``: how many periods before the last window its
    held-out window is, for the baseline cache)."""
    items = sorted(split.train["item_id"].unique())
    actual = _matrix(split.test, items)
    insample = _matrix(split.train, items)
    baselines, _ = _cached_baselines(split, fresh, back)
    started = time.perf_counter()
    result = forecast(
        split.train, horizon=split.horizon, freq=split.freq, quantiles=QUANTILES, features=split.features, config=config
    )
    engine_seconds = time.perf_counter() - started
    ours = {
        "mean": _matrix(result.forecasts, items, "mean"),
        "quantiles": np.stack([_matrix(result.forecasts, items, f"p{q * 100:g}") for q in QUANTILES]),
    }
    rows = []
    for name, entry in [*baselines.items(), ("engine", ours)]:
        scores = engine_metrics.summary(
            actual, entry["mean"], insample, quantile_forecasts=entry.get("quantiles"), quantiles=QUANTILES
        )
        seconds = engine_seconds if name == "engine" else float("nan")
        rows.append({"dataset": split.name, "method": name, **scores, "seconds": seconds})
    table = pd.DataFrame(rows)
    baseline_rows = table[table["method"] != "engine"]
    best_wrmsse = baseline_rows["wrmsse"].min()
    best_quantile_loss = baseline_rows["quantile_loss"].min()
    engine = table["method"] == "engine"
    table["wrmsse_ratio"] = np.where(engine, table["wrmsse"] / best_wrmsse, np.nan)
    table["ql_ratio"] = np.where(engine, table["quantile_loss"] / best_quantile_loss, np.nan)
    chosen = result.methods.groupby("method").size().sort_values(ascending=False)
    print(f"[{split.name}] engine {engine_seconds:.0f}s; methods chosen: {chosen.to_dict()}", flush=True)
    engine_row = table[engine].iloc[0]
    print(
        f"[{split.name}] engine wrmsse {engine_row['wrmsse']:.3f} "
        f"(x{engine_row['wrmsse_ratio']:.3f} of best baseline), "
        f"quantile loss x{engine_row['ql_ratio']:.3f}, coverage {engine_row['coverage']:.3f}",
        flush=True,
    )
    return table.to_dict("records")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default=",".join(LOADERS), help="comma-separated subset of " + ",".join(LOADERS))
    parser.add_argument("--fresh", action="store_true", help="recompute cached baseline forecasts")
    parser.add_argument(
        "--back",
        type=int,
        default=0,
        help="hold out the window this many periods earlier (training on the dates before it): other windows",
    )
    parser.add_argument("--seed", type=int, default=0, help="the engine's seed")
    parser.add_argument(
        "--methods",
        default=",".join(ALL_METHODS),
        help="the engine's candidate methods, some of " + ",".join(ALL_METHODS),
    )
    arguments = parser.parse_args()
    config = EngineConfig(methods=tuple(arguments.methods.split(",")), seed=arguments.seed)
    rows = []
    for name in arguments.datasets.split(","):
        split = earlier_window(LOADERS[name](), arguments.back)
        rows += evaluate(split, fresh=arguments.fresh, config=config, back=arguments.back)
    table = pd.DataFrame(rows)[
        [
            "dataset",
            "method",
            "wrmsse",
            "wape",
            "bias",
            "quantile_loss",
            "coverage",
            "wrmsse_ratio",
            "ql_ratio",
            "seconds",
        ]
    ]
    with pd.option_context("display.width", 200, "display.max_rows", 200):
        print(table.to_string(index=False, float_format=lambda value: f"{value:.3f}", na_rep="-"))


if __name__ == "__main__":
    main()
