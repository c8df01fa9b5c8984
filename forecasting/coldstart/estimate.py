"""The cold-start estimate in log(1 + units) space, and its blend into a product's own history.

For a product with little or no history, each of its ``neighbours`` most similar references (see
``references`` and ``similarity``) offers log(1 + its units over its first N weeks on sale), adjusted for
price by ``elasticity * (log own price - log reference price)``. The estimate is the weighted median of
these offers, each weighted by similarity ** ``similarity_power`` and by the share of the reference's window
that has been observed. The median, in log space, because the error that matters is on log(1 + units) and
a few best-sellers among the neighbours must not pull a new product's estimate up.

``elasticity`` is fitted on the references themselves (``fit_price_elasticity``): each reference against
its own nearest other references, regressing the difference in log units on the difference in log price.
It is clipped to ``elasticity_bounds``: a mild, data-chosen effect, not an assumed one.

Products can be compared in several ways at once (views: TF-IDF of the text, a language model's vectors).
``coldstart_forecast`` then makes one estimate per view, each from that view's own neighbours and elasticity,
and averages them in log space with the views' weights (``combine_estimates``): a forecast combination, which
``bench/coldstart.py`` measured to do better than mixing the views' similarities into one.

As the product's own sales accumulate, ``blend_with_history`` moves the estimate towards its own run rate
with weight ``observed_weeks / (observed_weeks + prior_weeks)``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeAlias

import numpy as np
import pandas as pd

from forecasting.coldstart.references import DAYS_PER_WEEK, ReferenceUnits, own_history_units, reference_units
from forecasting.coldstart.similarity import Neighbours, nearest

# A function of (row indices, column indices) returning that block of a similarity matrix, and a similarity:
# the square matrix in [0, 1] over the catalogue, or such a function.
SimilarityBlock: TypeAlias = Callable[[np.ndarray, np.ndarray], np.ndarray]
Similarity: TypeAlias = np.ndarray | SimilarityBlock


@dataclass(frozen=True)
class ColdStartConfig:
    """``weeks``: the window estimated (units over the first N weeks on sale); ``neighbours``: similar
    products used; ``similarity_power``: how sharply closer neighbours count more; ``prior_weeks``: weeks
    of own history worth as much as the neighbours' estimate; ``min_history_weeks``: products observed
    for fewer weeks than this get a cold-start estimate in ``coldstart_forecast``; ``max_fit_references``:
    the price elasticity is fitted on at most this many references (a fixed random sample), so that its cost
    stays bounded on large catalogues."""

    weeks: int = 8
    neighbours: int = 10
    similarity_power: float = 2.0
    fit_elasticity: bool = True
    elasticity_bounds: tuple[float, float] = (-1.5, 0.0)
    prior_weeks: float = 2.0
    min_history_weeks: int = 8
    max_fit_references: int = 4000

    def __post_init__(self) -> None:
        if self.weeks < 1 or self.neighbours < 1 or self.min_history_weeks < 0:
            raise ValueError("weeks and neighbours must be at least 1 and min_history_weeks not negative.")
        if self.similarity_power < 0 or self.prior_weeks <= 0:
            raise ValueError("similarity_power must not be negative and prior_weeks must be positive.")


@dataclass(frozen=True)
class ColdStartEstimate:
    """Units over the first ``weeks`` weeks on sale of one product, and the similar products it came from."""

    item_id: str
    log_units: float
    similar_items: tuple[str, ...]
    similarities: tuple[float, ...]
    weeks: int

    @property
    def expected_units(self) -> float:
        return float(np.expm1(self.log_units))


@dataclass(frozen=True)
class BlendedEstimate:
    """A cold-start estimate blended with the product's own sales: ``own_weight`` in [0, 1] is the share of
    the estimate that comes from its own run rate; ``weekly_units`` is the rate a flat forecast should use."""

    item_id: str
    log_units: float
    cold_start: ColdStartEstimate
    observed_weeks: float
    own_weight: float
    weeks: int
    similar_items: tuple[str, ...] = field(default=())

    @property
    def expected_units(self) -> float:
        return float(np.expm1(self.log_units))

    @property
    def weekly_units(self) -> float:
        return self.expected_units / self.weeks


def weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    """The median with weights, interpolated between midpoints (equal weights give ``np.median``)."""
    keep = weights > 0
    values, weights = np.asarray(values, dtype=float)[keep], np.asarray(weights, dtype=float)[keep]
    if values.size == 0:
        raise ValueError("weighted_median needs at least one positive weight.")
    order = np.argsort(values, kind="stable")
    values, weights = values[order], weights[order]
    midpoints = np.cumsum(weights) - weights / 2
    return float(np.interp(weights.sum() / 2, midpoints, values))


def fit_price_elasticity(
    *,
    log_units: np.ndarray,
    log_prices: np.ndarray,
    neighbours: Neighbours,
    coverage: np.ndarray | None = None,
    bounds: tuple[float, float] = (-1.5, 0.0),
    similarity_power: float = 2.0,
) -> float:
    """The slope of log-units differences on log-price differences between each reference and its own
    neighbours among the other references (weighted least squares through the origin), clipped to ``bounds``.
    ``neighbours`` must exclude each reference itself. Zero when prices do not vary among neighbours."""
    rows, columns = np.nonzero(neighbours.indices >= 0)
    if rows.size == 0:
        return 0.0
    others = neighbours.indices[rows, columns]
    weights = neighbours.similarities[rows, columns] ** similarity_power
    if coverage is not None:
        weights = weights * coverage[rows] * coverage[others]
    price_gap = log_prices[rows] - log_prices[others]
    units_gap = log_units[rows] - log_units[others]
    denominator = float(np.sum(weights * price_gap**2))
    if denominator <= 1e-12:
        return 0.0
    slope = float(np.sum(weights * price_gap * units_gap)) / denominator
    return float(np.clip(slope, *bounds))


def coldstart_estimate(
    *,
    item_ids: Sequence[str],
    log_prices: np.ndarray,
    neighbours: Neighbours,
    references: ReferenceUnits,
    reference_log_prices: np.ndarray,
    elasticity: float = 0.0,
    similarity_power: float = 2.0,
) -> list[ColdStartEstimate]:
    """One estimate per query product from its neighbours among ``references`` (see the module docstring).

    A product with no usable neighbour (nothing similar at all) gets the median of all references and
    names no similar products.
    """
    reference_log_units = references.log_units
    fallback = float(np.median(reference_log_units)) if len(references) else 0.0
    estimates = []
    for row, item_id in enumerate(item_ids):
        used = neighbours.indices[row]
        similarities = neighbours.similarities[row]
        keep = (used >= 0) & (similarities > 0)
        used, similarities = used[keep], similarities[keep]
        if used.size == 0:
            estimates.append(ColdStartEstimate(str(item_id), fallback, (), (), references.weeks))
            continue
        offers = reference_log_units[used] + elasticity * (log_prices[row] - reference_log_prices[used])
        weights = similarities**similarity_power * references.coverage[used]
        value = max(0.0, weighted_median(offers, weights))
        estimates.append(
            ColdStartEstimate(
                item_id=str(item_id),
                log_units=value,
                similar_items=tuple(str(item) for item in references.item_ids[used]),
                similarities=tuple(round(float(score), 4) for score in similarities),
                weeks=references.weeks,
            )
        )
    return estimates


def combine_estimates(
    views: Sequence[Sequence[ColdStartEstimate]], weights: Sequence[float]
) -> list[ColdStartEstimate]:
    """One estimate per product from the same products' estimates under several views (in the same order):
    the weighted mean of their log(1 + units), naming the similar products of every view, taken in turn by rank
    (the first view's most similar, the second's, ...) without repeats, each with its similarity in the view
    that named it first."""
    if len(views) != len(weights) or not views:
        raise ValueError("combine_estimates needs one weight per view and at least one view.")
    total = float(sum(weights))
    if total <= 0 or any(weight < 0 for weight in weights):
        raise ValueError(f"view weights must not be negative and must not all be zero, got {list(weights)}.")
    if len(views) == 1:
        return list(views[0])
    combined = []
    for estimates in zip(*views, strict=True):
        if len({estimate.item_id for estimate in estimates}) != 1:
            raise ValueError("combine_estimates needs the views' estimates in the same product order.")
        log_units = (
            sum(weight * estimate.log_units for weight, estimate in zip(weights, estimates, strict=True)) / total
        )
        named: dict[str, float] = {}
        for rank in range(max(len(estimate.similar_items) for estimate in estimates)):
            for estimate, weight in zip(estimates, weights, strict=True):
                if weight > 0 and rank < len(estimate.similar_items):
                    named.setdefault(estimate.similar_items[rank], estimate.similarities[rank])
        first = estimates[0]
        combined.append(
            ColdStartEstimate(first.item_id, float(log_units), tuple(named), tuple(named.values()), first.weeks)
        )
    return combined


def blend_with_history(
    estimate: ColdStartEstimate, *, units_observed: float, observed_days: float, prior_weeks: float = 2.0
) -> BlendedEstimate:
    """Blend a cold-start estimate with the product's own sales so far (``units_observed`` over its first
    ``observed_days`` days on sale, at most the window): its own run rate, scaled to the window, gets weight
    ``observed_weeks / (observed_weeks + prior_weeks)``. No own sales leaves the estimate as it is."""
    window_days = DAYS_PER_WEEK * estimate.weeks
    observed_days = float(min(max(observed_days, 0.0), window_days))
    observed_weeks = observed_days / DAYS_PER_WEEK
    if observed_days <= 0:
        return BlendedEstimate(
            estimate.item_id, estimate.log_units, estimate, 0.0, 0.0, estimate.weeks, estimate.similar_items
        )
    own = float(np.log1p(units_observed * window_days / observed_days))
    own_weight = observed_weeks / (observed_weeks + prior_weeks)
    value = (1 - own_weight) * estimate.log_units + own_weight * own
    return BlendedEstimate(
        estimate.item_id, value, estimate, observed_weeks, own_weight, estimate.weeks, estimate.similar_items
    )


def coldstart_forecast(
    *,
    history: pd.DataFrame,
    item_ids: Sequence[str],
    prices: np.ndarray,
    similarity: Similarity | Sequence[Similarity],
    view_weights: Sequence[float] | None = None,
    config: ColdStartConfig | None = None,
    as_of: pd.Timestamp | None = None,
    targets: Sequence[str] | None = None,
) -> list[BlendedEstimate]:
    """Estimates for the catalogue's products with little or no history; the entry point for the pipeline.

    ``history`` is ``item_id,date,quantity`` (daily) up to ``as_of``; ``item_ids``, ``prices`` and
    ``similarity`` describe the whole catalogue. ``similarity`` is a square matrix in [0, 1] (rows and columns
    in ``item_ids`` order) or a function of (row indices, column indices) returning that block of it, so
    that a large catalogue's full matrix need not be built; or a list of them, one per view, whose estimates
    are averaged in log space with ``view_weights`` (default equal; see ``combine_estimates``).
    ``targets`` (default: every product observed for fewer than ``config.min_history_weeks`` weeks, including
    products never sold) are estimated from the catalogue's other products with at least a week of history.
    Each result names the similar products used (``similar_items``); ``weekly_units`` is the rate to forecast
    with over the next weeks, ``own_weight`` how much of it is the product's own sales.
    """
    config = config or ColdStartConfig()
    views: list[Similarity] = list(similarity) if isinstance(similarity, list | tuple) else [similarity]  # type: ignore[list-item]
    weights = list(view_weights) if view_weights is not None else [1.0] * len(views)
    if len(weights) != len(views):
        raise ValueError(f"view_weights: {len(weights)} weight(s) for {len(views)} similarity view(s).")
    ids = [str(item) for item in item_ids]
    position = {item: index for index, item in enumerate(ids)}
    log_prices = np.log(np.clip(np.asarray(prices, dtype=float), 0.01, None))
    history = history.assign(item_id=history["item_id"].astype(str))
    history = history[history["item_id"].isin(position)]
    references = reference_units(history, weeks=config.weeks, as_of=as_of)
    own = own_history_units(history, weeks=config.weeks, as_of=as_of)
    if len(references) == 0:
        # Every product was first sold less than a week ago: their run rates are all there is to go on.
        references = own
    own_by_item = {item: index for index, item in enumerate(own.item_ids)}
    if targets is None:
        short = own.observed_days < DAYS_PER_WEEK * config.min_history_weeks
        targets = [item for item in ids if item not in own_by_item or bool(short[own_by_item[item]])]
    target_ids = [str(item) for item in targets if str(item) in position]
    if not target_ids:
        return []
    reference_rows = np.array([position[item] for item in references.item_ids], dtype=int)
    target_rows = np.array([position[item] for item in target_ids], dtype=int)
    reference_index = {item: index for index, item in enumerate(references.item_ids)}
    exclude = np.array([reference_index.get(item, -1) for item in target_ids])
    per_view = [
        _estimates_in_view(
            view,
            target_ids=target_ids,
            target_rows=target_rows,
            reference_rows=reference_rows,
            exclude=exclude,
            references=references,
            log_prices=log_prices,
            config=config,
        )
        for view, weight in zip(views, weights, strict=True)
        if weight > 0
    ]
    estimates = combine_estimates(per_view, [weight for weight in weights if weight > 0])
    results = []
    for estimate in estimates:
        index = own_by_item.get(estimate.item_id)
        units_observed = float(own.units_observed[index]) if index is not None else 0.0
        observed_days = float(own.observed_days[index]) if index is not None else 0.0
        results.append(
            blend_with_history(
                estimate, units_observed=units_observed, observed_days=observed_days, prior_weeks=config.prior_weeks
            )
        )
    return results


def _estimates_in_view(
    view: Similarity,
    *,
    target_ids: list[str],
    target_rows: np.ndarray,
    reference_rows: np.ndarray,
    exclude: np.ndarray,
    references: ReferenceUnits,
    log_prices: np.ndarray,
    config: ColdStartConfig,
) -> list[ColdStartEstimate]:
    """The targets' estimates from their neighbours under one similarity, with the price elasticity fitted
    on the references' neighbours under the same similarity."""

    def block(rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
        if callable(view):
            return np.asarray(view(rows, columns))
        return np.asarray(view)[np.ix_(rows, columns)]

    reference_log_prices = log_prices[reference_rows]
    elasticity = 0.0
    if config.fit_elasticity and len(references) > 2:
        sample = np.arange(len(references))
        if sample.size > config.max_fit_references:
            sample = np.sort(np.random.default_rng(0).choice(sample, config.max_fit_references, replace=False))
        among = block(reference_rows[sample], reference_rows[sample])
        ref_neighbours = nearest(among, k=config.neighbours, exclude=np.arange(sample.size))
        elasticity = fit_price_elasticity(
            log_units=references.log_units[sample],
            log_prices=reference_log_prices[sample],
            neighbours=ref_neighbours,
            coverage=references.coverage[sample],
            bounds=config.elasticity_bounds,
            similarity_power=config.similarity_power,
        )
    neighbours = nearest(block(target_rows, reference_rows), k=config.neighbours, exclude=exclude)
    return coldstart_estimate(
        item_ids=target_ids,
        log_prices=log_prices[target_rows],
        neighbours=neighbours,
        references=references,
        reference_log_prices=reference_log_prices,
        elasticity=elasticity,
        similarity_power=config.similarity_power,
    )
