"""Speed and memory of the engine at scale: synthetic daily series, two years each.

    nice -n 10 .venv/bin/python -m bench.forecast_speed [--series 10000] [--days 730] [--horizon 28]

Target: 10,000 series x 730 days forecast in at most 5 minutes on 2 cores with at most 4 GB peak RSS.
Prints the wall time, series per second and the peak resident memory of this process.
"""

from __future__ import annotations

import argparse
import os

# Before LightGBM loads: at most 2 threads, and idle threads sleep instead of spinning on a shared machine.
os.environ.setdefault("OMP_NUM_THREADS", "2")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import resource
import time

import numpy as np
import pandas as pd


def synthetic_history(series: int, days: int, seed: int = 0) -> pd.DataFrame:
    """A mix of smooth, weekly-seasonal, trending and intermittent daily demand; zero days have no row."""
    rng = np.random.default_rng(seed)
    periods = np.arange(days)
    level = rng.lognormal(mean=0.5, sigma=1.2, size=series)[:, None]
    weekly = 1.0 + rng.uniform(0.0, 0.6, size=series)[:, None] * np.sin(
        2 * np.pi * (periods[None, :] + rng.integers(0, 7, size=(series, 1))) / 7
    )
    trend = 1.0 + rng.normal(0.0, 0.3, size=series)[:, None] * periods[None, :] / days
    intermittent = rng.random(series)[:, None] < 0.4
    occurrence = np.where(intermittent, rng.random((series, days)) < rng.uniform(0.05, 0.4, size=(series, 1)), True)
    quantity = rng.poisson(np.maximum(level * weekly * trend, 0.0)) * occurrence
    item, day = np.nonzero(quantity)
    dates = pd.date_range("2023-01-01", periods=days, freq="D")
    return pd.DataFrame(
        {
            "item_id": np.char.add("sku", item.astype(str)),
            "date": dates[day],
            "quantity": quantity[item, day].astype(float),
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--series", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--horizon", type=int, default=28)
    arguments = parser.parse_args()
    from forecasting.engine import forecast

    history = synthetic_history(arguments.series, arguments.days)
    started = time.perf_counter()
    cpu_started = time.process_time()
    result = forecast(history, horizon=arguments.horizon, freq="D")
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    load = os.getloadavg()[0]
    peak_megabytes = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows = len(result.forecasts)
    print(
        f"series={arguments.series} days={arguments.days} horizon={arguments.horizon} rows_out={rows} "
        f"history_rows={len(history)} cores={os.cpu_count()}"
    )
    print(f"wall={seconds:.1f}s series_per_second={arguments.series / seconds:.1f} peak_rss={peak_megabytes:.0f}MB")
    # On a shared machine the wall time depends on the neighbours: the CPU time shows the work done.
    print(f"cpu={cpu_seconds:.1f}s (user+system, all threads) load_average_1min={load:.1f}")
    print("methods chosen:", result.methods.groupby("method").size().sort_values(ascending=False).to_dict())


if __name__ == "__main__":
    main()
