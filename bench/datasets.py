"""Real retail data sets for the forecasting and policy benchmarks, as train/test splits.

Every loader returns a ``Split``: long frames ``item_id,date,quantity`` (dense: every period of every
series has a row, zero when nothing sold), the pandas frequency, the horizon, and for data with
known-in-advance drivers a ``features`` frame ``item_id,date,<drivers>`` covering train and test periods.
The test frame holds the last ``horizon`` periods of every series; train holds everything before.

Data lives in /work/shared/data (override with STOCKPILOT_DATA); parsed frames are cached as pickles in
/tmp/stockpilot_bench_cache (override with STOCKPILOT_BENCH_CACHE). These data sets are for evaluation
only (see the READMEs: dunnhumby and carparts must not ship in the product).

    from bench.datasets import load_carparts
    split = load_carparts()
    split.train, split.test, split.freq, split.horizon, split.features
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

DATA_DIR = Path(os.environ.get("STOCKPILOT_DATA", "/work/shared/data"))
CACHE_DIR = Path(os.environ.get("STOCKPILOT_BENCH_CACHE", "/tmp/stockpilot_bench_cache"))
CACHE_VERSION = 1

BREAKFAST_DRIVERS = ["price", "base_price", "feature", "display", "tpr_only"]
UCI_TOP_SKUS = 500
UCI_FIRST_SOLD_BY = pd.Timestamp("2011-03-01")
UCI_LAST_FULL_DAY = pd.Timestamp("2011-11-30")  # December 2011 stops on the 9th: dropped as partial.
UCI_FIRST_FULL_WEEK_END = pd.Timestamp("2010-12-08")  # W-WED weeks; the week ending 2010-12-01 has one day.


@dataclass(frozen=True)
class Split:
    """A forecasting benchmark: fit on ``train``, forecast ``horizon`` periods, score on ``test``."""

    name: str
    train: pd.DataFrame
    test: pd.DataFrame
    freq: str
    horizon: int
    features: pd.DataFrame | None = None

    @property
    def history(self) -> pd.DataFrame:
        """Train and test together, sorted by item and date."""
        frame = pd.concat([self.train, self.test], ignore_index=True)
        return frame.sort_values(["item_id", "date"], kind="stable").reset_index(drop=True)


def _cached(key: str, build: Callable[[], object]) -> object:
    path = CACHE_DIR / f"{key}-v{CACHE_VERSION}.pkl"
    if path.exists():
        with path.open("rb") as handle:
            return pickle.load(handle)
    value = build()
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(f".tmp{os.getpid()}")
    with temporary.open("wb") as handle:
        pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
    temporary.replace(path)
    return value


def split_last_window(
    frame: pd.DataFrame,
    *,
    name: str,
    freq: str,
    horizon: int,
    features: pd.DataFrame | None = None,
) -> Split:
    """Hold out the last ``horizon`` dates of a dense long frame (all series end on the same date)."""
    frame = frame.sort_values(["item_id", "date"], kind="stable").reset_index(drop=True)
    dates = np.sort(frame["date"].unique())
    cutoff = dates[-horizon]
    train = frame[frame["date"] < cutoff].reset_index(drop=True)
    test = frame[frame["date"] >= cutoff].reset_index(drop=True)
    return Split(name=name, train=train, test=test, freq=freq, horizon=horizon, features=features)


def earlier_window(split: Split, back: int) -> Split:
    """The same data with the held-out window ``back`` periods earlier: train on the dates before it, test on its
    ``horizon`` dates (the later dates are dropped), for checking a method on windows it was not built on.
    ``back`` 0 is the split itself."""
    if back <= 0:
        return split
    dates = np.sort(split.train["date"].unique())
    if back > len(dates) - 1:
        raise ValueError(f"{split.name}: cannot go back {back} periods; the training window has {len(dates)}.")
    held_out = dates[len(dates) - back : len(dates) - back + split.horizon]
    features = split.features
    if features is not None:
        features = features[features["date"] <= held_out[-1]].reset_index(drop=True)
    moved = split_last_window(
        split.train[split.train["date"] <= held_out[-1]],
        name=split.name,
        freq=split.freq,
        horizon=len(held_out),
        features=features,
    )
    # an item first sold inside the window has nothing to plan from
    test = moved.test[moved.test["item_id"].isin(set(moved.train["item_id"]))].reset_index(drop=True)
    return replace(moved, test=test)


def _carparts_frame() -> pd.DataFrame:
    raw = pd.read_csv(DATA_DIR / "hyndman_carparts" / "carparts_monthly.csv.gz", dtype={"part_id": str})
    raw["date"] = pd.to_datetime(raw["month"], format="%Y-%m")
    incomplete = raw.loc[raw["demand"].isna(), "part_id"].unique()
    raw = raw[~raw["part_id"].isin(incomplete)]
    totals = raw.groupby("part_id")["demand"].sum()
    raw = raw[raw["part_id"].isin(totals.index[totals > 0])]
    frame = pd.DataFrame(
        {"item_id": raw["part_id"].to_numpy(), "date": raw["date"].to_numpy(), "quantity": raw["demand"].astype(float)}
    )
    return frame.sort_values(["item_id", "date"]).reset_index(drop=True)


def load_carparts(horizon: int = 12) -> Split:
    """Carparts, monthly (``MS``): the complete series (no missing month) with some demand; h=12."""
    frame = _cached("carparts", _carparts_frame)
    assert isinstance(frame, pd.DataFrame)
    return split_last_window(frame, name="carparts", freq="MS", horizon=horizon)


def _breakfast_frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    raw = pd.read_csv(DATA_DIR / "dunnhumby_breakfast_at_the_frat" / "transactions.csv.gz")
    raw["date"] = pd.to_datetime(raw["week_end_date"])
    raw["item_id"] = raw["store_id"].astype(str) + "_" + raw["upc"].astype(str)
    weeks = raw["date"].nunique()
    counts = raw.groupby("item_id")["date"].nunique()
    raw = raw[raw["item_id"].isin(counts.index[counts == weeks])].sort_values(["item_id", "date"])
    # A few shelf prices are missing: fall back on the regular price, then on the series' neighbours.
    raw["base_price"] = raw.groupby("item_id")["base_price"].transform(lambda s: s.ffill().bfill())
    raw["price"] = raw["price"].fillna(raw["base_price"])
    raw["base_price"] = raw["base_price"].fillna(raw["price"])
    raw = raw.reset_index(drop=True)
    history = pd.DataFrame({"item_id": raw["item_id"], "date": raw["date"], "quantity": raw["units"].astype(float)})
    features = raw[["item_id", "date", *BREAKFAST_DRIVERS]].astype({column: float for column in BREAKFAST_DRIVERS})
    return history, features.reset_index(drop=True)


def load_breakfast(horizon: int = 13) -> Split:
    """dunnhumby Breakfast at the Frat, weekly (``W-WED``), store×UPC series with all 156 weeks; h=13.

    ``features`` holds price, base_price, feature, display and tpr_only for every train and test week.
    """
    frames = _cached("breakfast", _breakfast_frames)
    assert isinstance(frames, tuple)
    history, features = frames
    return split_last_window(history, name="breakfast", freq="W-WED", horizon=horizon, features=features)


def _uci_lines() -> pd.DataFrame:
    raw = pd.read_csv(
        DATA_DIR / "uci_online_retail" / "online_retail.csv.gz",
        dtype={"InvoiceNo": str, "StockCode": str},
        usecols=["InvoiceNo", "StockCode", "Quantity", "InvoiceDate", "UnitPrice"],
    )
    raw["InvoiceDate"] = pd.to_datetime(raw["InvoiceDate"])
    raw["StockCode"] = raw["StockCode"].str.strip().str.upper()
    product = raw["StockCode"].str.match(r"^\d")  # POST, DOT, M, BANK CHARGES, gift_..., C2, ... are not products.
    keep = (
        ~raw["InvoiceNo"].str.startswith("C")
        & (raw["Quantity"] > 0)
        & (raw["UnitPrice"] > 0)
        & product
        & (raw["InvoiceDate"] < UCI_LAST_FULL_DAY + pd.Timedelta(days=1))
    )
    lines = raw[keep]
    return pd.DataFrame(
        {
            "item_id": lines["StockCode"].to_numpy(),
            "day": lines["InvoiceDate"].dt.normalize().to_numpy(),
            "quantity": lines["Quantity"].astype(float).to_numpy(),
        }
    )


def _uci_top_skus(lines: pd.DataFrame, *, before: pd.Timestamp) -> list[str]:
    """The best sellers by units sold before the first test date (no look-ahead) among SKUs sold by March 2011."""
    first_sold = lines.groupby("item_id")["day"].min()
    established = first_sold.index[first_sold <= UCI_FIRST_SOLD_BY]
    units = lines[(lines["day"] < before) & lines["item_id"].isin(established)].groupby("item_id")["quantity"].sum()
    return sorted(units.sort_values(ascending=False, kind="stable").index[:UCI_TOP_SKUS].tolist())


def _dense(frame: pd.DataFrame, items: list[str], dates: pd.DatetimeIndex) -> pd.DataFrame:
    grid = pd.MultiIndex.from_product([items, dates], names=["item_id", "date"])
    totals = frame.groupby(["item_id", "date"])["quantity"].sum()
    quantity = totals.reindex(grid, fill_value=0.0)
    return quantity.reset_index().astype({"quantity": float})


def _uci_frames() -> dict[str, pd.DataFrame]:
    lines = _uci_lines()
    # Both splits use the same SKUs, ranked on sales before the weekly test window (the earlier of the two).
    weekly_test_start = UCI_LAST_FULL_DAY - pd.Timedelta(weeks=8) + pd.Timedelta(days=1)
    items = _uci_top_skus(lines, before=weekly_test_start)
    lines = lines[lines["item_id"].isin(items)]
    days = pd.date_range(lines["day"].min(), UCI_LAST_FULL_DAY, freq="D")
    daily = _dense(lines.rename(columns={"day": "date"}), items, days)
    weekly_lines = lines[lines["day"] > UCI_FIRST_FULL_WEEK_END - pd.Timedelta(days=7)]
    week_end = weekly_lines["day"] + pd.offsets.Week(weekday=2, n=0)  # roll forward to the Wednesday ending the week
    weekly_lines = weekly_lines.assign(date=week_end)
    weeks = pd.date_range(UCI_FIRST_FULL_WEEK_END, UCI_LAST_FULL_DAY, freq="W-WED")
    weekly = _dense(weekly_lines, items, weeks)
    return {"daily": daily, "weekly": weekly}


def load_uci_daily(horizon: int = 28) -> Split:
    """UCI Online Retail, 500 top SKUs, daily demand 2010-12-01..2011-11-30; h=28."""
    frames = _cached("uci", _uci_frames)
    assert isinstance(frames, dict)
    return split_last_window(frames["daily"], name="uci_daily", freq="D", horizon=horizon)


def load_uci_weekly(horizon: int = 8) -> Split:
    """UCI Online Retail, the same 500 SKUs, weekly (``W-WED``, ending 2011-11-30); h=8."""
    frames = _cached("uci", _uci_frames)
    assert isinstance(frames, dict)
    return split_last_window(frames["weekly"], name="uci_weekly", freq="W-WED", horizon=horizon)


LOADERS: dict[str, Callable[[], Split]] = {
    "carparts": load_carparts,
    "breakfast": load_breakfast,
    "uci_daily": load_uci_daily,
    "uci_weekly": load_uci_weekly,
}


def load_all() -> list[Split]:
    """The four benchmark splits, in a fixed order."""
    return [load() for load in LOADERS.values()]


if __name__ == "__main__":
    for split in load_all():
        items = split.train["item_id"].nunique()
        zeros = float((split.train["quantity"] == 0).mean())
        print(
            f"{split.name:<10} freq={split.freq:<6} h={split.horizon:<3} items={items:<5} "
            f"train={split.train['date'].min().date()}..{split.train['date'].max().date()} "
            f"test={split.test['date'].min().date()}..{split.test['date'].max().date()} "
            f"zeros={zeros:.2f} features={None if split.features is None else list(split.features.columns[2:])}"
        )
