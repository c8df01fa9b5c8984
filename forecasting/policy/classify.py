"""ABC/XYZ classification and the service floors attached to the classes. Pure pandas; no Django.

ABC ranks items by value (mean demand per period × unit cost): the items that make up the first ``a_share`` of
the total value are A, the next ones up to ``b_share`` are B, the rest C. An item is A when the share of value
before it is below ``a_share``, so the top item is always A. XYZ grades variability by the coefficient of
variation of demand per period: below ``x_cv`` X, below ``y_cv`` Y, else Z (no demand at all is Z).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecasting.engine.errors import InputError


@dataclass(frozen=True)
class ClassThresholds:
    a_share: float = 0.8
    b_share: float = 0.95
    x_cv: float = 0.5
    y_cv: float = 1.0


def abc_xyz(
    demand: pd.DataFrame, unit_cost: Mapping[str, float] | pd.Series, *, thresholds: ClassThresholds | None = None
) -> pd.DataFrame:
    """``item_id,value,cv,abc,xyz,abc_xyz`` for a dense ``item_id,date,quantity`` frame, sorted by item_id."""
    limits = thresholds or ClassThresholds()
    grouped = demand.groupby("item_id", sort=True)["quantity"]
    mean = grouped.mean()
    spread = grouped.std(ddof=0)
    costs = pd.Series(unit_cost, dtype=float).reindex(mean.index)
    if costs.isna().any():
        raise InputError(f"abc_xyz: no unit cost for item_id {costs.index[costs.isna()][0]}.")
    value = mean * costs
    cv = (spread / mean.where(mean > 0)).fillna(np.inf)
    ranked = value.sort_values(ascending=False, kind="stable")
    total = float(ranked.sum())
    before = (ranked.cumsum() - ranked) / total if total > 0 else pd.Series(0.0, index=ranked.index)
    abc = pd.Series(
        np.where(before < limits.a_share, "A", np.where(before < limits.b_share, "B", "C")), index=ranked.index
    )
    if total <= 0:
        abc[:] = "C"
    abc = abc.reindex(mean.index)
    xyz = pd.Series(np.where(cv < limits.x_cv, "X", np.where(cv < limits.y_cv, "Y", "Z")), index=mean.index)
    return pd.DataFrame(
        {
            "item_id": mean.index.to_numpy(),
            "value": value.to_numpy(),
            "cv": cv.to_numpy(),
            "abc": abc.to_numpy(),
            "xyz": xyz.to_numpy(),
            "abc_xyz": (abc + xyz).to_numpy(),
        }
    )


def service_floors(classes: pd.Series, floors: Mapping[str, float]) -> np.ndarray:
    """The fill-rate floor of each class label (``AX``...): the highest floor among the keys that match it.

    Keys may be a full class (``AX``), an ABC letter (``A``) or an XYZ letter (``X``); no match means no floor.
    """
    for key, floor in floors.items():
        _check_class_key(key, what="service floor")
        if not 0.0 <= floor < 1.0:
            raise InputError(f"service floor for {key} must be at least 0 and below 1, got {floor}.")
    result = np.zeros(len(classes))
    for index, label in enumerate(classes.astype(str)):
        matching = [floors[key] for key in (label, label[:1], label[1:]) if key in floors]
        result[index] = max(matching, default=0.0)
    return result


COST_KINDS = ("holding_cost", "shortage_cost", "order_cost")


def _check_class_key(key: str, *, what: str) -> None:
    if not (key in {"A", "B", "C", "X", "Y", "Z"} or (len(key) == 2 and key[0] in "ABC" and key[1] in "XYZ")):
        raise InputError(f"{what} class {key!r} is not one of A, B, C, X, Y, Z or a pair such as AX.")


def check_cost_factors(factors: Mapping[str, Mapping[str, float]]) -> None:
    """``factors`` maps a class key (as for service floors) to ``{kind: multiplier}`` with kinds from
    ``COST_KINDS`` and multipliers of at least 0; an InputError names the first that is not."""
    for key, kinds in factors.items():
        _check_class_key(key, what="cost")
        for kind, factor in kinds.items():
            if kind not in COST_KINDS:
                raise InputError(f"cost factor {kind!r} for class {key} is not one of {', '.join(COST_KINDS)}.")
            if not (np.isfinite(factor) and factor >= 0):
                raise InputError(f"cost factor {kind} for class {key} must be a number of at least 0, got {factor}.")


def apply_cost_factors(
    costs: pd.DataFrame,
    classes: pd.Series,
    factors: Mapping[str, Mapping[str, float]],
    own: Mapping[str, Collection[str]],
) -> pd.DataFrame:
    """``costs`` (``item_id`` and the ``COST_KINDS`` columns) with each item's costs times its class's multipliers
    (``classes``: the class label of each row): the most specific key that sets a kind wins (the pair ``AX``, then
    ``A``, then ``X``), no match is 1, and the kinds an item sets itself (``own``: item_id -> kinds) stay as they
    are. ``factors`` are checked first (``check_cost_factors``)."""
    check_cost_factors(factors)
    result = costs.copy()
    labels, items = classes.astype(str).tolist(), costs["item_id"].tolist()
    for kind in COST_KINDS:
        factor = [
            next((factors[k][kind] for k in (label, label[:1], label[1:]) if kind in factors.get(k, {})), 1.0)
            for label in labels
        ]
        kept = np.array([kind in own.get(item, ()) for item in items], dtype=bool)
        values = costs[kind].to_numpy(dtype=float)
        result[kind] = np.where(kept, values, values * np.asarray(factor, dtype=float))
    return result
