"""From a forecast frame (``item_id,date,mean,p<q>...``, the engine's output shape) to demand distributions.

Each item-period becomes a distribution whose quantile function runs through the forecast's quantiles: linear
between them, linear below the first (down to no less than 0), and above the last an exponential tail whose scale
makes the distribution's mean equal the forecast mean (never thinner than half the slope of the last segment).
Quantiles that imply a larger mean than the forecast's, even with that thinnest tail, are scaled down until they
imply it: the forecast mean is chosen per item by backtest, while the bands come from errors pooled over many items,
and one exceptional order in an item's history can widen them far beyond anything it sells. Draws are rounded to
whole units at random, which keeps the mean. When the forecast says p10 = p50 = 0 the quantile function is 0 up to
the median: intermittent demand gets its point mass at zero. Demand over the cover period (lead time + review
period, with lead-time variability) is the sum of sampled periods in the simulation, drawn with correlated periods
(see ``sample_paths``). Pure numpy/scipy; no Django.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

from forecasting.engine.errors import InputError

QUANTILE_COLUMN = re.compile(r"^p(\d+(?:\.\d+)?)$")


@dataclass(frozen=True)
class DemandModel:
    """Per item and period: ``mean (n, H)``, quantile ``values (n, H, J)`` at ``levels (J,)``, ``tail (n, H)``."""

    item_ids: np.ndarray
    dates: pd.DatetimeIndex
    mean: np.ndarray
    levels: np.ndarray
    values: np.ndarray
    tail: np.ndarray

    @property
    def horizon(self) -> int:
        return int(self.mean.shape[1])

    def take(self, index: np.ndarray | slice) -> DemandModel:
        return DemandModel(
            item_ids=self.item_ids[index],
            dates=self.dates,
            mean=self.mean[index],
            levels=self.levels,
            values=self.values[index],
            tail=self.tail[index],
        )


def quantile_columns(frame: pd.DataFrame) -> dict[str, float]:
    """The ``p<q>`` columns of a forecast frame and their levels (``p10`` -> 0.10), by level."""
    found = {}
    for column in frame.columns:
        match = QUANTILE_COLUMN.match(str(column))
        if match:
            level = float(match.group(1)) / 100.0
            if 0.0 < level < 1.0:
                found[str(column)] = level
    return dict(sorted(found.items(), key=lambda item: item[1]))


def quantile_knots(mean: np.ndarray, values: np.ndarray, levels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Knots of the quantile function: values at levels ``0, levels...`` ``(..., J + 1)`` and the tail scale.

    ``values`` are made non-decreasing and non-negative. With fewer than two quantiles the body is flat at the
    single quantile (or at the mean) and the tail carries the rest of the mean.
    """
    mean = np.maximum(np.asarray(mean, dtype=float), 0.0)
    if values.shape[-1] == 0:
        values = mean[..., None]
        levels = np.array([0.5])
    values = np.maximum.accumulate(np.maximum(values, 0.0), axis=-1)
    if values.shape[-1] >= 2:
        first_slope = (values[..., 1] - values[..., 0]) / (levels[1] - levels[0])
        last_slope = (values[..., -1] - values[..., -2]) / (levels[-1] - levels[-2])
    else:
        first_slope = np.zeros(mean.shape)
        last_slope = np.zeros(mean.shape)
    bottom = np.maximum(values[..., 0] - first_slope * levels[0], 0.0)
    knots = np.concatenate([bottom[..., None], values], axis=-1)
    grid = np.concatenate([[0.0], levels])
    body = (np.diff(grid) * (knots[..., 1:] + knots[..., :-1]) / 2.0).sum(axis=-1)
    top = levels[-1]
    thinnest = np.maximum(0.5 * last_slope * (1.0 - top), 0.0)
    # Quantiles that imply more than the forecast mean even with the thinnest tail (bands widened by one
    # exceptional order, say) are scaled down to it: the distribution's mean is the forecast mean.
    least_mean = body + (1.0 - top) * (values[..., -1] + thinnest)
    with np.errstate(divide="ignore", invalid="ignore"):
        shrink = np.where(least_mean > mean, mean / least_mean, 1.0)
    knots, body, thinnest = knots * shrink[..., None], body * shrink, thinnest * shrink
    matched = (mean - body) / (1.0 - top) - knots[..., -1]
    tail = np.maximum(matched, thinnest)
    return knots, np.maximum(tail, 0.0)


def quantile_function(levels: np.ndarray, knots: np.ndarray, tail: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Continuous demand at probabilities ``u``; ``knots (..., J + 1)`` and ``tail`` broadcast against ``u``."""
    grid = np.concatenate([[0.0], levels])
    top = grid[-1]
    segment = np.clip(np.searchsorted(grid, u, side="right") - 1, 0, len(grid) - 2)
    # Gather the two knots around each u from the flattened knots (much faster than take_along_axis here).
    width = knots.shape[-1]
    start = np.arange(int(np.prod(knots.shape[:-1]))).reshape(knots.shape[:-1]) * width
    index = start + segment
    flat = np.ascontiguousarray(knots).reshape(-1)
    low = flat.take(index)
    high = flat.take(index + 1)
    fraction = (np.minimum(u, top) - grid[segment]) / (grid[segment + 1] - grid[segment])
    body = low + fraction * (high - low)
    excess = np.log((1.0 - top) / np.maximum(1.0 - u, 1e-12))
    return np.where(u > top, knots[..., -1] + tail * excess, body)


def demand_model(forecasts: pd.DataFrame, *, item_ids: np.ndarray | None = None) -> DemandModel:
    """Fit every row of a forecast frame; items and dates become the axes of the arrays.

    Every item must have the same dates (the engine forecasts the same horizon for all items).
    """
    for column in ("item_id", "date", "mean"):
        if column not in forecasts.columns:
            raise InputError(f"forecast frame: missing column {column}.")
    frame = forecasts.sort_values(["item_id", "date"], kind="stable").reset_index(drop=True)
    dates = pd.DatetimeIndex(sorted(frame["date"].unique()))
    horizon = len(dates)
    sorted_items = frame["item_id"].drop_duplicates().to_numpy()
    items = sorted_items if item_ids is None else np.asarray(item_ids)
    if (frame.groupby("item_id", sort=True)["date"].nunique().to_numpy() != horizon).any() or len(frame) != len(
        sorted_items
    ) * horizon:
        raise InputError("forecast frame: every item needs one forecast for every date of the horizon.")
    position = pd.Index(sorted_items).get_indexer(items)
    if (position < 0).any():
        missing = items[np.flatnonzero(position < 0)[0]]
        raise InputError(f"forecast frame: no forecast for item_id {missing}.")
    columns = quantile_columns(frame)
    levels = np.array(list(columns.values()), dtype=float)
    mean = np.clip(frame["mean"].to_numpy(dtype=float), 0.0, None).reshape(len(sorted_items), horizon)[position]
    values = frame[list(columns)].to_numpy(dtype=float) if columns else np.zeros((len(frame), 0))
    values = values.reshape(len(sorted_items), horizon, len(levels))[position]
    if not len(levels):
        levels = np.array([0.5])
        values = mean[..., None]
    knots, tail = quantile_knots(mean, values, levels)
    return DemandModel(item_ids=items, dates=dates, mean=mean, levels=levels, values=knots, tail=tail)


def stratified_normals(rng: np.random.Generator, *, items: int, paths: int, width: int) -> np.ndarray:
    """Standard normals ``(items, paths, width)`` drawn by Latin hypercube: for every item and column, each of the
    ``paths`` equal-probability strata holds exactly one draw, in random order (variance reduction)."""
    strata = rng.permuted(np.broadcast_to(np.arange(paths, dtype=float), (items, width, paths)), axis=-1)
    u = (strata + rng.random((items, width, paths))) / paths
    return special.ndtri(u).transpose(0, 2, 1)


def sample_paths(
    model: DemandModel, *, paths: int, rng: np.random.Generator, correlation: float | np.ndarray = 0.0
) -> np.ndarray:
    """Whole-unit demand paths ``(n, paths, H)``: inverse-CDF draws, randomly rounded so the mean is kept.

    ``correlation`` (scalar or per item) is the exchangeable correlation of the periods of one path in a Gaussian
    copula: forecast errors persist over a horizon (a level that was wrong stays wrong), which widens demand over
    the cover period well beyond what independent periods give. The normals are stratified (see
    ``stratified_normals``): the cost-optimal stock sits far in the tail of demand, which plain draws of a few hundred
    paths place unevenly from one run to the next.
    """
    n, horizon = model.mean.shape
    rho = np.clip(np.broadcast_to(np.asarray(correlation, dtype=float), (n,)), 0.0, 0.99)[:, None, None]
    shared = stratified_normals(rng, items=n, paths=paths, width=1)
    own = stratified_normals(rng, items=n, paths=paths, width=horizon)
    u = special.ndtr(np.sqrt(rho) * shared + np.sqrt(1.0 - rho) * own)
    continuous = quantile_function(model.levels, model.values[:, None], model.tail[:, None], u)
    return np.floor(continuous + rng.random(continuous.shape))


def sample_lead_times(
    lead_time: np.ndarray, lead_time_std: np.ndarray, *, paths: int, periods: int, rng: np.random.Generator
) -> np.ndarray:
    """Integer lead times ``(n, paths, periods)``: the nominal lead time plus a rounded normal deviation, >= 0."""
    lead = np.asarray(lead_time, dtype=float)[:, None, None]
    spread = np.asarray(lead_time_std, dtype=float)[:, None, None]
    noise = rng.standard_normal((lead.shape[0], paths, periods)) * spread
    return np.maximum(np.rint(lead + noise), 0).astype(np.int64)
