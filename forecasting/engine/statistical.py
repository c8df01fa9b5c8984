"""Per-series statistical methods (statsforecast models), run item by item on numpy arrays."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
from statsforecast.models import ADIDA, TSB, AutoETS, CrostonSBA

MAX_ETS_SEASON = 24
TSB_SMOOTHING = 0.1


def _level(y: np.ndarray, horizon: int, window: int) -> np.ndarray:
    return np.full(horizon, float(np.mean(y[-window:])) if len(y) else 0.0)


def naive(y: np.ndarray, horizon: int, season: int) -> np.ndarray:
    return np.full(horizon, y[-1] if len(y) else 0.0)


def seasonal_naive(y: np.ndarray, horizon: int, season: int) -> np.ndarray:
    if season <= 1 or len(y) < season:
        return naive(y, horizon, season)
    cycle = y[-season:]
    return np.resize(cycle, horizon).astype(float)


def ets(y: np.ndarray, horizon: int, season: int) -> np.ndarray:
    # Without trend: over replenishment horizons trended ETS extrapolates promotions and launches too far.
    seasonal = 1 < season <= MAX_ETS_SEASON and len(y) >= 2 * season + 2
    model = AutoETS(season_length=season if seasonal else 1, model="ZNZ" if seasonal else "ZNN")
    return np.asarray(model.forecast(y=y, h=horizon)["mean"], dtype=float)


def croston_sba(y: np.ndarray, horizon: int, season: int) -> np.ndarray:
    return np.asarray(CrostonSBA().forecast(y=y, h=horizon)["mean"], dtype=float)


def tsb(y: np.ndarray, horizon: int, season: int) -> np.ndarray:
    model = TSB(alpha_d=TSB_SMOOTHING, alpha_p=TSB_SMOOTHING)
    return np.asarray(model.forecast(y=y, h=horizon)["mean"], dtype=float)


def adida(y: np.ndarray, horizon: int, season: int) -> np.ndarray:
    return np.asarray(ADIDA().forecast(y=y, h=horizon)["mean"], dtype=float)


METHODS: dict[str, Callable[[np.ndarray, int, int], np.ndarray]] = {
    "naive": naive,
    "seasonal_naive": seasonal_naive,
    "ets": ets,
    "croston_sba": croston_sba,
    "tsb": tsb,
    "adida": adida,
}
MINIMUM_LENGTH = {"naive": 1, "seasonal_naive": 1, "ets": 4, "croston_sba": 2, "tsb": 2, "adida": 3}


def forecast_statistical(
    filled: np.ndarray,
    start: np.ndarray,
    end: int,
    *,
    horizon: int,
    season: int,
    methods: tuple[str, ...],
    ets_window: int,
) -> dict[str, np.ndarray]:
    """Forecasts ``(items, horizon)`` per method from periods ``[start, end)`` of each item's filled series.

    Series too short for a method, all-zero series and failed fits get the mean of their recent periods.
    """
    results = {method: np.zeros((filled.shape[0], horizon)) for method in methods}
    window = max(season, 4)
    for item in range(filled.shape[0]):
        y = filled[item, start[item] : end]
        if len(y) == 0 or not np.any(y > 0):
            continue
        for method in methods:
            series = y[-ets_window:] if method == "ets" else y
            if len(series) < MINIMUM_LENGTH[method] or np.all(series == series[0]):
                results[method][item] = _level(y, horizon, window)
                continue
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    forecast = METHODS[method](series, horizon, season)
            except Exception:  # a failed fit of one series must not stop the others
                forecast = _level(y, horizon, window)
            if not np.all(np.isfinite(forecast)):
                forecast = _level(y, horizon, window)
            results[method][item] = np.maximum(forecast, 0.0)
    return results
