"""Reading and checking import CSV files with pandas; no database access here.

Each ``check_*`` function takes the raw frame (every cell a string) and what it needs to know
about the merchant's catalogue, and returns the clean, typed frame and every bad cell as a
``RowError``. Row 1 is the first data row after the header.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import IO

import numpy as np
import pandas as pd

MAX_QUANTITY = 1_000_000_000


@dataclass(frozen=True)
class RowError:
    row: int | None  # None: the file as a whole (header, encoding)
    column: str
    message: str

    def as_dict(self) -> dict[str, object]:
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass(frozen=True)
class Checked:
    frame: pd.DataFrame
    errors: list[RowError]


@dataclass(frozen=True)
class ColumnSpec:
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()


COLUMNS = {
    "products": ColumnSpec(
        required=("sku", "name", "unit_cost", "price"),
        optional=("description", "supplier", "case_pack", "moq", "lead_time_days_override", "is_active"),
    ),
    "sales": ColumnSpec(required=("external_id", "sku", "ordered_at", "quantity", "unit_price")),
    "stock": ColumnSpec(required=("sku", "on_hand"), optional=("warehouse",)),
}

_WHOLE = re.compile(r"\d+")
_TRUE = {"1", "true", "yes", "y", "t"}
_FALSE = {"0", "false", "no", "n", "f"}


def read_csv(source: str | IO[bytes]) -> tuple[pd.DataFrame | None, list[RowError]]:
    """Read a CSV file as strings (empty cells as ``""``); a file that cannot be read is one error."""
    try:
        frame = pd.read_csv(
            source, dtype=str, keep_default_na=False, na_filter=False, skipinitialspace=True, encoding="utf-8"
        )
    except UnicodeDecodeError:
        return None, [RowError(None, "file", "The file is not UTF-8 text.")]
    except pd.errors.EmptyDataError:
        return None, [RowError(None, "file", "The file is empty.")]
    except (pd.errors.ParserError, ValueError) as error:
        return None, [RowError(None, "file", f"The file is not valid CSV: {error}")]
    frame.columns = [str(column).strip().lower() for column in frame.columns]
    return frame.reset_index(drop=True), []


def check_columns(frame: pd.DataFrame, kind: str) -> list[RowError]:
    spec = COLUMNS[kind]
    errors = [RowError(None, column, "Missing column.") for column in spec.required if column not in frame.columns]
    known = set(spec.required) | set(spec.optional)
    errors += [RowError(None, str(column), "Unknown column.") for column in frame.columns if column not in known]
    if frame.columns.duplicated().any():
        errors.append(RowError(None, "file", "A column name appears more than once."))
    return errors


def _rows(mask: pd.Series, column: str, message: str, values: pd.Series | None = None) -> list[RowError]:
    """One error per row where ``mask`` holds; with ``values``, the row's value (shortened) follows the message."""
    indexes = np.flatnonzero(mask.to_numpy(dtype=bool))
    if values is None:
        return [RowError(int(i) + 1, column, message) for i in indexes]
    shown = values.to_numpy()
    return [RowError(int(i) + 1, column, f"{message}: {str(shown[i])[:40]!r}") for i in indexes]


def _text(frame: pd.DataFrame, column: str, *, max_length: int, required: bool, errors: list[RowError]) -> pd.Series:
    values = frame[column].str.strip() if column in frame.columns else pd.Series("", index=frame.index)
    if required:
        errors += _rows(values == "", column, "Required; the cell is empty.")
    errors += _rows(values.str.len() > max_length, column, f"At most {max_length} characters.")
    return values


def _whole(
    frame: pd.DataFrame, column: str, *, minimum: int, maximum: int, errors: list[RowError], default: int | None = None
) -> pd.Series:
    """Whole numbers as int64 (``default`` for empty cells when given; empty cells are errors otherwise)."""
    raw = frame[column].str.strip() if column in frame.columns else pd.Series("", index=frame.index)
    empty = raw == ""
    if default is not None:
        raw = raw.mask(empty, str(default))
        empty = pd.Series(False, index=frame.index)
    well_formed = raw.str.fullmatch(_WHOLE.pattern) & (raw.str.len() <= 12)
    numbers = pd.to_numeric(raw.where(well_formed), errors="coerce")
    out_of_range = well_formed & ((numbers < minimum) | (numbers > maximum))
    errors += _rows(empty, column, "Required; the cell is empty.")
    errors += _rows(~empty & ~well_formed, column, "Not a whole number", raw)
    errors += _rows(out_of_range, column, f"Must be between {minimum} and {maximum}.")
    return numbers.fillna(0).astype("int64")


def _money(
    frame: pd.DataFrame, column: str, *, integer_digits: int, decimals: int, errors: list[RowError]
) -> pd.Series:
    raw = frame[column].str.strip()
    pattern = rf"\d{{1,{integer_digits}}}(\.\d{{0,{decimals}}})?"
    well_formed = raw.str.fullmatch(pattern)
    errors += _rows(
        ~well_formed,
        column,
        f"Not an amount of money (digits, at most {decimals} decimals)",
        raw,
    )
    return raw.where(well_formed, "0")


def check_products(frame: pd.DataFrame, *, supplier_names: Iterable[str]) -> Checked:
    """Products: sku, name, unit_cost, price; optionally description, supplier (by name), pack sizes, is_active."""
    errors: list[RowError] = []
    sku = _text(frame, "sku", max_length=64, required=True, errors=errors)
    errors += _rows(sku.duplicated(keep="first") & (sku != ""), "sku", "This SKU already appears in an earlier row.")
    name = _text(frame, "name", max_length=255, required=True, errors=errors)
    description = _text(frame, "description", max_length=10_000, required=False, errors=errors)
    unit_cost = _money(frame, "unit_cost", integer_digits=8, decimals=4, errors=errors)
    price = _money(frame, "price", integer_digits=10, decimals=2, errors=errors)
    supplier = _text(frame, "supplier", max_length=200, required=False, errors=errors)
    errors += _rows((supplier != "") & ~supplier.isin(set(supplier_names)), "supplier", "No supplier of that name.")
    case_pack = _whole(frame, "case_pack", minimum=1, maximum=1_000_000, errors=errors, default=1)
    moq = _whole(frame, "moq", minimum=1, maximum=1_000_000, errors=errors, default=1)
    has_override = (
        frame["lead_time_days_override"].str.strip() != ""
        if "lead_time_days_override" in frame.columns
        else pd.Series(False, index=frame.index)
    )
    override = _whole(frame, "lead_time_days_override", minimum=0, maximum=3650, errors=errors, default=0)
    active_raw = (
        frame["is_active"].str.strip().str.lower() if "is_active" in frame.columns else pd.Series("", index=frame.index)
    )
    errors += _rows(~active_raw.isin(_TRUE | _FALSE | {""}), "is_active", "Not a yes/no value", active_raw)
    clean = pd.DataFrame(
        {
            "sku": sku,
            "name": name,
            "description": description,
            "unit_cost": unit_cost,
            "price": price,
            "supplier": supplier,
            "case_pack": case_pack,
            "moq": moq,
            "lead_time_days_override": override.where(has_override, other=pd.NA).astype("Int64"),
            "is_active": ~active_raw.isin(_FALSE),
        }
    )
    return Checked(clean, sorted(errors, key=_order))


def _number(
    frame: pd.DataFrame, column: str, *, minimum: float, maximum: float, whole: bool, errors: list[RowError]
) -> pd.Series:
    """Numbers parsed in bulk (fast on large files); empty, non-numeric, fractional or out of range is an error."""
    raw = frame[column]
    numbers = pd.to_numeric(raw, errors="coerce")
    bad = numbers.isna() | ~np.isfinite(numbers)
    errors += _rows(bad, column, "Not a number", raw)
    if whole:
        fractional = ~bad & (numbers != np.floor(numbers))
        errors += _rows(fractional, column, "Not a whole number", raw)
        bad |= fractional
    out_of_range = ~bad & ((numbers < minimum) | (numbers > maximum))
    errors += _rows(out_of_range, column, f"Must be between {minimum:g} and {maximum:g}", raw)
    return numbers.where(~bad, 0)


def check_sales(frame: pd.DataFrame, *, product_ids: Mapping[str, int]) -> Checked:
    """Sales history lines: external_id, sku, ordered_at, quantity, unit_price (rounded to 2 decimals)."""
    errors: list[RowError] = []
    external_id = _text(frame, "external_id", max_length=128, required=True, errors=errors)
    sku = _text(frame, "sku", max_length=64, required=True, errors=errors)
    product_id = sku.map(product_ids)
    errors += _rows(product_id.isna() & (sku != ""), "sku", "Unknown SKU", sku)
    ordered_at = pd.to_datetime(frame["ordered_at"], errors="coerce", utc=True, format="ISO8601")
    errors += _rows(ordered_at.isna(), "ordered_at", "Not an ISO 8601 date and time", frame["ordered_at"])
    quantity = _number(frame, "quantity", minimum=1, maximum=MAX_QUANTITY, whole=True, errors=errors)
    unit_price = _number(frame, "unit_price", minimum=0, maximum=9_999_999_999.99, whole=False, errors=errors)
    clean = pd.DataFrame(
        {
            "external_id": external_id,
            "product_id": product_id.fillna(0).astype("int64"),
            "ordered_at": ordered_at,
            "quantity": quantity.astype("int64"),
            "unit_price": unit_price.round(2),
        }
    )
    return Checked(clean, sorted(errors, key=_order))


def check_stock(
    frame: pd.DataFrame, *, product_ids: Mapping[str, int], warehouse_ids: Mapping[str, int], default_warehouse: str
) -> Checked:
    """A stock snapshot: sku, on_hand and optionally warehouse (its code; the default warehouse if empty)."""
    errors: list[RowError] = []
    sku = _text(frame, "sku", max_length=64, required=True, errors=errors)
    product_id = sku.map(product_ids)
    errors += _rows(product_id.isna() & (sku != ""), "sku", "Unknown SKU", sku)
    warehouse = _text(frame, "warehouse", max_length=32, required=False, errors=errors)
    warehouse = warehouse.mask(warehouse == "", default_warehouse)
    warehouse_id = warehouse.map(warehouse_ids)
    errors += _rows(warehouse_id.isna(), "warehouse", "Unknown warehouse code", warehouse)
    on_hand = _whole(frame, "on_hand", minimum=0, maximum=MAX_QUANTITY, errors=errors)
    pair = sku + "\x1f" + warehouse
    errors += _rows(pair.duplicated(keep="first") & (sku != ""), "sku", "Counted twice in this warehouse.")
    clean = pd.DataFrame(
        {
            "product_id": product_id.fillna(0).astype("int64"),
            "warehouse_id": warehouse_id.fillna(0).astype("int64"),
            "on_hand": on_hand,
        }
    )
    return Checked(clean, sorted(errors, key=_order))


def _order(error: RowError) -> tuple[int, str]:
    return (error.row or 0, error.column)
