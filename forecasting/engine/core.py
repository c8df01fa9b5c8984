"""``forecast`` and ``backtest``: candidate methods, selection by backtest, calibrated quantiles."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from scipy import stats

from forecasting.engine import metrics
from forecasting.engine.config import GBM_METHODS, STATISTICAL_METHODS, EngineConfig, check_quantiles, season_length
from forecasting.engine.errors import InputError
from forecasting.engine.gbm import GBM_OBJECTIVES, FeatureBuilder, fit_predict_gbm
from forecasting.engine.history import validate_history
from forecasting.engine.panel import Panel, build_panel
from forecasting.engine.statistical import forecast_statistical

SEGMENTS = ("zero", "short", "smooth", "erratic", "intermittent", "lumpy")
MIN_GROUP_RESIDUALS = 200
VOLUME_BUCKETS = 3
FALLBACK_METHOD: tuple[str, ...] = ("tsb",)


@dataclass
class BacktestResult:
    """Rolling-origin backtest. ``metrics`` has one row per (level, key, method) where level is
    ``item``, ``segment`` or ``total``; ``selected`` rows score the engine's per-segment choice
    (chosen on these same folds, so optimistic; its quantiles are calibrated leaving the scored fold out
    when there are two folds or more)."""

    metrics: pd.DataFrame
    folds: int
    origins: list[pd.Timestamp] = field(default_factory=list)


@dataclass
class ForecastResult:
    """``forecasts``: item_id, date, mean, p<q>...; ``methods``: item_id, segment, method; ``backtest``;
    ``error_correlation``: how strongly the selected forecast's backtest errors persist over the horizon
    (``metrics.persistence_correlation``), for planners that simulate demand paths around the forecast."""

    forecasts: pd.DataFrame
    methods: pd.DataFrame
    backtest: BacktestResult
    error_correlation: float = 0.0


@dataclass
class _Fold:
    end: int
    forecasts: dict[str, np.ndarray]
    actual: np.ndarray
    insample: np.ndarray
    scale: np.ndarray


def quantile_column(quantile: float) -> str:
    """``p10`` for 0.1, ``p97.5`` for 0.975."""
    return f"p{quantile * 100:g}"


def segment_items(filled: np.ndarray, start: np.ndarray, end: int, horizon: int) -> np.ndarray:
    """Demand class per item (Syntetos-Boylan ADI/CV2 cut-offs), plus ``zero`` and ``short`` histories."""
    labels = np.empty(filled.shape[0], dtype=object)
    for item in range(filled.shape[0]):
        y = filled[item, start[item] : end]
        nonzero = y[y > 0]
        if len(nonzero) == 0:
            labels[item] = "zero"
        elif len(y) < max(2 * horizon, 8):
            labels[item] = "short"
        else:
            interval = len(y) / len(nonzero)
            variation = (np.std(nonzero) / np.mean(nonzero)) ** 2 if len(nonzero) > 1 else 0.0
            labels[item] = ("smooth", "erratic", "intermittent", "lumpy")[
                2 * int(interval >= 1.32) + int(variation >= 0.49)
            ]
    return labels


class _Runner:
    def __init__(self, panel: Panel, *, horizon: int, freq: str, config: EngineConfig) -> None:
        self.panel = panel
        self.horizon = horizon
        self.config = config
        self.season = season_length(freq)
        self.builder = FeatureBuilder(
            filled=panel.filled,
            start=panel.start,
            all_dates=panel.dates.append(panel.future_dates),
            season=self.season,
            features=panel.features,
            feature_names=panel.feature_names,
            text=panel.text,
            text_names=panel.text_names,
        )
        methods = [method for method in config.methods if method != "seasonal_naive" or self.season > 1]
        self.methods = tuple(methods)

    def run(self, end: int, methods: Sequence[str] | None = None) -> dict[str, np.ndarray]:
        wanted = tuple(methods if methods is not None else self.methods)
        statistical = tuple(method for method in wanted if method in STATISTICAL_METHODS)
        assert self.config.ets_window is not None
        results = forecast_statistical(
            self.panel.filled,
            self.panel.start,
            end,
            horizon=self.horizon,
            season=self.season,
            methods=statistical,
            ets_window=self.config.ets_window,
        )
        for method in GBM_METHODS:
            if method not in wanted:
                continue
            assert self.config.gbm_max_rows is not None and self.config.gbm_rounds is not None
            results[method] = fit_predict_gbm(
                self.builder,
                self.panel.values,
                end,
                horizon=self.horizon,
                max_rows=self.config.gbm_max_rows,
                rounds=self.config.gbm_rounds,
                learning_rate=self.config.gbm_learning_rate,
                leaves=self.config.gbm_leaves,
                n_jobs=self.config.n_jobs,
                seed=self.config.seed,
                objective=GBM_OBJECTIVES[method],
            )
        return results

    def folds(self) -> list[_Fold]:
        assert self.config.folds is not None
        folds = []
        for index in range(1, self.config.folds + 1):
            end = self.panel.periods - index * self.horizon
            if end < 3:
                break
            actual = self.panel.values[:, end : end + self.horizon].copy()
            actual[self.panel.start >= end] = np.nan
            insample = np.where(
                np.arange(end)[None, :] >= self.panel.start[:, None], self.panel.filled[:, :end], np.nan
            )
            folds.append(
                _Fold(
                    end=end,
                    forecasts=self.run(end),
                    actual=actual,
                    insample=insample,
                    scale=self.builder.scale(end - 1),
                )
            )
        return folds


def _combinations(methods: Sequence[str], size: int) -> list[tuple[str, ...]]:
    return [combo for length in range(1, size + 1) for combo in itertools.combinations(methods, length)]


def _combine(forecasts: dict[str, np.ndarray], combo: Sequence[str] | str) -> np.ndarray:
    methods = combo.split("+") if isinstance(combo, str) else combo
    return np.mean([forecasts[method] for method in methods], axis=0)


def _item_losses(folds: list[_Fold], combo: Sequence[str], horizon: int) -> np.ndarray:
    """Per item: sum over folds of (volume weight x RMSSE), the quantity WRMSSE averages."""
    total = np.zeros(folds[0].actual.shape[0])
    for fold in folds:
        scores = metrics.item_rmsse(fold.actual, _combine(fold.forecasts, combo), fold.insample)
        weights = metrics.wrmsse_weights(fold.insample, horizon)
        total += np.nan_to_num(weights * scores, nan=0.0)
    return total


def select_methods(
    folds: list[_Fold], segments: np.ndarray, methods: Sequence[str], *, horizon: int, max_size: int, min_items: int
) -> dict[str, tuple[str, ...]]:
    """Per segment, the method or equal-weight average of methods with the lowest backtest weighted RMSSE.
    Segments with fewer than ``min_items`` items take the choice made over all items."""
    combos = _combinations(methods, max_size)
    losses = np.vstack([_item_losses(folds, combo, horizon) for combo in combos])
    overall = combos[int(np.argmin(losses.sum(axis=1)))]
    chosen = {}
    for segment in SEGMENTS:
        members = segments == segment
        if members.sum() >= min_items:
            chosen[segment] = combos[int(np.argmin(losses[:, members].sum(axis=1)))]
        else:
            chosen[segment] = overall
    return chosen


def _volume_buckets(scale: np.ndarray) -> np.ndarray:
    if len(scale) < VOLUME_BUCKETS:
        return np.zeros(len(scale), dtype=int)
    edges = np.quantile(np.log1p(scale), np.linspace(0, 1, VOLUME_BUCKETS + 1)[1:-1])
    return np.searchsorted(edges, np.log1p(scale), side="right")


@dataclass
class _Calibration:
    """Quantiles of scaled residuals, ``(actual - forecast) / scale``, per segment and volume bucket."""

    offsets: dict[tuple[str, int], np.ndarray]
    by_segment: dict[str, np.ndarray]
    overall: np.ndarray | None

    def for_items(self, segments: np.ndarray, buckets: np.ndarray) -> np.ndarray | None:
        if self.overall is None:
            return None
        rows = []
        for segment, bucket in zip(segments, buckets, strict=True):
            offset = self.offsets.get((segment, int(bucket)))
            if offset is None:
                offset = self.by_segment.get(segment, self.overall)
            rows.append(offset)
        return np.vstack(rows)


def calibrate(
    residuals: np.ndarray, segments: np.ndarray, buckets: np.ndarray, quantiles: Sequence[float]
) -> _Calibration:
    """``residuals`` is ``(items, n)`` scaled residuals with NaN where unobserved."""
    levels = np.asarray(quantiles)

    def offsets(block: np.ndarray) -> np.ndarray | None:
        values = block[~np.isnan(block)]
        return np.quantile(values, levels) if len(values) >= MIN_GROUP_RESIDUALS else None

    overall_values = residuals[~np.isnan(residuals)]
    overall = np.quantile(overall_values, levels) if len(overall_values) else None
    by_segment, by_group = {}, {}
    for segment in np.unique(segments):
        members = segments == segment
        found = offsets(residuals[members])
        if found is not None:
            by_segment[str(segment)] = found
        for bucket in np.unique(buckets[members]):
            group = offsets(residuals[members & (buckets == bucket)])
            if group is not None:
                by_group[(str(segment), int(bucket))] = group
    return _Calibration(offsets=by_group, by_segment=by_segment, overall=overall)


def _quantile_forecasts(
    point: np.ndarray, scale: np.ndarray, offsets: np.ndarray | None, quantiles: Sequence[float]
) -> np.ndarray:
    """``(len(quantiles), items, horizon)``, non-negative and monotone in the quantile."""
    if offsets is None:
        # No backtest was possible (history shorter than the horizon): Poisson quantiles around the forecast.
        result = np.stack([stats.poisson.ppf(q, np.maximum(point, 1e-9)) for q in quantiles])
    else:
        result = point[None, :, :] + offsets.T[:, :, None] * scale[None, :, None]
    result = np.maximum(np.nan_to_num(result, nan=0.0), 0.0)
    return np.maximum.accumulate(result, axis=0)


def _selected_point(forecasts: dict[str, np.ndarray], combos: np.ndarray) -> np.ndarray:
    point = np.zeros_like(next(iter(forecasts.values())))
    for combo in sorted(set(combos.tolist())):
        members = combos == combo
        point[members] = _combine(forecasts, combo)[members]
    return point


def _fold_errors(folds: list[_Fold], combos: np.ndarray) -> list[np.ndarray]:
    """Per fold, the selected forecast's errors scaled per item, ``(actual - forecast) / scale``."""
    return [(fold.actual - _selected_point(fold.forecasts, combos)) / fold.scale[:, None] for fold in folds]


def _pooled(errors: list[np.ndarray], combos: np.ndarray, skip: int | None = None) -> np.ndarray:
    """The folds' scaled errors side by side (leaving out fold ``skip``), for calibration."""
    blocks = [block for index, block in enumerate(errors) if index != skip]
    return np.concatenate(blocks, axis=1) if blocks else np.full((len(combos), 0), np.nan)


def _metrics_rows(
    folds: list[_Fold],
    point_by_fold: list[np.ndarray],
    quantiles_by_fold: list[np.ndarray] | None,
    quantiles: Sequence[float],
    segments: np.ndarray,
    items: np.ndarray,
    method: str,
    season: int,
) -> list[dict[str, object]]:
    actual = np.concatenate([fold.actual for fold in folds], axis=1)
    point = np.concatenate(point_by_fold, axis=1)
    bands = np.concatenate(quantiles_by_fold, axis=2) if quantiles_by_fold is not None else None

    def score(members: np.ndarray) -> dict[str, float]:
        # WRMSSE, MASE and weights per fold (each fold has its own in-sample), then averaged over folds.
        per_fold = []
        for index, fold in enumerate(folds):
            per_fold.append(
                metrics.summary(
                    fold.actual[members],
                    point_by_fold[index][members],
                    fold.insample[members],
                    season_length=season,
                )
            )
        result = metrics.summary(
            actual[members],
            point[members],
            folds[0].insample[members],
            quantile_forecasts=bands[:, members] if bands is not None else None,
            quantiles=quantiles,
        )
        for name in ("wrmsse", "mase"):
            result[name] = float(metrics._row_nanmean(np.array([[row[name] for row in per_fold]]))[0])
        return result

    rows: list[dict[str, object]] = [
        {"level": "total", "key": "all", "method": method, **score(np.ones(len(segments), bool))}
    ]
    for segment in SEGMENTS:
        members = segments == segment
        if members.any():
            rows.append({"level": "segment", "key": segment, "method": method, **score(members)})
    for index, item in enumerate(items):
        members = np.zeros(len(segments), bool)
        members[index] = True
        rows.append({"level": "item", "key": item, "method": method, **score(members)})
    return rows


def _prepare(
    history: pd.DataFrame,
    *,
    horizon: int,
    freq: str,
    quantiles: Sequence[float],
    features: pd.DataFrame | None,
    text_features: pd.DataFrame | None,
    config: EngineConfig | None,
) -> tuple[Panel, tuple[float, ...], _Runner]:
    if not isinstance(horizon, int | np.integer) or horizon < 1:
        raise InputError(f"horizon must be a whole number of periods of at least 1, got {horizon!r}.")
    levels = check_quantiles(quantiles)
    typed = validate_history(history, freq=freq)
    panel = build_panel(typed, freq=freq, horizon=int(horizon), features=features, text_features=text_features)
    resolved = (config or EngineConfig()).resolve(items=len(panel.items), periods=panel.periods)
    return panel, levels, _Runner(panel, horizon=int(horizon), freq=freq, config=resolved)


def _evaluate(
    runner: _Runner, folds: list[_Fold], levels: tuple[float, ...], item_level: bool
) -> tuple[BacktestResult, dict[str, tuple[str, ...]], np.ndarray, np.ndarray]:
    panel, config = runner.panel, runner.config
    segments = segment_items(panel.filled, panel.start, panel.periods, runner.horizon)
    buckets = _volume_buckets(runner.builder.scale(panel.periods - 1))
    if not folds:
        fallback = FALLBACK_METHOD if set(FALLBACK_METHOD) <= set(runner.methods) else runner.methods[:1]
        chosen: dict[str, tuple[str, ...]] = {segment: fallback for segment in SEGMENTS}
        empty = pd.DataFrame(
            columns=["level", "key", "method", *metrics.summary(np.zeros(1), np.zeros(1), np.zeros(1))]
        )
        return BacktestResult(metrics=empty, folds=0), chosen, segments, buckets
    chosen = select_methods(
        folds,
        segments,
        runner.methods,
        horizon=runner.horizon,
        max_size=config.max_combination_size,
        min_items=config.min_segment_items,
    )
    combos = np.array(["+".join(chosen[segment]) for segment in segments], dtype=object)
    rows: list[dict[str, object]] = []
    items = panel.items if item_level else np.array([], dtype=object)
    for method in runner.methods:
        point = [fold.forecasts[method] for fold in folds]
        rows += _metrics_rows(folds, point, None, levels, segments, items, method, runner.season)
    selected_point = [_selected_point(fold.forecasts, combos) for fold in folds]
    selected_bands = []
    errors = _fold_errors(folds, combos)
    for index, fold in enumerate(folds):
        residuals = _pooled(errors, combos, skip=index if len(folds) > 1 else None)
        offsets = calibrate(residuals, segments, buckets, levels).for_items(segments, buckets)
        selected_bands.append(_quantile_forecasts(selected_point[index], fold.scale, offsets, levels))
    rows += _metrics_rows(folds, selected_point, selected_bands, levels, segments, items, "selected", runner.season)
    frame = pd.DataFrame(rows)
    origins = [panel.dates[fold.end - 1] for fold in folds]
    return BacktestResult(metrics=frame, folds=len(folds), origins=origins), chosen, segments, buckets


def backtest(
    history: pd.DataFrame,
    *,
    horizon: int,
    freq: str,
    folds: int = 2,
    quantiles: Sequence[float] = (0.1, 0.5, 0.9),
    features: pd.DataFrame | None = None,
    text_features: pd.DataFrame | None = None,
    config: EngineConfig | None = None,
) -> BacktestResult:
    """Rolling-origin backtest of every candidate method and of the per-segment selection.

    Windows end at the last period and step back ``horizon`` periods each; metrics are WRMSSE, WAPE,
    MASE, bias, scaled quantile loss and interval coverage, per item, per demand segment and in total.
    """
    base = config or EngineConfig()
    _, levels, runner = _prepare(
        history,
        horizon=horizon,
        freq=freq,
        quantiles=quantiles,
        features=features,
        text_features=text_features,
        config=replace(base, folds=folds),
    )
    result, _, _, _ = _evaluate(runner, runner.folds(), levels, item_level=True)
    return result


def forecast(
    history: pd.DataFrame,
    *,
    horizon: int,
    freq: str,
    quantiles: Sequence[float] = (0.1, 0.5, 0.9),
    features: pd.DataFrame | None = None,
    text_features: pd.DataFrame | None = None,
    config: EngineConfig | None = None,
) -> ForecastResult:
    """Forecast every item ``horizon`` periods past the end of ``history``.

    ``history``: item_id, date, quantity (a period with no row is zero demand), optionally a boolean
    ``out_of_stock`` marking censored periods, which are treated as missing. ``features``: known future
    drivers covering history and horizon. ``text_features``: past-only signals, used lagged.
    The method (or average of methods) per demand segment and the quantile offsets come from a
    rolling-origin backtest on the history itself.
    """
    panel, levels, runner = _prepare(
        history,
        horizon=horizon,
        freq=freq,
        quantiles=quantiles,
        features=features,
        text_features=text_features,
        config=config,
    )
    folds = runner.folds()
    backtest_result, chosen, segments, buckets = _evaluate(runner, folds, levels, item_level=False)
    combos = np.array(["+".join(chosen[segment]) for segment in segments], dtype=object)
    needed = sorted({method for combo in chosen.values() for method in combo})
    final = runner.run(panel.periods, needed)
    point = np.maximum(_selected_point(final, combos), 0.0)
    scale = runner.builder.scale(panel.periods - 1)
    errors = _fold_errors(folds, combos)
    offsets = (
        calibrate(_pooled(errors, combos), segments, buckets, levels).for_items(segments, buckets) if folds else None
    )
    bands = _quantile_forecasts(point, scale, offsets, levels)
    horizon_count = len(panel.future_dates)
    frame = pd.DataFrame(
        {
            "item_id": np.repeat(panel.items, horizon_count),
            "date": np.tile(panel.future_dates.to_numpy(), len(panel.items)),
            "mean": point.reshape(-1),
        }
    )
    for index, level in enumerate(levels):
        frame[quantile_column(level)] = bands[index].reshape(-1)
    methods = pd.DataFrame({"item_id": panel.items, "segment": segments, "method": combos})
    return ForecastResult(
        forecasts=frame,
        methods=methods,
        backtest=backtest_result,
        error_correlation=metrics.persistence_correlation(errors),
    )
