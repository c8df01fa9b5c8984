"""What choices made in hindsight would score on a held-out window: how far the accuracy targets are from reach.

    PYTHONPATH=. .venv/bin/python bench/forecast_hindsight.py [--datasets uci_daily,uci_weekly] [--back N]

For each split (``bench.datasets``, the windows of ``forecast_accuracy``), WRMSSE on the held-out window and its
ratio to the best statsforecast baseline (``forecast_accuracy``'s baselines, cached) for:

- ``engine``: the engine as the product runs it (methods chosen per segment by backtest);
- ``best method (hindsight)``: each candidate method alone (``EngineConfig(methods=(m,))``), and
  ``best average (hindsight)``: every equal-weight average of up to 3 of them, the best one picked on the held-out
  window itself. No selection by backtest among these methods can beat it over all items;
- ``flat true level (oracle)``: every item's actual mean over the window, as a flat forecast (knowing each item's
  future level, nothing of its shape);
- ``engine shape, true level (oracle)``: the engine's forecast rescaled per item to that actual mean (the
  engine's shape; the level is what it had to guess).

These need the future; they are diagnostics, not forecasts. ``--back N`` scores the window N periods earlier.
"""

from __future__ import annotations

import argparse
import itertools
import os

os.environ.setdefault("OMP_NUM_THREADS", "2")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np
import pandas as pd

from bench.datasets import LOADERS, Split, earlier_window
from bench.forecast_accuracy import _cached_baselines, _matrix
from forecasting.engine import EngineConfig, forecast
from forecasting.engine import metrics as engine_metrics
from forecasting.engine.config import ALL_METHODS
from forecasting.engine.errors import InputError

MAX_AVERAGE = 3


def method_forecasts(split: Split, items: list[str]) -> dict[str, np.ndarray]:
    """Each candidate method alone, as the engine runs it at the origin (no backtest folds: with one method there is
    nothing to select, and the mean does not depend on them); methods the engine drops for this data are skipped."""
    found = {}
    for method in ALL_METHODS:
        config = EngineConfig(methods=(method,), folds=0)
        try:
            result = forecast(
                split.train, horizon=split.horizon, freq=split.freq, features=split.features, config=config
            )
        except InputError as error:
            print(f"[{split.name}] {method}: skipped ({error})", flush=True)
            continue
        found[method] = _matrix(result.forecasts, items, "mean")
    return found


def evaluate(split: Split, *, back: int) -> list[dict[str, object]]:
    items = sorted(split.train["item_id"].unique())
    actual, insample = _matrix(split.test, items), _matrix(split.train, items)

    def score(predicted: np.ndarray) -> float:
        return float(engine_metrics.wrmsse(actual, predicted, insample, split.horizon))

    baselines = _cached_baselines(split, fresh=False, back=back)[0]
    baseline_scores = {name: score(entry["mean"]) for name, entry in baselines.items()}
    best_baseline = min(baseline_scores, key=baseline_scores.__getitem__)
    result = forecast(split.train, horizon=split.horizon, freq=split.freq, features=split.features)
    engine = _matrix(result.forecasts, items, "mean")
    methods = method_forecasts(split, items)
    averages = {
        "+".join(combo): score(np.mean([methods[name] for name in combo], axis=0))
        for size in range(1, MAX_AVERAGE + 1)
        for combo in itertools.combinations(sorted(methods), size)
    }
    singles = {name: value for name, value in averages.items() if "+" not in name}
    best_single = min(singles, key=singles.__getitem__)
    best_average = min(averages, key=averages.__getitem__)
    level = actual.mean(axis=1, keepdims=True)
    engine_level = engine.mean(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        reshaped = np.where(engine_level > 0, engine * level / engine_level, level)
    rows = [
        (f"best baseline ({best_baseline})", baseline_scores[best_baseline]),
        ("engine", score(engine)),
        (f"best method (hindsight): {best_single}", singles[best_single]),
        (f"best average (hindsight): {best_average}", averages[best_average]),
        ("flat true level (oracle)", score(np.broadcast_to(level, actual.shape))),
        ("engine shape, true level (oracle)", score(reshaped)),
    ]
    reference = baseline_scores[best_baseline]
    return [
        {"dataset": split.name, "back": back, "forecast": name, "wrmsse": value, "ratio": value / reference}
        for name, value in rows
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--datasets", default="uci_daily,uci_weekly", help="comma-separated subset of " + ",".join(LOADERS)
    )
    parser.add_argument("--back", type=int, default=0, help="score the window this many periods earlier")
    arguments = parser.parse_args()
    rows = []
    for name in arguments.datasets.split(","):
        rows += evaluate(earlier_window(LOADERS[name](), arguments.back), back=arguments.back)
    table = pd.DataFrame(rows)
    with pd.option_context("display.width", 200, "display.max_colwidth", 80):
        print(table.to_string(index=False, float_format=lambda value: f"{value:.3f}"))


if __name__ == "__main__":
    main()
