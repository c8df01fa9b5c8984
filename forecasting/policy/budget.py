"""Open-to-buy: cutting order lines to fit a budget per supplier and in total. Pure numpy/pandas; no Django.

Lines are cut in order of least expected cost saved per unit of money: the line whose order saves the least
expected cost (over not ordering now) per 1.00 spent goes first. A line is reduced to the largest quantity that
still fits and respects its MOQ and case pack, or to zero when none does; the next line is cut only if the budget
is still exceeded. Every cut line gets a note that says why.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from forecasting.engine.errors import InputError

BUDGET_LINE_COLUMNS = ("item_id", "supplier", "order_quantity", "unit_cost", "moq", "case_pack", "cost_saved")


def _largest_allowed(units: float, *, moq: float, case_pack: float) -> float:
    pack = max(case_pack, 1.0)
    quantity = np.floor(units / pack + 1e-9) * pack
    return float(quantity) if quantity >= moq and quantity > 0 else 0.0


def _cut(
    lines: pd.DataFrame, quantity: np.ndarray, notes: list[list[str]], mask: np.ndarray, cap: float, scope: str
) -> None:
    unit_cost = lines["unit_cost"].to_numpy(dtype=float)
    saved = lines["cost_saved"].to_numpy(dtype=float)
    original_value = quantity * unit_cost
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(original_value > 0, saved / original_value, np.inf)
    candidates = [i for i in np.flatnonzero(mask & (quantity > 0) & (unit_cost > 0))]
    candidates.sort(key=lambda i: (ratio[i], str(lines["item_id"].iloc[i])))
    for index in candidates:
        spent = float((quantity * unit_cost)[mask].sum())
        excess = spent - cap
        if excess <= 1e-9:
            return
        before = quantity[index]
        keep = before - excess / unit_cost[index]
        after = _largest_allowed(
            keep, moq=float(lines["moq"].iloc[index]), case_pack=float(lines["case_pack"].iloc[index])
        )
        quantity[index] = after
        notes[index].append(
            f"Budget: cut from {before:g} to {after:g} units to fit the {scope} budget of {cap:.2f}; this line saves "
            f"{ratio[index]:.2f} of expected cost per 1.00 spent, the least among the lines still ordered."
        )


def apply_budget(
    lines: pd.DataFrame, *, total_budget: float | None = None, supplier_budgets: Mapping[str, float] | None = None
) -> pd.DataFrame:
    """Return ``item_id,order_quantity,budget_cut,budget_note`` after the supplier caps, then the total cap.

    ``lines`` has ``item_id,supplier,order_quantity,unit_cost,moq,case_pack,cost_saved`` where ``cost_saved`` is
    the expected cost the line's order saves over not ordering now.
    """
    missing = [column for column in BUDGET_LINE_COLUMNS if column not in lines.columns]
    if missing:
        raise InputError(f"budget lines: missing column(s) {', '.join(missing)}.")
    caps = dict(supplier_budgets or {})
    for name, cap in [("total", total_budget), *caps.items()]:
        if cap is not None and (not np.isfinite(cap) or cap < 0):
            raise InputError(f"budget for {name} must be a number at least 0, got {cap}.")
    quantity = lines["order_quantity"].to_numpy(dtype=float).copy()
    notes: list[list[str]] = [[] for _ in range(len(lines))]
    suppliers = lines["supplier"].astype(str).to_numpy()
    for supplier, cap in sorted(caps.items()):
        _cut(lines, quantity, notes, suppliers == supplier, float(cap), f"supplier {supplier}")
    if total_budget is not None:
        _cut(lines, quantity, notes, np.ones(len(lines), dtype=bool), float(total_budget), "total")
    return pd.DataFrame(
        {
            "item_id": lines["item_id"].to_numpy(),
            "order_quantity": quantity,
            "budget_cut": lines["order_quantity"].to_numpy(dtype=float) - quantity,
            "budget_note": [" ".join(note) for note in notes],
        }
    )
