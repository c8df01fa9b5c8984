"""The learned signal: a scikit-learn head from a text's LM representation and scores to the demand
change of its product that followed it, trained on the merchant's own history.

The target for a text dated in period t is ``log1p(mean demand over t+1..t+ahead) -
log1p(mean demand over t-past+1..t)``: what the texts mean for demand is learned from data, not
assumed from their words. Periods are those of a regular grid at the history's frequency (given, or read
from its dates), so a day with no sales is a day of zero demand, not a missing day; ``ahead`` and ``past``
default to a week and four weeks in those periods (at least one). Predictions for texts the head was
trained on are made out of fold (contiguous time blocks), so that a forecaster trained on them sees honest
values.

The latest texts, whose ``ahead`` periods are not all in the history yet, have partial targets over the
periods that are (``partial_demand_change_targets``). They correct the head's predictions for the texts
most like them of other products: customers' newest wording is learned from as soon as its first
consequences show in other products' demand, instead of only ``ahead`` periods later.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import KFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

AHEAD_DAYS = 7
PAST_DAYS = 28
MIN_TRAINING_TEXTS = 30
MIN_AHEAD = 1
NEIGHBOURS = 8
NEIGHBOUR_SHRINK = 0.5
FOLDS = 5
ALPHAS = np.logspace(-1, 5, 13)


@dataclass(frozen=True)
class HeadFit:
    """Predictions per text (out of fold where the text was trained on), the number of training texts,
    and the out-of-fold R² (how much of the demand change the texts explain; near 0 means nothing)."""

    predictions: np.ndarray
    trained_on: int
    out_of_fold_r2: float
    pipeline: Pipeline | None


def infer_freq(dates: pd.Series | pd.DatetimeIndex) -> str:
    """The pandas offset alias the (normalised, distinct) ``dates`` follow, allowing for missing periods: ``MS``
    or ``ME`` when every date starts or ends its own month, ``W-<day>`` when every gap is whole weeks, else ``D``
    (a day with no row is then a day without demand)."""
    unique = pd.DatetimeIndex(pd.to_datetime(pd.Series(dates)).dt.normalize().unique()).sort_values()
    if len(unique) < 2:
        return "D"
    if unique.to_period("M").is_unique and (unique.day == 1).all():
        return "MS"
    if unique.to_period("M").is_unique and unique.is_month_end.all():
        return "ME"
    if (np.diff(unique.asi8) % pd.Timedelta(weeks=1).value == 0).all():
        return f"W-{unique[0].day_name()[:3].upper()}"
    return "D"


def history_grid(dates: pd.Series | pd.DatetimeIndex, freq: str | None = None) -> pd.DatetimeIndex:
    """Every period from the first to the last of ``dates`` at ``freq`` (default: ``infer_freq``), as the
    forecasting engine lays out its panel."""
    normalised = pd.to_datetime(pd.Series(dates)).dt.normalize()
    if normalised.empty:
        return pd.DatetimeIndex([])
    return pd.date_range(normalised.min(), normalised.max(), freq=freq or infer_freq(normalised))


def periods_in(days: int, grid: pd.DatetimeIndex) -> int:
    """``days`` as a whole number of ``grid`` periods (their median length), at least one."""
    if len(grid) < 2:
        return max(1, days)
    period = float(np.median(np.diff(grid.asi8))) / pd.Timedelta(days=1).value
    return max(1, round(days / period))


def demand_panel(history: pd.DataFrame, freq: str | None = None) -> tuple[pd.DataFrame, pd.DatetimeIndex]:
    """Demand as items x periods on ``history_grid`` (a period with no row is zero demand; rows falling inside a
    period, say daily rows on a weekly grid, are summed into it)."""
    data = history.assign(item_id=history["item_id"].astype(str), date=pd.to_datetime(history["date"]).dt.normalize())
    grid = history_grid(data["date"], freq)
    data["period"] = grid[np.maximum(grid_positions(data["date"], grid), 0)] if len(grid) else data["date"]
    panel = data.pivot_table(index="item_id", columns="period", values="quantity", aggfunc="sum").reindex(
        columns=grid, fill_value=0.0
    )
    return panel.fillna(0.0).astype(float), grid


# Offsets whose dates are the last day of their period (ME, QE, YE and their business-day forms): a date belongs
# to the first period ending on or after it. Every other grid (days, weeks, MS, QS, YS) dates a period by its first
# day: a weekly date is the first day of its week (a W-MON row is the week from that Monday, as the README says).
END_LABELLED = (
    pd.offsets.MonthEnd,
    pd.offsets.QuarterEnd,
    pd.offsets.YearEnd,
    pd.offsets.BusinessMonthEnd,
    pd.offsets.BQuarterEnd,
    pd.offsets.BYearEnd,
    pd.offsets.SemiMonthEnd,
)


def grid_positions(dates: pd.Series, grid: pd.DatetimeIndex) -> np.ndarray:
    """The index of the grid period each date falls in; -1 before the grid, the last period after it.

    A grid dated by its periods' first days (``history_grid`` at D, W-*, MS, ...): the last period starting on or
    before the date. Dated by their last days (ME, QE, YE: ``END_LABELLED``): the first period ending on or after
    it, so a text of 15 March counts in the period dated 31 March, never in February's (which would show it to
    the forecaster a period before it was written)."""
    labels = grid.to_numpy()
    values = pd.to_datetime(dates).to_numpy()
    if not isinstance(grid.freq, END_LABELLED) or not len(grid):
        return np.searchsorted(labels, values, side="right") - 1
    positions = np.minimum(np.searchsorted(labels, values, side="left"), len(grid) - 1)
    opens = (grid[0] - grid.freq).to_datetime64()  # the day before the first period's first day
    return np.where(values > opens, positions, -1)


def demand_change_targets(
    history: pd.DataFrame,
    item_ids: pd.Series,
    dates: pd.Series,
    *,
    ahead: int | None = None,
    past: int | None = None,
    freq: str | None = None,
) -> np.ndarray:
    """Per text, the log demand change of its item after its date; NaN where the future is not in the
    history yet, the item has no history, or the date falls before it."""
    panel, grid = demand_panel(history, freq)
    ahead, past = _windows(grid, ahead, past)
    targets, _ = _change_targets(panel, grid, item_ids, dates, ahead=ahead, past=past, min_ahead=ahead)
    return targets


def partial_demand_change_targets(
    history: pd.DataFrame,
    item_ids: pd.Series,
    dates: pd.Series,
    *,
    ahead: int | None = None,
    past: int | None = None,
    min_ahead: int = MIN_AHEAD,
    freq: str | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """``(targets, observed)``: the demand change as in ``demand_change_targets``, but for the texts of the
    last ``ahead`` periods taken over the periods after them that the history already holds (at least
    ``min_ahead``); ``observed`` is how many periods each target covers (0 where it is NaN)."""
    panel, grid = demand_panel(history, freq)
    ahead, past = _windows(grid, ahead, past)
    return _change_targets(panel, grid, item_ids, dates, ahead=ahead, past=past, min_ahead=min_ahead)


def _windows(grid: pd.DatetimeIndex, ahead: int | None, past: int | None) -> tuple[int, int]:
    """``ahead`` and ``past`` in periods, a week and four weeks of ``grid`` where not given."""
    return (
        periods_in(AHEAD_DAYS, grid) if ahead is None else ahead,
        periods_in(PAST_DAYS, grid) if past is None else past,
    )


def _change_targets(
    panel: pd.DataFrame,
    grid: pd.DatetimeIndex,
    item_ids: pd.Series,
    dates: pd.Series,
    *,
    ahead: int,
    past: int,
    min_ahead: int,
) -> tuple[np.ndarray, np.ndarray]:
    """``partial_demand_change_targets`` on a ``demand_panel`` already built."""
    values = panel.to_numpy()
    cumulative = np.concatenate([np.zeros((len(values), 1)), values.cumsum(axis=1)], axis=1)
    rows = panel.index.get_indexer(item_ids.astype(str))
    positions = grid_positions(dates, grid)
    targets = np.full(len(rows), np.nan)
    observed = np.zeros(len(rows), dtype=np.int64)
    for index, (row, position) in enumerate(zip(rows, positions, strict=True)):
        periods = min(ahead, len(grid) - 1 - position)
        if row < 0 or position < 0 or periods < max(1, min_ahead):
            continue
        low = max(0, position - past + 1)
        before = (cumulative[row, position + 1] - cumulative[row, low]) / (position + 1 - low)
        after = (cumulative[row, position + 1 + periods] - cumulative[row, position + 1]) / periods
        targets[index] = np.log1p(after) - np.log1p(before)
        observed[index] = periods
    return targets, observed


def head_features(embeddings: np.ndarray, scores: np.ndarray) -> np.ndarray:
    return np.hstack([embeddings.astype(np.float64), scores.astype(np.float64)])


def _pipeline() -> Pipeline:
    return make_pipeline(StandardScaler(), RidgeCV(alphas=ALPHAS))


def fit_demand_head(
    features: np.ndarray,
    targets: np.ndarray,
    order: np.ndarray,
    *,
    observed: np.ndarray | None = None,
    groups: np.ndarray | None = None,
    ahead: int = AHEAD_DAYS,
) -> HeadFit:
    """Fit the head on the texts with a target; predict every text (out of fold for the trained ones).

    ``order`` sorts texts by time so that folds are contiguous periods. With fewer than
    ``MIN_TRAINING_TEXTS`` texts there is nothing to learn from and every prediction is 0.

    ``observed`` (periods each target covers, from ``partial_demand_change_targets``) marks targets that cover
    fewer than ``ahead`` periods as partial: the latest texts, whose future is only partly known. The head is
    fitted on full targets only; then every text without one is corrected by ``_neighbour_correction``: by how
    far the partial outcomes of the most similar latest texts of *other* ``groups`` (products) are from the
    head's predictions for them. New wording is learned from as soon as its first consequences show, and a
    text's own partial outcome never enters its prediction.
    """
    finite = np.isfinite(targets)
    covered = np.full(len(targets), ahead) if observed is None else np.asarray(observed)
    partial = finite & (covered < ahead)
    known = np.flatnonzero(finite & ~partial)
    predictions = np.zeros(len(targets))
    if len(known) < MIN_TRAINING_TEXTS:
        return HeadFit(predictions=predictions, trained_on=len(known), out_of_fold_r2=float("nan"), pipeline=None)
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    known = known[np.argsort(rank[known], kind="stable")]
    out_of_fold = np.zeros(len(known))
    for train, test in KFold(n_splits=FOLDS, shuffle=False).split(known):
        model = _pipeline().fit(features[known[train]], targets[known[train]])
        out_of_fold[test] = model.predict(features[known[test]])
    pipeline = _pipeline().fit(features[known], targets[known])
    predictions = pipeline.predict(features)
    predictions[known] = out_of_fold
    if partial.any():
        owners = np.zeros(len(targets), dtype=object) if groups is None else np.asarray(groups, dtype=object)
        predictions = _neighbour_correction(
            features,
            predictions,
            residuals=np.where(partial, targets - predictions, 0.0),
            weights=np.where(partial, covered / ahead, 0.0),
            owners=owners,
            pending=np.flatnonzero(~finite | partial),
        )
    residual = np.sum((targets[known] - out_of_fold) ** 2)
    spread = np.sum((targets[known] - targets[known].mean()) ** 2)
    r2 = 1.0 - residual / spread if spread > 0 else float("nan")
    return HeadFit(predictions=predictions, trained_on=len(known), out_of_fold_r2=float(r2), pipeline=pipeline)


def fit_head_on_history(
    features: np.ndarray,
    history: pd.DataFrame,
    item_ids: pd.Series,
    dates: pd.Series,
    *,
    usable: np.ndarray | None = None,
    ahead: int | None = None,
    past: int | None = None,
    freq: str | None = None,
) -> HeadFit:
    """The head for texts about ``item_ids`` written on ``dates``, trained on the demand that followed them in
    ``history``: targets from ``partial_demand_change_targets`` (partial for the latest texts), folds in date
    order, and the texts' products as the groups whose own partial outcomes never enter their predictions.
    Texts where ``usable`` is False are left out of training. ``freq``: the history's periods (default: read
    from its dates); ``ahead`` and ``past`` are in those periods (default: a week and four weeks)."""
    panel, grid = demand_panel(history, freq)
    ahead, past = _windows(grid, ahead, past)
    targets, observed = _change_targets(panel, grid, item_ids, dates, ahead=ahead, past=past, min_ahead=MIN_AHEAD)
    if usable is not None:
        targets[~usable] = np.nan
    return fit_demand_head(
        features,
        targets,
        np.argsort(pd.to_datetime(dates).to_numpy(), kind="stable"),
        observed=observed,
        groups=item_ids.astype(str).to_numpy(),
        ahead=ahead,
    )


def _neighbour_correction(
    features: np.ndarray,
    predictions: np.ndarray,
    *,
    residuals: np.ndarray,
    weights: np.ndarray,
    owners: np.ndarray,
    pending: np.ndarray,
) -> np.ndarray:
    """Add to each ``pending`` prediction the weighted mean residual of its ``NEIGHBOURS`` most similar texts
    (cosine similarity of standardised features) among those with a positive weight and another owner,
    shrunk toward zero by ``NEIGHBOUR_SHRINK`` (a few weak neighbours move it little)."""
    scaled = (features - features.mean(axis=0)) / np.maximum(features.std(axis=0), 1e-12)
    unit = scaled / np.maximum(np.linalg.norm(scaled, axis=1, keepdims=True), 1e-12)
    sources = np.flatnonzero(weights > 0)
    corrected = predictions.copy()
    for row in pending:
        candidates = sources[owners[sources] != owners[row]]
        if not len(candidates):
            continue
        similarity = unit[candidates] @ unit[row]
        nearest = np.argsort(-similarity, kind="stable")[:NEIGHBOURS]
        weight = np.maximum(similarity[nearest], 0.0) * weights[candidates[nearest]]
        if weight.sum() > 0:
            corrected[row] += float(weight @ residuals[candidates[nearest]]) / (weight.sum() + NEIGHBOUR_SHRINK)
    return corrected
