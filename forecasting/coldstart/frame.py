"""A probabilistic forecast frame for new products from their cold-start rates.

A new product's level is uncertain as a whole (its similar products are only a guide), and each period is
count noise around that level. The forecast of one period is therefore a Poisson mixture over a log-normal
level with mean 1 and log-scale spread ``log_spread``: its mean is the rate, and its quantiles are those of
the mixture, read off its CDF on whole units. The level draws are fixed normal quantiles, so the frame is
deterministic.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import special, stats

from forecasting.engine import quantile_column

# Log-scale spread of a new product's level around its cold-start estimate: 0.8 puts two thirds of new
# products within a factor of 2.2 of it, about what similar-product estimates achieve on retail catalogues.
LOG_SPREAD = 0.8
LEVEL_DRAWS = 400


def coldstart_forecast_frame(
    rates: Mapping[str, float],
    *,
    start: pd.Timestamp,
    horizon: int,
    freq: str,
    quantiles: Sequence[float],
    log_spread: float = LOG_SPREAD,
) -> pd.DataFrame:
    """``item_id, date, mean, p<q>...``: a flat forecast of ``rates[item]`` units per period for ``horizon``
    periods from ``start``, with the quantiles of the Poisson–log-normal mixture (see the module docstring)."""
    if horizon < 1:
        raise ValueError(f"horizon must be at least 1 period, got {horizon}.")
    if log_spread < 0:
        raise ValueError(f"log_spread must not be negative, got {log_spread}.")
    levels = np.asarray(quantiles, dtype=float)
    dates = pd.date_range(start, periods=horizon, freq=freq)
    z = special.ndtri((np.arange(LEVEL_DRAWS) + 0.5) / LEVEL_DRAWS)
    multipliers = np.exp(log_spread * z - log_spread**2 / 2)
    items = list(rates)
    values = np.zeros((len(items), len(levels)))
    for row, item in enumerate(items):
        rate = max(float(rates[item]), 0.0)
        if rate == 0.0:
            continue
        means = rate * multipliers
        top = int(stats.poisson.ppf(0.9999, means.max())) + 1
        units = np.arange(top + 1)
        cdf = stats.poisson.cdf(units[:, None], means[None, :]).mean(axis=1)
        values[row] = np.searchsorted(cdf, levels - 1e-12, side="left").clip(max=top)
    frame = pd.DataFrame(
        {
            "item_id": np.repeat(items, horizon),
            "date": np.tile(dates.to_numpy(), len(items)),
            "mean": np.repeat([max(float(rates[item]), 0.0) for item in items], horizon),
        }
    )
    for column, level_values in zip(levels, values.T, strict=True):
        frame[quantile_column(float(column))] = np.repeat(level_values, horizon).astype(float)
    return frame
