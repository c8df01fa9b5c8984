"""Forecast accuracy metrics on numpy arrays.

Arrays of actuals and forecasts are ``(items, horizon)``; ``NaN`` actuals (censored or not yet
observed periods) are left out of every sum. ``insample`` is ``(items, periods)`` training history with
``NaN`` before an item starts, used for the MASE and RMSSE scales and the WRMSSE weights.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import special, stats

FloatArray = np.ndarray


def _row_nanmean(values: FloatArray) -> FloatArray:
    """Mean of each row over its non-NaN entries; NaN for a row with none (without numpy's warning)."""
    present = ~np.isnan(values)
    counts = present.sum(axis=1)
    totals = np.where(present, values, 0.0).sum(axis=1)
    return np.where(counts > 0, totals / np.maximum(counts, 1), np.nan)


def _as_2d(values: FloatArray) -> FloatArray:
    array = np.asarray(values, dtype=float)
    return array[None, :] if array.ndim == 1 else array


def wape(actual: FloatArray, forecast: FloatArray) -> float:
    """Weighted absolute percentage error: sum |actual - forecast| / sum |actual| (NaN when no demand)."""
    actual, forecast = _as_2d(actual), _as_2d(forecast)
    mask = ~np.isnan(actual)
    denominator = np.abs(actual[mask]).sum()
    if denominator == 0:
        return float("nan")
    return float(np.abs(actual[mask] - forecast[mask]).sum() / denominator)


def bias(actual: FloatArray, forecast: FloatArray) -> float:
    """Relative bias: sum (forecast - actual) / sum actual; positive means over-forecasting."""
    actual, forecast = _as_2d(actual), _as_2d(forecast)
    mask = ~np.isnan(actual)
    denominator = np.abs(actual[mask]).sum()
    if denominator == 0:
        return float("nan")
    return float((forecast[mask] - actual[mask]).sum() / denominator)


def pinball(actual: FloatArray, quantile_forecast: FloatArray, quantile: float) -> FloatArray:
    """Elementwise pinball (quantile) loss; NaN where the actual is NaN."""
    difference = np.asarray(actual, dtype=float) - np.asarray(quantile_forecast, dtype=float)
    return np.maximum(quantile * difference, (quantile - 1.0) * difference)


def scaled_quantile_loss(actual: FloatArray, quantile_forecasts: FloatArray, quantiles: Sequence[float]) -> float:
    """Weighted quantile loss (as in GluonTS): mean over quantiles of 2 * sum pinball / sum |actual|.

    ``quantile_forecasts`` is ``(len(quantiles), items, horizon)``.
    """
    actual = _as_2d(actual)
    mask = ~np.isnan(actual)
    denominator = np.abs(actual[mask]).sum()
    if denominator == 0:
        return float("nan")
    losses = [
        2.0 * pinball(actual[mask], _as_2d(quantile_forecasts[index])[mask], quantile).sum() / denominator
        for index, quantile in enumerate(quantiles)
    ]
    return float(np.mean(losses))


def coverage(actual: FloatArray, lower: FloatArray, upper: FloatArray) -> float:
    """Share of observed actuals inside [lower, upper]."""
    actual, lower, upper = _as_2d(actual), _as_2d(lower), _as_2d(upper)
    mask = ~np.isnan(actual)
    if not mask.any():
        return float("nan")
    inside = (actual[mask] >= lower[mask]) & (actual[mask] <= upper[mask])
    return float(inside.mean())


def _insample_differences(insample: FloatArray, lag: int) -> FloatArray:
    insample = _as_2d(insample)
    if insample.shape[1] <= lag:
        return np.full((insample.shape[0], 0), np.nan)
    return insample[:, lag:] - insample[:, :-lag]


def mase_scale(insample: FloatArray, season_length: int = 1) -> FloatArray:
    """Per item: in-sample mean absolute ``season_length``-step difference (NaN when undefined or zero)."""
    differences = np.abs(_insample_differences(insample, season_length))
    with np.errstate(invalid="ignore"):
        counts = (~np.isnan(differences)).sum(axis=1)
        scale = np.where(counts > 0, np.nansum(differences, axis=1) / np.maximum(counts, 1), np.nan)
    return np.where(scale > 0, scale, np.nan)


def rmsse_scale(insample: FloatArray) -> FloatArray:
    """Per item: in-sample mean squared one-step difference (NaN when undefined or zero)."""
    differences = _insample_differences(insample, 1) ** 2
    counts = (~np.isnan(differences)).sum(axis=1)
    scale = np.where(counts > 0, np.nansum(differences, axis=1) / np.maximum(counts, 1), np.nan)
    return np.where(scale > 0, scale, np.nan)


def item_mase(actual: FloatArray, forecast: FloatArray, insample: FloatArray, season_length: int = 1) -> FloatArray:
    """Per item: mean absolute error over the window divided by ``mase_scale``."""
    actual, forecast = _as_2d(actual), _as_2d(forecast)
    return _row_nanmean(np.abs(actual - forecast)) / mase_scale(insample, season_length)


def item_rmsse(actual: FloatArray, forecast: FloatArray, insample: FloatArray) -> FloatArray:
    """Per item: root of (mean squared error over the window / ``rmsse_scale``)."""
    actual, forecast = _as_2d(actual), _as_2d(forecast)
    return np.sqrt(_row_nanmean((actual - forecast) ** 2) / rmsse_scale(insample))


def wrmsse_weights(insample: FloatArray, horizon: int) -> FloatArray:
    """Per item: its share of the units sold over the last ``horizon`` periods of history."""
    insample = _as_2d(insample)
    units = np.nansum(insample[:, -horizon:], axis=1)
    total = units.sum()
    return units / total if total > 0 else np.full(len(units), 1.0 / max(len(units), 1))


def wrmsse(actual: FloatArray, forecast: FloatArray, insample: FloatArray, horizon: int | None = None) -> float:
    """M5-style WRMSSE: RMSSE per item weighted by its share of units in the last ``horizon`` periods.

    Items whose RMSSE is undefined (constant history, no observed actual) are dropped and the other
    weights renormalised.
    """
    actual = _as_2d(actual)
    weights = wrmsse_weights(insample, horizon or actual.shape[1])
    scores = item_rmsse(actual, forecast, insample)
    defined = ~np.isnan(scores)
    if not defined.any() or weights[defined].sum() == 0:
        return float("nan")
    return float((weights[defined] * scores[defined]).sum() / weights[defined].sum())


def summary(
    actual: FloatArray,
    forecast: FloatArray,
    insample: FloatArray,
    *,
    quantile_forecasts: FloatArray | None = None,
    quantiles: Sequence[float] = (),
    season_length: int = 1,
) -> dict[str, float]:
    """All metrics for one group of items: WRMSSE, WAPE, MASE (mean over items), bias, quantile loss, coverage."""
    item_scores = item_mase(actual, forecast, insample, season_length)
    result = {
        "wrmsse": wrmsse(actual, forecast, insample),
        "wape": wape(actual, forecast),
        "mase": float(_row_nanmean(item_scores[None, :])[0]) if item_scores.size else float("nan"),
        "bias": bias(actual, forecast),
        "quantile_loss": float("nan"),
        "coverage": float("nan"),
    }
    if quantile_forecasts is not None and len(quantiles) > 0:
        result["quantile_loss"] = scaled_quantile_loss(actual, quantile_forecasts, quantiles)
        if len(quantiles) >= 2:
            result["coverage"] = coverage(actual, quantile_forecasts[0], quantile_forecasts[-1])
    return result


def persistence_correlation(errors: Sequence[FloatArray]) -> float:
    """How strongly forecast errors persist over a horizon: a pooled exchangeable correlation in [0, 0.9].

    ``errors`` holds one ``(items, horizon)`` block per backtest window (actual minus forecast, scaled per item;
    rows with a ``NaN`` are left out). All errors are turned into normal scores by their rank, pooled; the
    correlation is the average product of two different periods' scores from the same item and window, over
    the average squared score. An item whose forecast was too low for the whole window adds to it; errors that
    come and go average out to 0. Less than two periods per window, or no complete row, gives 0.
    """
    blocks = [np.asarray(block, dtype=float) for block in errors]
    blocks = [block[~np.isnan(block).any(axis=1)] for block in blocks if block.ndim == 2 and block.shape[1] >= 2]
    values = np.concatenate([block.ravel() for block in blocks]) if blocks else np.array([])
    if values.size == 0:
        return 0.0
    scores = special.ndtri((stats.rankdata(values) - 0.5) / values.size)
    pair_sum, square_sum, start = 0.0, 0.0, 0
    for block in blocks:
        rows = scores[start : start + block.size].reshape(block.shape)
        start += block.size
        pair_sum += float((rows.sum(axis=1) ** 2 - (rows**2).sum(axis=1)).sum()) / (block.shape[1] - 1)
        square_sum += float((rows**2).sum())
    if square_sum <= 0:
        return 0.0
    return float(np.clip(pair_sum / square_sum, 0.0, 0.9))
