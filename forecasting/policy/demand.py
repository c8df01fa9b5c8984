"""The one place the policy gets its demand forecast from.

``policy_forecast`` runs the forecasting engine (``forecasting.engine.forecast``, drivers included) for the
policy's quantiles and returns its frame (``item_id,date,mean,p<q>...``) with how strongly its backtest errors
persist over the horizon (``ForecastResult.error_correlation``), which sets how correlated the simulated demand
periods are. ``recent_demand_forecast`` is the simple alternative the benchmark compares it with: for every item,
the mean and (linearly interpolated) empirical quantiles of its last ``RECENT_PERIODS`` periods (zeros filled
in), repeated flat over the horizon, with ``error_correlation`` measured on a backtest of that same rule.
Pure pandas; no Django.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

from forecasting.engine.history import parse_freq

POLICY_QUANTILES = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98)
RECENT_PERIODS = 52


@dataclass(frozen=True)
class PolicyForecast:
    """The forecast frame the policy plans on and the correlation of its errors across periods, in [0, 0.9]."""

    forecasts: pd.DataFrame
    correlation: float


def quantile_column(level: float) -> str:
    """The engine's column name for a quantile level: 0.1 -> ``p10``, 0.975 -> ``p97.5``."""
    return f"p{level * 100:g}"


def demand_matrix(history: pd.DataFrame, *, freq: str) -> tuple[np.ndarray, pd.DatetimeIndex, np.ndarray]:
    """Items (sorted), periods and demand ``(n, T)`` on a common calendar ending at the last date of the history.

    A period with no row is zero demand; periods before an item's first row are NaN (not yet sold).
    """
    offset = parse_freq(freq)
    dates = pd.date_range(history["date"].min(), history["date"].max(), freq=offset)
    items, item_index = np.unique(history["item_id"].astype(str).to_numpy(), return_inverse=True)
    date_index = dates.get_indexer(pd.DatetimeIndex(history["date"]))
    values = np.zeros((len(items), len(dates)))
    np.add.at(values, (item_index, date_index), history["quantity"].to_numpy(dtype=float))
    first = np.full(len(items), len(dates))
    np.minimum.at(first, item_index, date_index)
    values[np.arange(len(dates))[None, :] < first[:, None]] = np.nan
    return items, dates, values


def policy_forecast(
    history: pd.DataFrame,
    *,
    horizon: int,
    freq: str,
    features: pd.DataFrame | None = None,
    quantiles: tuple[float, ...] = POLICY_QUANTILES,
) -> PolicyForecast:
    """The engine's forecast of every item of a validated ``item_id,date,quantity`` history, with ``features``
    (known drivers covering history and horizon) when given, and the persistence of its backtest errors."""
    from forecasting.engine import forecast

    result = forecast(history, horizon=horizon, freq=freq, quantiles=quantiles, features=features)
    return PolicyForecast(forecasts=result.forecasts, correlation=result.error_correlation)


def recent_demand_forecast(
    history: pd.DataFrame,
    *,
    horizon: int,
    freq: str,
    quantiles: tuple[float, ...] = POLICY_QUANTILES,
) -> PolicyForecast:
    """Per item and future period: ``item_id,date,mean`` and one ``p<q>`` column per quantile, from the item's
    last ``RECENT_PERIODS`` periods; ``history`` is a validated ``item_id,date,quantity`` frame."""
    offset = parse_freq(freq)
    items, dates, values = demand_matrix(history, freq=freq)
    recent = values[:, -RECENT_PERIODS:]
    future = pd.date_range(dates[-1] + offset, periods=horizon, freq=offset)
    frame = pd.DataFrame({"item_id": np.repeat(items, horizon), "date": np.tile(future, len(items))})
    frame["mean"] = np.repeat(np.nanmean(recent, axis=1), horizon)
    levels = np.nanquantile(recent, quantiles, axis=1)
    for level, row in zip(quantiles, levels, strict=True):
        frame[quantile_column(level)] = np.repeat(row, horizon)
    return PolicyForecast(forecasts=frame, correlation=error_correlation(history, horizon=horizon, freq=freq))


def error_correlation(history: pd.DataFrame, *, horizon: int, freq: str, origins: int = 3) -> float:
    """How strongly forecast errors persist over a horizon: a pooled exchangeable correlation in [0, 0.9].

    The recent-demand forecast is backtested at up to ``origins`` origins, one horizon apart, at the end of the history.
    Each actual demand is turned into its (mid) probability under that item's recent empirical distribution and
    then into a normal score; the correlation is the average product of two different periods' scores from the
    same item and origin, over the average squared score. With too little history it is 0 (independent periods).
    """
    _, _, table = demand_matrix(history, freq=freq)
    pair_sum, square_sum = 0.0, 0.0
    for back in range(1, origins + 1):
        origin = table.shape[1] - horizon * back
        if origin < 8 or horizon < 2:
            break
        window = table[:, max(0, origin - RECENT_PERIODS) : origin]
        future = table[:, origin : origin + horizon]
        usable = ~np.isnan(window).any(axis=1)
        window, future = window[usable], future[usable]
        below = (window[:, None, :] < future[:, :, None]).mean(axis=2)
        equal = (window[:, None, :] == future[:, :, None]).mean(axis=2)
        scores = special.ndtri(np.clip(below + 0.5 * equal, 0.01, 0.99))
        total = scores.sum(axis=1)
        pair_sum += float((total**2 - (scores**2).sum(axis=1)).sum()) / (horizon - 1)
        square_sum += float((scores**2).sum())
    if square_sum <= 0:
        return 0.0
    return float(np.clip(pair_sum / square_sum, 0.0, 0.9))
