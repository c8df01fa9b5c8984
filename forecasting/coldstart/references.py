"""Each product's units over its own first N weeks on sale, age-aligned, from a daily history.

A product's window starts on its first sale (a day with units above zero) and lasts ``7 * weeks`` days,
so that a product launched in March and one launched in September are compared over the same age.
A product observed for less than the whole window (its first sale is recent) has its units scaled up to
the window by its run rate and is down-weighted by the share of the window seen (``coverage``); one seen
for less than ``min_observed_days`` is left out, since a few days say too little about a run rate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

DAYS_PER_WEEK = 7


@dataclass(frozen=True)
class ReferenceUnits:
    """Per product, in the same order: ``units`` over the first ``weeks`` weeks on sale (scaled up when
    observed for less), ``log_units`` = log(1 + units), ``coverage`` = share of the window observed (0, 1],
    ``observed_days`` since the first sale (inclusive) and ``units_observed`` (what was sold in the window)."""

    item_ids: np.ndarray
    first_sale: np.ndarray
    observed_days: np.ndarray
    units_observed: np.ndarray
    units: np.ndarray
    coverage: np.ndarray
    weeks: int

    @property
    def log_units(self) -> np.ndarray:
        return np.log1p(self.units)

    def __len__(self) -> int:
        return len(self.item_ids)

    def subset(self, mask: np.ndarray) -> ReferenceUnits:
        return ReferenceUnits(
            item_ids=self.item_ids[mask],
            first_sale=self.first_sale[mask],
            observed_days=self.observed_days[mask],
            units_observed=self.units_observed[mask],
            units=self.units[mask],
            coverage=self.coverage[mask],
            weeks=self.weeks,
        )

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "item_id": self.item_ids,
                "first_sale": self.first_sale,
                "observed_days": self.observed_days,
                "units_observed": self.units_observed,
                "units": self.units,
                "coverage": self.coverage,
            }
        )


def reference_units(
    history: pd.DataFrame,
    *,
    weeks: int,
    as_of: pd.Timestamp | None = None,
    min_observed_days: int = DAYS_PER_WEEK,
) -> ReferenceUnits:
    """Units over each product's first ``weeks`` weeks on sale, from an ``item_id,date,quantity`` frame.

    ``as_of`` is the last day the history covers (default: its last date); sales after it are ignored.
    Products with no positive sale, or observed for fewer than ``min_observed_days`` days, are left out.
    """
    if weeks < 1:
        raise ValueError(f"weeks must be at least 1, got {weeks}.")
    frame = history.loc[history["quantity"] > 0, ["item_id", "date", "quantity"]]
    window_days = DAYS_PER_WEEK * weeks
    if frame.empty:
        empty = np.array([], dtype=float)
        return ReferenceUnits(
            item_ids=np.array([], dtype=object),
            first_sale=np.array([], dtype="datetime64[ns]"),
            observed_days=empty,
            units_observed=empty,
            units=empty,
            coverage=empty,
            weeks=weeks,
        )
    dates = pd.to_datetime(frame["date"]).dt.normalize()
    end = pd.Timestamp(as_of).normalize() if as_of is not None else dates.max()
    keep = dates <= end
    frame, dates = frame.loc[keep], dates.loc[keep]
    item_ids = frame["item_id"].astype(str)
    first = dates.groupby(item_ids).transform("min")
    age_days = (dates - first).dt.days
    in_window = age_days < window_days
    units_observed = frame["quantity"].where(in_window, 0.0).astype(float).groupby(item_ids).sum()
    first_sale = dates.groupby(item_ids).min().reindex(units_observed.index)
    observed_days = ((end - first_sale).dt.days + 1).astype(float)
    enough = observed_days >= min(min_observed_days, window_days)
    units_observed, first_sale, observed_days = units_observed[enough], first_sale[enough], observed_days[enough]
    coverage = np.minimum(1.0, observed_days.to_numpy() / window_days)
    units = units_observed.to_numpy() / coverage
    return ReferenceUnits(
        item_ids=units_observed.index.to_numpy(dtype=object),
        first_sale=first_sale.to_numpy(),
        observed_days=observed_days.to_numpy(),
        units_observed=units_observed.to_numpy(),
        units=units,
        coverage=coverage,
        weeks=weeks,
    )


def own_history_units(history: pd.DataFrame, *, weeks: int, as_of: pd.Timestamp | None = None) -> ReferenceUnits:
    """Like ``reference_units`` but keeping products seen for even one day: the evidence a new product's
    own sales give, which ``blend_with_history`` weighs by ``coverage`` against the similar products."""
    return reference_units(history, weeks=weeks, as_of=as_of, min_observed_days=1)
