"""The CSV-in, CSV-out forecast behind ``manage.py forecast_csv``. Pure; no Django.

Contract: history ``item_id,date,quantity``; optional features ``item_id,date,<numeric columns>``
covering history and horizon; output ``item_id,date,mean,p<q>...`` with one row per item and future
period, dates as YYYY-MM-DD. Any problem raises ``InputError`` with one line, and nothing is written.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from forecasting.engine.config import EngineConfig, check_quantiles
from forecasting.engine.errors import InputError
from forecasting.engine.history import (
    align_to_freq,
    parse_dates,
    parse_freq,
    parse_numbers,
    read_csv_file,
    read_history_csv,
    require_columns,
)

DEFAULT_QUANTILES = "10,50,90"
DECIMALS = 4


def parse_quantiles(text: str) -> tuple[float, ...]:
    """``"10,50,90"`` (percent) as ``(0.1, 0.5, 0.9)``; ``InputError`` naming the bad entry."""
    parts = [part.strip() for part in str(text).split(",")]
    if not parts or any(part == "" for part in parts):
        raise InputError(f"--quantiles {text!r}: expected comma-separated percentages such as 10,50,90.")
    values = []
    for part in parts:
        try:
            value = float(part)
        except ValueError:
            raise InputError(f"--quantiles {text!r}: {part!r} is not a number.") from None
        if not np.isfinite(value) or not 0 < value < 100:
            raise InputError(f"--quantiles {text!r}: {part} is not strictly between 0 and 100.")
        values.append(value / 100.0)
    if len(set(values)) != len(values):
        raise InputError(f"--quantiles {text!r}: a percentage is repeated.")
    return check_quantiles(values)


def read_covariates_csv(path: str | Path, *, freq: str, label: str) -> pd.DataFrame:
    """An ``item_id,date,<numeric columns>`` CSV (drivers now, text signals later), typed and checked."""
    raw = read_csv_file(path, label=label)
    name = f"{label} {path}"
    require_columns(raw, ["item_id", "date"], label=name)
    columns = [column for column in raw.columns if column not in ("item_id", "date")]
    if not columns:
        raise InputError(f"{name}: no numeric columns besides item_id and date.")
    frame = pd.DataFrame({"item_id": raw["item_id"].astype(str).str.strip()})
    frame["date"] = align_to_freq(parse_dates(raw["date"], label=name), parse_freq(freq), label=name)
    for column in columns:
        frame[column] = parse_numbers(raw[column], label=name, column=column)
    duplicated = frame.duplicated(["item_id", "date"])
    if duplicated.any():
        position = int(np.flatnonzero(duplicated.to_numpy())[0])
        raise InputError(
            f"{name} row {position + 2}: duplicate row for item_id {frame['item_id'].iloc[position]} "
            f"on {frame['date'].iloc[position].date()}."
        )
    return frame


def write_csv_atomically(frame: pd.DataFrame, path: str | Path) -> None:
    """Write to a temporary file beside ``path`` and rename it over ``path`` only once complete."""
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise InputError(f"--output {path}: directory {directory} does not exist.")
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(handle, "w", newline="") as stream:
            frame.to_csv(stream, index=False)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def run_forecast_csv(
    history_path: str | Path,
    *,
    horizon: int,
    freq: str,
    output_path: str | Path,
    features_path: str | Path | None = None,
    quantiles: str | Sequence[float] = DEFAULT_QUANTILES,
    config: EngineConfig | None = None,
    text_features: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """Read, forecast and write the output CSV; return the written frame.

    ``text_features``, when given, turns the checked history into past-only signal features
    (item_id, date, <columns>) for the engine: ``forecast_csv --texts`` passes the NLP extraction.

    ``quantiles`` is the command's percentage text (``"10,50,90"``) or fractions. Every input is
    checked before anything is computed, and the output appears only when the whole run succeeded.
    """
    if horizon < 1:
        raise InputError(f"--horizon must be at least 1 period, got {horizon}.")
    levels = parse_quantiles(quantiles) if isinstance(quantiles, str) else check_quantiles(quantiles)
    parse_freq(freq)
    output = Path(output_path)
    if not (output.parent if str(output.parent) else Path(".")).is_dir():
        raise InputError(f"--output {output_path}: directory {output.parent} does not exist.")
    history = read_history_csv(history_path, freq=freq)
    features = read_covariates_csv(features_path, freq=freq, label="features") if features_path else None
    from forecasting.engine.core import forecast  # the models load only once the inputs are known to be good

    signals = text_features(history) if text_features is not None else None
    result = forecast(
        history,
        horizon=horizon,
        freq=freq,
        quantiles=levels,
        features=features,
        text_features=signals,
        config=config,
    )
    frame = result.forecasts.copy()
    frame["date"] = pd.to_datetime(frame["date"]).dt.strftime("%Y-%m-%d")
    value_columns = [column for column in frame.columns if column not in ("item_id", "date")]
    frame[value_columns] = frame[value_columns].round(DECIMALS)
    write_csv_atomically(frame, output)
    return frame
