"""Reading and checking demand history: the ``item_id,date,quantity`` frame every engine entry point takes.

Pure pandas; no Django. Every check raises ``InputError`` with one line that names the problem.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from forecasting.engine.errors import InputError

HISTORY_COLUMNS = ("item_id", "date", "quantity")


def parse_freq(freq: str) -> pd.DateOffset:
    """A pandas offset alias (``D``, ``W-MON``, ``MS``, ...) as an offset, or ``InputError``."""
    try:
        offset = pd.tseries.frequencies.to_offset(freq)
    except (ValueError, TypeError):
        raise InputError(f"--freq {freq!r} is not a pandas offset alias (for example D, W-MON, MS).") from None
    if offset is None:
        raise InputError(f"--freq {freq!r} is not a pandas offset alias (for example D, W-MON, MS).")
    return offset


def read_csv_file(path: str | Path, *, label: str) -> pd.DataFrame:
    """Read a CSV with every column as text, so that checks can name the bad value."""
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except FileNotFoundError:
        raise InputError(f"{label} {path}: file not found.") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise InputError(f"{label} {path}: not a readable CSV ({str(error).splitlines()[0]}).") from None


def require_columns(frame: pd.DataFrame, columns: tuple[str, ...] | list[str], *, label: str) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise InputError(f"{label}: missing column(s) {', '.join(missing)}; expected {','.join(columns)}.")


def parse_dates(values: pd.Series, *, label: str, column: str = "date") -> pd.Series:
    parsed = pd.to_datetime(values, errors="coerce", format="mixed")
    bad = parsed.isna()
    if bad.any():
        position = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(f"{label} row {position + 2}: {column} {values.iloc[position]!r} is not a date.")
    return parsed.dt.tz_localize(None) if getattr(parsed.dt, "tz", None) is not None else parsed


def parse_numbers(values: pd.Series, *, label: str, column: str) -> pd.Series:
    parsed = pd.to_numeric(values, errors="coerce")
    bad = parsed.isna() | ~np.isfinite(parsed.astype(float))
    if bad.any():
        position = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(f"{label} row {position + 2}: {column} {values.iloc[position]!r} is not a number.")
    return parsed.astype(float)


def align_to_freq(dates: pd.Series, offset: pd.DateOffset, *, label: str) -> pd.Series:
    """Dates must fall on the frequency's periods (a Monday for W-MON, a first of month for MS)."""
    # Checked once per distinct date: a history has few dates and many rows.
    unique = pd.Series(dates.unique())
    on_offset_unique = pd.Series(unique.map(offset.is_on_offset).to_numpy(dtype=bool), index=unique.to_numpy())
    on_offset = pd.Series(on_offset_unique.reindex(dates.to_numpy()).to_numpy(dtype=bool), index=dates.index)
    if not on_offset.all():
        position = int(np.flatnonzero(~on_offset.to_numpy())[0])
        raise InputError(
            f"{label} row {position + 2}: date {dates.iloc[position].date()} is not on the {offset.freqstr} frequency."
        )
    return dates


def validate_history(raw: pd.DataFrame, *, freq: str, label: str = "history") -> pd.DataFrame:
    """Check a raw ``item_id,date,quantity`` frame and return it typed and sorted.

    Quantities must be finite and non-negative, dates must parse and fall on ``freq``,
    and an (item_id, date) pair may appear only once.
    """
    require_columns(raw, HISTORY_COLUMNS, label=label)
    if raw.empty:
        raise InputError(f"{label}: no rows.")
    offset = parse_freq(freq)
    item_id = raw["item_id"].astype(str).str.strip()
    if (item_id == "").any():
        position = int(np.flatnonzero((item_id == "").to_numpy())[0])
        raise InputError(f"{label} row {position + 2}: item_id is empty.")
    dates = align_to_freq(parse_dates(raw["date"], label=label), offset, label=label)
    quantity = parse_numbers(raw["quantity"], label=label, column="quantity")
    if (quantity < 0).any():
        position = int(np.flatnonzero((quantity < 0).to_numpy())[0])
        raise InputError(f"{label} row {position + 2}: quantity {raw['quantity'].iloc[position]} is negative.")
    frame = pd.DataFrame({"item_id": item_id, "date": dates, "quantity": quantity})
    duplicated = frame.duplicated(["item_id", "date"], keep="first")
    if duplicated.any():
        position = int(np.flatnonzero(duplicated.to_numpy())[0])
        raise InputError(
            f"{label} row {position + 2}: duplicate row for item_id {frame['item_id'].iloc[position]} "
            f"on {frame['date'].iloc[position].date()}."
        )
    extra = [column for column in raw.columns if column not in HISTORY_COLUMNS]
    for column in extra:
        frame[column] = raw[column].to_numpy()
    return frame.sort_values(["item_id", "date"], kind="stable").reset_index(drop=True)


def read_history_csv(path: str | Path, *, freq: str) -> pd.DataFrame:
    """Read and validate an ``item_id,date,quantity`` CSV (see ``validate_history``)."""
    return validate_history(read_csv_file(path, label="history"), freq=freq, label=f"history {path}")


def to_dense(history: pd.DataFrame, *, freq: str, end: pd.Timestamp | None = None) -> pd.DataFrame:
    """Fill the missing periods of each item with zero demand, from its first period to ``end``.

    ``end`` defaults to the last date in the whole history, so that every item's series
    ends on the same period and the forecast horizon starts on the same date for all.
    """
    offset = parse_freq(freq)
    last = end if end is not None else history["date"].max()
    pieces = []
    for item_id, group in history.groupby("item_id", sort=True):
        index = pd.date_range(group["date"].min(), last, freq=offset)
        series = group.set_index("date")["quantity"].reindex(index, fill_value=0.0)
        pieces.append(pd.DataFrame({"item_id": item_id, "date": index, "quantity": series.to_numpy()}))
    return pd.concat(pieces, ignore_index=True)
