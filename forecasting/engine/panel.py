"""The dense panel every method works on: one row per item, one column per period.

``values`` holds observed demand, with ``NaN`` before an item's first period and in out-of-stock
(censored) periods. ``filled`` is the same with censored periods imputed from the item's recent
observed demand, so that methods needing a complete series never learn a false zero.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecasting.engine.errors import InputError
from forecasting.engine.history import parse_freq

CENSOR_WINDOW = 8
TRUE_TEXT = {"1", "true", "t", "yes", "y"}
FALSE_TEXT = {"0", "false", "f", "no", "n", ""}


@dataclass
class Panel:
    items: np.ndarray
    dates: pd.DatetimeIndex
    future_dates: pd.DatetimeIndex
    values: np.ndarray
    filled: np.ndarray
    start: np.ndarray
    features: np.ndarray | None = None
    feature_names: tuple[str, ...] = ()
    text: np.ndarray | None = None
    text_names: tuple[str, ...] = ()

    @property
    def periods(self) -> int:
        return len(self.dates)


def _out_of_stock_flags(column: pd.Series) -> np.ndarray:
    if column.dtype == bool:
        return column.to_numpy()
    if pd.api.types.is_numeric_dtype(column):
        return column.fillna(0).to_numpy(dtype=float) != 0
    text = column.astype(str).str.strip().str.lower()
    unknown = ~text.isin(TRUE_TEXT | FALSE_TEXT)
    if unknown.any():
        position = int(np.flatnonzero(unknown.to_numpy())[0])
        raise InputError(f"history row {position + 2}: out_of_stock {column.iloc[position]!r} is not true or false.")
    return text.isin(TRUE_TEXT).to_numpy()


def impute_censored(values: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Replace censored periods (NaN after an item's start) by the mean of up to ``CENSOR_WINDOW`` observed
    periods before them, or after them when none come before; zero when the item was never observed."""
    frame = pd.DataFrame(values.T)
    trailing = frame.rolling(CENSOR_WINDOW, min_periods=1).mean().shift(1).ffill()
    leading = frame[::-1].rolling(CENSOR_WINDOW, min_periods=1).mean()[::-1].bfill()
    estimate = trailing.fillna(leading).fillna(0.0).to_numpy().T
    started = np.arange(values.shape[1])[None, :] >= start[:, None]
    return np.where(np.isnan(values) & started, estimate, values)


def _frame_to_cube(
    frame: pd.DataFrame, items: np.ndarray, dates: pd.DatetimeIndex, *, label: str
) -> tuple[np.ndarray, tuple[str, ...]]:
    if not {"item_id", "date"} <= set(frame.columns):
        raise InputError(f"{label}: missing column(s) item_id or date; expected item_id,date,<numeric columns>.")
    names = tuple(str(column) for column in frame.columns if column not in ("item_id", "date"))
    if not names:
        raise InputError(f"{label}: no numeric columns besides item_id and date.")
    data = frame.assign(item_id=frame["item_id"].astype(str), date=pd.to_datetime(frame["date"]))
    if data.duplicated(["item_id", "date"]).any():
        row = data[data.duplicated(["item_id", "date"])].iloc[0]
        raise InputError(f"{label}: duplicate row for item_id {row['item_id']} on {row['date'].date()}.")
    for name in names:
        if not pd.api.types.is_numeric_dtype(data[name]):
            converted = pd.to_numeric(data[name], errors="coerce")
            if converted.isna().any() and not data[name].isna().any():
                raise InputError(f"{label}: column {name} is not numeric.")
            data[name] = converted
    grid = pd.MultiIndex.from_product([items, dates], names=["item_id", "date"])
    cube = data.set_index(["item_id", "date"])[list(names)].astype(float).reindex(grid).to_numpy()
    return cube.reshape(len(items), len(dates), len(names)), names


def build_panel(
    history: pd.DataFrame,
    *,
    freq: str,
    horizon: int,
    features: pd.DataFrame | None = None,
    text_features: pd.DataFrame | None = None,
) -> Panel:
    """Validated ``item_id,date,quantity[,out_of_stock]`` history into a ``Panel`` on one date grid.

    Every item runs from its first row to the last date of the whole history (missing periods are
    zero demand). ``features`` must cover every item over the horizon; ``text_features`` only history.
    """
    offset = parse_freq(freq)
    items = np.array(sorted(history["item_id"].astype(str).unique()), dtype=object)
    dates = pd.date_range(history["date"].min(), history["date"].max(), freq=offset)
    future_dates = pd.date_range(dates[-1] + offset, periods=horizon, freq=offset)
    item_index = pd.Index(items).get_indexer(history["item_id"].astype(str))
    date_index = dates.get_indexer(pd.DatetimeIndex(history["date"]))
    values = np.full((len(items), len(dates)), np.nan)
    values[item_index, date_index] = history["quantity"].to_numpy(dtype=float)
    start = np.full(len(items), len(dates), dtype=np.int64)
    np.minimum.at(start, item_index, date_index)
    started = np.arange(len(dates))[None, :] >= start[:, None]
    values = np.where(started & np.isnan(values), 0.0, values)
    if "out_of_stock" in history.columns:
        censored = _out_of_stock_flags(history["out_of_stock"])
        values[item_index[censored], date_index[censored]] = np.nan
    filled = impute_censored(values, start)
    panel = Panel(items=items, dates=dates, future_dates=future_dates, values=values, filled=filled, start=start)
    if features is not None:
        all_dates = dates.append(future_dates)
        cube, names = _frame_to_cube(features, items, all_dates, label="features")
        future = cube[:, len(dates) :, :]
        missing = np.isnan(future).any(axis=2)
        if missing.any():
            item, step = np.argwhere(missing)[0]
            raise InputError(
                f"features: no value for item_id {items[item]} on {future_dates[step].date()}; "
                f"features must cover the {horizon}-period horizon."
            )
        panel.features, panel.feature_names = cube, names
    if text_features is not None:
        cube, names = _frame_to_cube(text_features, items, dates, label="text_features")
        panel.text, panel.text_names = cube, names
    return panel
