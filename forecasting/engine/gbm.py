"""A global gradient-boosted model over all series: direct multi-horizon, the step as a feature.

For an origin ``t`` (the last observed period) and a step ``k`` the model predicts
``y[t + k] / scale`` where ``scale`` is the item's recent mean demand at ``t``. Features are lags and
rolling statistics at the origin (scaled), the same season in earlier cycles, the calendar of the target
period, known future drivers at the target period (raw, relative to their recent mean, and changed since
the origin), and past-only text signals at the origin. Censored (out-of-stock) targets are not trained on.
"""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pandas as pd

LAGS = 8
MIN_TRAINING_ROWS = 50
# LightGBM objective per engine method. The Tweedie variance power sits midway between Poisson (1) and gamma (2).
GBM_OBJECTIVES = {"gbm": "regression", "gbm_tweedie": "tweedie"}
TWEEDIE_VARIANCE_POWER = 1.5
THREADED_ROWS = 200_000
ZERO_GUARD = 1e-9


def windows_for(season: int) -> tuple[int, ...]:
    """Rolling windows (periods): short ones, and up to a full season."""
    if season >= 52:
        return (4, 8, 13, 26, 52)
    if season == 12:
        return (3, 6, 12, 24)
    if season == 7:
        return (7, 14, 28, 56, 112)
    return (2, 4, 8, 16)


class _Prefix:
    """NaN-aware prefix sums along periods for fast window statistics at any origin."""

    def __init__(self, values: np.ndarray) -> None:
        present = ~np.isnan(values)
        zeroed = np.where(present, values, 0.0)
        pad = np.zeros((values.shape[0], 1))
        self.sum = np.concatenate([pad, np.cumsum(zeroed, axis=1)], axis=1)
        self.square = np.concatenate([pad, np.cumsum(zeroed**2, axis=1)], axis=1)
        self.count = np.concatenate([pad, np.cumsum(present, axis=1)], axis=1)
        self.nonzero = np.concatenate([pad, np.cumsum(zeroed > 0, axis=1)], axis=1)

    def window(self, origin: int, width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        low = max(origin + 1 - width, 0)
        high = origin + 1
        return (
            self.sum[:, high] - self.sum[:, low],
            self.square[:, high] - self.square[:, low],
            self.count[:, high] - self.count[:, low],
            self.nonzero[:, high] - self.nonzero[:, low],
        )


def _divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.abs(denominator) > ZERO_GUARD, numerator / denominator, np.nan)


def _calendar(dates: pd.DatetimeIndex, season: int) -> dict[str, np.ndarray]:
    calendar = {"month": dates.month.to_numpy(dtype=float)}
    if season in (7, 5, 52) or season > 12:
        calendar["week_of_year"] = dates.isocalendar().week.to_numpy(dtype=float)
    if season in (7, 5):
        calendar["day_of_week"] = dates.dayofweek.to_numpy(dtype=float)
        calendar["day_of_month"] = dates.day.to_numpy(dtype=float)
    return calendar


class FeatureBuilder:
    """Builds feature rows for (origin, step) pairs on one panel."""

    def __init__(
        self,
        *,
        filled: np.ndarray,
        start: np.ndarray,
        all_dates: pd.DatetimeIndex,
        season: int,
        features: np.ndarray | None,
        feature_names: tuple[str, ...],
        text: np.ndarray | None,
        text_names: tuple[str, ...],
    ) -> None:
        self.filled = filled
        self.start = start
        self.season = season
        self.windows = windows_for(season)
        self.long = self.windows[-1] if season > 1 else self.windows[-2]
        self.prefix = _Prefix(filled)
        self.features = features
        self.feature_names = feature_names
        self.feature_prefix = (
            [_Prefix(features[:, :, j]) for j in range(features.shape[2])] if features is not None else []
        )
        self.text = text
        self.text_names = text_names
        self.text_prefix = [_Prefix(text[:, :, j]) for j in range(text.shape[2])] if text is not None else []
        self.calendar = _calendar(all_dates, season)
        positions = np.where(filled > 0, np.arange(filled.shape[1])[None, :], -1)
        self.last_nonzero = np.maximum.accumulate(positions, axis=1)

    def scale(self, origin: int) -> np.ndarray:
        total, _, count, _ = self.prefix.window(origin, self.long)
        recent = _divide(total, count.astype(float))
        everything = _divide(self.prefix.sum[:, origin + 1], self.prefix.count[:, origin + 1].astype(float))
        scale = np.where(np.isfinite(recent) & (recent > 0), recent, everything)
        return np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)

    def origin_block(self, origin: int, scale: np.ndarray) -> dict[str, np.ndarray]:
        columns: dict[str, np.ndarray] = {}
        for lag in range(LAGS):
            position = origin - lag
            columns[f"lag_{lag + 1}"] = (
                self.filled[:, position] / scale if position >= 0 else np.full(len(scale), np.nan)
            )
        for width in self.windows:
            total, square, count, nonzero = self.prefix.window(origin, width)
            mean = _divide(total, count.astype(float))
            columns[f"mean_{width}"] = mean / scale
            if width == self.long:
                variance = _divide(square, count.astype(float)) - mean**2
                columns["std_long"] = np.sqrt(np.maximum(variance, 0.0)) / scale
                columns["zero_share_long"] = 1.0 - _divide(nonzero.astype(float), count.astype(float))
                columns["size_long"] = _divide(total, nonzero.astype(float)) / scale
        columns["since_nonzero"] = np.where(
            self.last_nonzero[:, origin] >= 0, origin - self.last_nonzero[:, origin], origin + 1 - self.start
        ).astype(float)
        columns["age"] = (origin + 1 - self.start).astype(float)
        columns["log_scale"] = np.log1p(scale)
        for j, name in enumerate(self.feature_names):
            assert self.features is not None
            total, _, count, _ = self.feature_prefix[j].window(origin, self.long)
            columns[f"driver_mean_{name}"] = _divide(total, count.astype(float))
            columns[f"driver_origin_{name}"] = self.features[:, origin, j]
        for j, name in enumerate(self.text_names):
            assert self.text is not None
            columns[f"text_last_{name}"] = self.text[:, origin, j]
            total, _, count, _ = self.text_prefix[j].window(origin, self.windows[0])
            columns[f"text_mean_{name}"] = _divide(total, count.astype(float))
        return columns

    def step_block(
        self, origin: int, step: int, scale: np.ndarray, base: dict[str, np.ndarray]
    ) -> dict[str, np.ndarray]:
        items = len(scale)
        target = origin + step
        columns: dict[str, np.ndarray] = {"step": np.full(items, float(step))}
        if self.season > 1:
            cycles = -(-step // self.season)
            same = []
            for extra in range(3):
                position = target - self.season * (cycles + extra)
                same.append(self.filled[:, position] / scale if position >= 0 else np.full(items, np.nan))
            columns["same_season_1"] = same[0]
            stacked = np.vstack(same)
            present = (~np.isnan(stacked)).sum(axis=0)
            columns["same_season_mean"] = _divide(np.nansum(stacked, axis=0), present.astype(float))
        for name, values in self.calendar.items():
            columns[name] = np.full(items, values[target])
        for j, name in enumerate(self.feature_names):
            assert self.features is not None
            value = self.features[:, target, j]
            columns[f"driver_{name}"] = value
            columns[f"driver_relative_{name}"] = _divide(value, base[f"driver_mean_{name}"])
            columns[f"driver_change_{name}"] = value - base[f"driver_origin_{name}"]
        return columns

    def rows(self, origin: int, horizon: int) -> tuple[np.ndarray, list[str], np.ndarray]:
        """Feature rows (step-major: all items for step 1, then step 2, ...) from ``origin``, their column
        names, and the per-item scale."""
        scale = self.scale(origin)
        base = self.origin_block(origin, scale)
        blocks, names = [], []
        for step in range(1, horizon + 1):
            columns = {**base, **self.step_block(origin, step, scale, base)}
            names = list(columns)
            blocks.append(np.column_stack([columns[name] for name in names]).astype(np.float32))
        return np.vstack(blocks), names, scale


MIN_ORIGINS = 12


def _training_origins(start: np.ndarray, end: int, horizon: int, per_origin: int, max_rows: int) -> list[int]:
    first = max(int(np.min(start)) + 1, 1)
    last = end - 2
    if last < first:
        return []
    available = np.arange(first, last + 1)
    # With many items, items are subsampled per origin (see fit_predict_gbm) to keep several origins.
    count = max(1, min(len(available), max(MIN_ORIGINS, max_rows // max(per_origin, 1))))
    # Evenly spaced over the history, always including the most recent origin.
    picks = np.unique(np.round(np.linspace(len(available) - 1, 0, count)).astype(int))
    return sorted(int(available[index]) for index in picks)


def fit_predict_gbm(
    builder: FeatureBuilder,
    values: np.ndarray,
    end: int,
    *,
    horizon: int,
    max_rows: int,
    rounds: int,
    learning_rate: float,
    leaves: int,
    n_jobs: int,
    seed: int,
    objective: str = "regression",
) -> np.ndarray:
    """Train on origins before ``end`` (targets up to ``end - 1``); forecast ``(items, horizon)`` from ``end - 1``.
    ``objective``: LightGBM's ``regression`` (squared loss) or ``tweedie`` (log link; for zero-heavy demand)."""
    items = values.shape[0]
    origins = _training_origins(builder.start, end, horizon, items * horizon, max_rows)
    frames, targets = [], []
    rng = np.random.default_rng(seed)
    share = min(1.0, max_rows / max(len(origins) * items * horizon, 1))
    for origin in origins:
        steps = min(horizon, end - 1 - origin)
        rows, names, scale = builder.rows(origin, steps)
        target = np.concatenate([values[:, origin + step] / scale for step in range(1, steps + 1)])
        started = np.tile(builder.start <= origin, steps)
        sampled = np.tile(rng.random(items) < share, steps)
        keep = ~np.isnan(target) & started & sampled
        frames.append(rows[keep])
        targets.append(target[keep])
    prediction_rows, names, prediction_scale = builder.rows(end - 1, horizon)
    if not frames or sum(len(target) for target in targets) < MIN_TRAINING_ROWS:
        fallback = np.nan_to_num(prediction_rows[:, names.index(f"mean_{builder.long}")].astype(float), nan=0.0)
        return np.maximum(fallback.reshape(horizon, items).T * prediction_scale[:, None], 0.0)
    train = np.vstack(frames)
    y = np.concatenate(targets)
    # Extreme scaled targets (launches, one-off bulk orders) would dominate a squared loss.
    y = np.minimum(y, np.quantile(y, 0.999) if len(y) > 1000 else np.max(y))
    model = lgb.LGBMRegressor(
        objective=objective,
        tweedie_variance_power=TWEEDIE_VARIANCE_POWER,  # read by the tweedie objective only
        n_estimators=rounds,
        learning_rate=learning_rate,
        num_leaves=leaves,
        min_child_samples=min(50, max(5, len(y) // 200)),
        max_bin=127,
        subsample=0.8,
        subsample_freq=1,
        colsample_bytree=0.8,
        reg_lambda=1.0,
        # Threads only pay off on large sets; on a busy machine spinning OpenMP threads slow small fits badly.
        n_jobs=n_jobs if len(y) >= THREADED_ROWS else 1,
        random_state=seed,
        deterministic=True,
        force_col_wise=True,
        verbose=-1,
    )
    model.fit(pd.DataFrame(train, columns=names), y)
    predicted = model.predict(pd.DataFrame(prediction_rows, columns=names))
    forecast = np.asarray(predicted, dtype=float).reshape(horizon, items).T * prediction_scale[:, None]
    return np.maximum(forecast, 0.0)
