"""The replenishment plan: from demand history and item economics to (s, S), the order now and its explanation.

Pure numpy/pandas; no Django. ``plan`` works on frames; ``plan_csv`` is the CSV contract behind
``manage.py plan_csv`` and writes its output atomically (temporary file, then rename).

Items CSV: ``item_id,lead_time,review_period,unit_cost,holding_cost,shortage_cost,order_cost,moq,case_pack,
on_hand,on_order`` with optional ``allocated`` (default 0, at most on_hand), ``lead_time_std`` (periods, default 0)
and ``supplier`` (default empty, for supplier budgets). Lead time and review period are whole periods; costs are per
unit per period (holding), per lost unit (shortage) and per order. Every item in the items CSV must have history,
and every item in the history must be in the items CSV: a mismatch is an error, not a silent drop.
``on_order`` carries no dates; it is assumed to arrive halfway through the lead time (start of period L // 2).
A reorder point of -1 means that, at these costs, no reorder pays for itself within the planning horizon.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from forecasting.engine.errors import InputError
from forecasting.engine.history import parse_dates, read_csv_file, read_history_csv, require_columns
from forecasting.policy.budget import apply_budget
from forecasting.policy.classify import ClassThresholds, abc_xyz, apply_cost_factors, service_floors
from forecasting.policy.demand import RECENT_PERIODS, demand_matrix, error_correlation, policy_forecast
from forecasting.policy.distribution import DemandModel, demand_model, sample_lead_times, sample_paths
from forecasting.policy.optimise import OptimisedPolicy, PlanningInputs, cover_demand, level_profile, optimise_policies

ITEM_COLUMNS = (
    "item_id",
    "lead_time",
    "review_period",
    "unit_cost",
    "holding_cost",
    "shortage_cost",
    "order_cost",
    "moq",
    "case_pack",
    "on_hand",
    "on_order",
)
OPTIONAL_ITEM_COLUMNS = {"allocated": "0", "lead_time_std": "0", "supplier": ""}
PLAN_COLUMNS = (
    "item_id",
    "reorder_point",
    "order_up_to",
    "order_quantity",
    "unrounded_quantity",
    "order_value",
    "abc_xyz",
    "service_floor",
    "cover_periods",
    "expected_cover_demand",
    "safety_stock",
    "cycle_service_level",
    "expected_fill_rate",
    "expected_cost",
    "expected_cost_saved",
    "budget_cut",
    "explanation",
)
MIN_HORIZON = 12
ITEMS_PER_BATCH = 1000


@dataclass(frozen=True)
class PlanOptions:
    """Knobs of a planning run; the defaults are the product's."""

    horizon: int | None = None
    budget: float | None = None
    supplier_budgets: Mapping[str, float] = field(default_factory=dict)
    service_floors: Mapping[str, float] = field(default_factory=dict)
    item_service_floors: Mapping[str, float] = field(default_factory=dict)  # item_id -> floor, over its class's
    # class key -> {cost kind: multiplier} (classify.cost_factors), applied to the items' costs except the kinds
    # an item sets itself (item_own_costs: item_id -> those kinds, e.g. a product's own shortage cost)
    class_cost_factors: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    item_own_costs: Mapping[str, Collection[str]] = field(default_factory=dict)
    thresholds: ClassThresholds = field(default_factory=ClassThresholds)
    paths: int = 200
    seed: int = 0


def _numbers(raw: pd.DataFrame, column: str, *, label: str, minimum: float, whole: bool = False) -> np.ndarray:
    values = pd.to_numeric(raw[column].astype(str).str.strip(), errors="coerce").to_numpy(dtype=float)
    for position, value in enumerate(values):
        text = raw[column].iloc[position]
        if not np.isfinite(value):
            raise InputError(f"{label} row {position + 2}: {column} {text!r} is not a number.")
        if whole and value != np.round(value):
            raise InputError(f"{label} row {position + 2}: {column} {text!r} is not a whole number of periods.")
        if value < minimum:
            raise InputError(f"{label} row {position + 2}: {column} {text} must be at least {minimum:g}.")
    return values


def validate_items(raw: pd.DataFrame, *, label: str = "items") -> pd.DataFrame:
    """Check a raw items frame (all text) and return it typed, sorted by item_id."""
    require_columns(raw, ITEM_COLUMNS, label=label)
    if raw.empty:
        raise InputError(f"{label}: no rows.")
    raw = raw.copy()
    for column, default in OPTIONAL_ITEM_COLUMNS.items():
        if column not in raw.columns:
            raw[column] = default
    item_id = raw["item_id"].astype(str).str.strip()
    if (item_id == "").any():
        raise InputError(f"{label} row {int(np.flatnonzero((item_id == '').to_numpy())[0]) + 2}: item_id is empty.")
    duplicated = item_id.duplicated()
    if duplicated.any():
        position = int(np.flatnonzero(duplicated.to_numpy())[0])
        raise InputError(f"{label} row {position + 2}: item_id {item_id.iloc[position]} appears twice.")
    frame = pd.DataFrame({"item_id": item_id.to_numpy()})
    frame["lead_time"] = _numbers(raw, "lead_time", label=label, minimum=0, whole=True).astype(np.int64)
    frame["review_period"] = _numbers(raw, "review_period", label=label, minimum=1, whole=True).astype(np.int64)
    for column in ("unit_cost", "holding_cost", "shortage_cost", "order_cost", "moq", "on_hand", "on_order"):
        frame[column] = _numbers(raw, column, label=label, minimum=0)
    frame["case_pack"] = _numbers(raw, "case_pack", label=label, minimum=1)
    frame["allocated"] = _numbers(raw, "allocated", label=label, minimum=0)
    frame["lead_time_std"] = _numbers(raw, "lead_time_std", label=label, minimum=0)
    frame["supplier"] = raw["supplier"].astype(str).str.strip().to_numpy()
    over = frame["allocated"] > frame["on_hand"]
    if over.any():
        position = int(np.flatnonzero(over.to_numpy())[0])
        raise InputError(
            f"{label} row {position + 2}: allocated exceeds on_hand for item_id {frame['item_id'].iloc[position]}."
        )
    return frame.sort_values("item_id", kind="stable").reset_index(drop=True)


def _check_same_items(history: pd.DataFrame, items: pd.DataFrame) -> None:
    in_history = set(history["item_id"].astype(str))
    in_items = set(items["item_id"])
    without_history = sorted(in_items - in_history)
    if without_history:
        raise InputError(
            f"items: item_id {without_history[0]} has no history ({len(without_history)} item(s) without history)."
        )
    without_item = sorted(in_history - in_items)
    if without_item:
        raise InputError(
            f"history: item_id {without_item[0]} is not in the items file ({len(without_item)} item(s) missing)."
        )


def planning_horizon(items: pd.DataFrame) -> int:
    """Three cover periods of the longest-covered item, and at least ``MIN_HORIZON`` periods."""
    return planning_horizon_for_cover(int((items["lead_time"] + items["review_period"]).max()))


def planning_horizon_for_cover(longest_cover: int) -> int:
    """The planning horizon when the longest lead time plus review period is ``longest_cover`` periods."""
    return int(max(MIN_HORIZON, 3 * longest_cover))


def _pipeline(items: pd.DataFrame) -> np.ndarray:
    lead = items["lead_time"].to_numpy()
    pipeline = np.zeros((len(items), int(lead.max()) + 1))
    pipeline[np.arange(len(items)), lead // 2] = items["on_order"].to_numpy(dtype=float)
    return pipeline


def _format_units(value: float) -> str:
    return f"{value:.1f}" if abs(value - round(value)) > 1e-9 else f"{value:.0f}"


def _explain(row: Mapping[str, Any], horizon: int) -> str:
    spread = f" ± {row['lead_time_std']:g}" if row["lead_time_std"] > 0 else ""
    cover = (
        f"Cover {row['cover_periods']} periods (lead time {row['lead_time']}{spread} + review {row['review_period']}): "
        f"expected demand {row['expected_cover_demand']:.1f}."
    )
    outlook = (
        f"Expected over the next {horizon} periods: cost {row['expected_cost']:.2f}, "
        f"fill rate {100 * row['expected_fill_rate']:.1f}%."
    )
    floor = f" Class {row['abc_xyz']}"
    floor += f", service floor {100 * row['service_floor']:.1f}%." if row["service_floor"] > 0 else "."
    if row["service_floor"] > 0 and not row["floor_met"]:
        floor += " The floor cannot be met at any tested level; this is the highest fill rate found."
    if row["reorder_point"] < 0:
        return (
            f"{cover} No reorder pays for itself within {horizon} periods at these costs "
            f"(an order costs {row['order_cost']:.2f}; a lost unit {row['shortage_cost']:.2f}): do not reorder."
            f"{floor} {outlook}"
        ).strip()
    position = row["position"]
    stock = (
        f" Reorder point {row['reorder_point']:.0f}: after a review the position is at least "
        f"{row['reorder_point'] + 1:.0f}, a safety stock of {row['safety_stock']:.1f} units that covers the whole "
        f"cover period in {100 * row['cycle_service_level']:.1f}% of cases.{floor}"
    )
    where = (
        f" Position {_format_units(position)} (on hand {_format_units(row['on_hand'])} + on order "
        f"{_format_units(row['on_order'])} - allocated {_format_units(row['allocated'])})"
    )
    if row["unrounded_quantity"] <= 0:
        action = f"{where} is above the reorder point: no order now."
    else:
        action = (
            f"{where} is at or below it: order up to {row['order_up_to']:.0f}, "
            f"{_format_units(row['unrounded_quantity'])} units"
        )
        if row["rounded_quantity"] != row["unrounded_quantity"]:
            rounded = _format_units(row["rounded_quantity"])
            action += f", rounded up to {rounded} (MOQ {row['moq']:g}, case pack {row['case_pack']:g})"
        saved = row["expected_cost_saved"]
        if saved >= 0:
            action += f"; ordering now rather than waiting saves {saved:.2f} of expected cost."
        else:
            action += f"; waiting for the next review would cost {-saved:.2f} less in expectation (a static policy)."
    text = f"{cover}{stock}{action} {outlook}"
    if row["reorder_point"] >= 0 and (row["level_high"] > 1.1 or row["level_low"] < 0.9):
        text += (
            f" Both levels follow the forecast over each review's cover period: from {row['level_low']:.2f}x to "
            f"{row['level_high']:.2f}x these over the next {horizon} periods, highest at the review in period "
            f"{row['level_high_period'] + 1:.0f}."
        )
    if row["budget_note"]:
        text += f" {row['budget_note']}"
    return text


def choose_policies(
    model: DemandModel,
    inputs: PlanningInputs,
    *,
    lead_time_std: np.ndarray,
    correlation: float,
    paths: int,
    seed: int,
) -> tuple[OptimisedPolicy, np.ndarray]:
    """Optimised (s, S) per item, in batches of ``ITEMS_PER_BATCH`` items, and the cycle service level of each s.

    A review leaves the position at s + 1 or more (whole units), so the cycle service level is the probability that
    demand over the cover period does not exceed s + 1.

    Each batch draws its own demand and lead-time paths from a generator seeded by (seed, first item index), so a
    plan is reproducible and an item's result does not depend on how many items come after it.
    """
    parts: list[OptimisedPolicy] = []
    horizon = model.horizon
    cycle_service = np.empty(len(model.item_ids))
    for start in range(0, len(model.item_ids), ITEMS_PER_BATCH):
        batch = slice(start, start + ITEMS_PER_BATCH)
        rng = np.random.default_rng([seed, start])
        demand = sample_paths(model.take(batch), paths=paths, rng=rng, correlation=correlation)
        leads = sample_lead_times(inputs.lead_time[batch], lead_time_std[batch], paths=paths, periods=horizon, rng=rng)
        taken = inputs.take(batch)
        cover = taken.lead_time + taken.review_period
        profile = level_profile(model.mean[batch], cover, horizon)
        chosen = optimise_policies(demand, leads, replace(taken, level_profile=profile))
        parts.append(chosen)
        totals = cover_demand(demand, cover)
        cycle_service[batch] = (totals <= chosen.reorder_point[:, None] + 1).mean(axis=1)
    fields = OptimisedPolicy.__dataclass_fields__
    return OptimisedPolicy(
        **{name: np.concatenate([getattr(part, name) for part in parts]) for name in fields}
    ), cycle_service


def plan(
    history: pd.DataFrame,
    items: pd.DataFrame,
    *,
    freq: str,
    options: PlanOptions | None = None,
    forecasts: pd.DataFrame | None = None,
    correlation: float | None = None,
    features: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The plan frame (``PLAN_COLUMNS``) for validated ``history`` and ``items`` (see ``validate_items``).

    Without ``forecasts``, the forecasting engine forecasts the history (with ``features``, known drivers) and
    its backtest sets how correlated the simulated periods are (``policy_forecast``). With ``forecasts`` (the
    engine's frame shape), ``correlation`` says how persistent their errors are; when it is not given it is
    measured on a backtest of the recent-demand rule (``error_correlation``)."""
    settings = options or PlanOptions()
    _check_same_items(history, items)
    horizon = settings.horizon or planning_horizon(items)
    if horizon < 1:
        raise InputError(f"horizon must be at least 1 period, got {horizon}.")
    if forecasts is None:
        found = policy_forecast(history, horizon=horizon, freq=freq, features=features)
        forecasts, correlation = found.forecasts, found.correlation
    if correlation is None:
        correlation = error_correlation(history, horizon=horizon, freq=freq)
    model = demand_model(forecasts, item_ids=items["item_id"].to_numpy())
    names, _, values = demand_matrix(history, freq=freq)
    recent = values[:, -RECENT_PERIODS:]
    rows, columns = np.nonzero(~np.isnan(recent))
    long = pd.DataFrame({"item_id": names[rows], "date": columns, "quantity": recent[rows, columns]})
    classes = abc_xyz(long, items.set_index("item_id")["unit_cost"], thresholds=settings.thresholds)
    classes = classes.set_index("item_id").reindex(items["item_id"])
    if settings.class_cost_factors:
        items = apply_cost_factors(items, classes["abc_xyz"], settings.class_cost_factors, settings.item_own_costs)
    floors = service_floors(classes["abc_xyz"], settings.service_floors)
    if settings.item_service_floors:
        wrong = {item: floor for item, floor in settings.item_service_floors.items() if not 0.0 <= floor < 1.0}
        if wrong:
            item, floor = next(iter(wrong.items()))
            raise InputError(f"service floor for item {item} must be at least 0 and below 1, got {floor}.")
        own = items["item_id"].map(settings.item_service_floors).to_numpy(dtype=float)
        floors = np.where(np.isnan(own), np.asarray(floors, dtype=float), own)
    net_on_hand = (items["on_hand"] - items["allocated"]).to_numpy(dtype=float)
    inputs = PlanningInputs(
        lead_time=items["lead_time"].to_numpy(dtype=np.int64),
        review_period=items["review_period"].to_numpy(dtype=np.int64),
        holding_cost=items["holding_cost"].to_numpy(dtype=float),
        shortage_cost=items["shortage_cost"].to_numpy(dtype=float),
        order_cost=items["order_cost"].to_numpy(dtype=float),
        moq=items["moq"].to_numpy(dtype=float),
        case_pack=items["case_pack"].to_numpy(dtype=float),
        on_hand=net_on_hand,
        pipeline=_pipeline(items),
        service_floor=floors,
    )
    policy, cycle_service = choose_policies(
        model,
        inputs,
        lead_time_std=items["lead_time_std"].to_numpy(dtype=float),
        correlation=correlation,
        paths=settings.paths,
        seed=settings.seed,
    )
    cover = inputs.lead_time + inputs.review_period
    cumulative_mean = np.cumsum(model.mean, axis=1)
    inside = np.minimum(cover, horizon)
    expected_cover = cumulative_mean[np.arange(len(items)), inside - 1] * cover / inside
    position = net_on_hand + items["on_order"].to_numpy(dtype=float)
    reorder_point = policy.reorder_point.astype(float)
    order_up_to = policy.order_up_to.astype(float)
    triggered = (reorder_point >= 0) & (position <= reorder_point)
    unrounded = np.where(triggered, np.maximum(order_up_to - position, 0.0), 0.0)
    rounded = policy.order_now.astype(float)
    saved = (policy.expected_cost_without_order - policy.expected_cost).astype(float)
    lines = pd.DataFrame(
        {
            "item_id": items["item_id"],
            "supplier": items["supplier"],
            "order_quantity": rounded,
            "unit_cost": items["unit_cost"],
            "moq": items["moq"],
            "case_pack": items["case_pack"],
            "cost_saved": saved,
        }
    )
    budgeted = apply_budget(lines, total_budget=settings.budget, supplier_budgets=settings.supplier_budgets)
    frame = items.copy()
    frame["reorder_point"] = reorder_point
    frame["order_up_to"] = order_up_to
    frame["order_quantity"] = budgeted["order_quantity"].to_numpy()
    frame["unrounded_quantity"] = unrounded
    frame["rounded_quantity"] = rounded
    frame["order_value"] = frame["order_quantity"] * frame["unit_cost"]
    frame["abc_xyz"] = classes["abc_xyz"].to_numpy()
    frame["service_floor"] = floors
    frame["floor_met"] = policy.floor_met
    frame["cover_periods"] = cover
    frame["expected_cover_demand"] = expected_cover
    frame["safety_stock"] = np.where(reorder_point >= 0, reorder_point + 1 - expected_cover, np.nan)
    frame["cycle_service_level"] = np.where(reorder_point >= 0, cycle_service, np.nan)
    frame["expected_fill_rate"] = policy.expected_fill_rate.astype(float)
    frame["expected_cost"] = policy.expected_cost.astype(float)
    frame["expected_cost_saved"] = np.where(rounded > 0, saved, 0.0)
    frame["budget_cut"] = budgeted["budget_cut"].to_numpy()
    frame["budget_note"] = budgeted["budget_note"].to_numpy()
    frame["position"] = position
    frame["level_low"] = policy.level_profile.min(axis=1)
    frame["level_high"] = policy.level_profile.max(axis=1)
    frame["level_high_period"] = policy.level_profile.argmax(axis=1)
    frame["explanation"] = [_explain(row, horizon) for row in frame.to_dict("records")]
    return frame[list(PLAN_COLUMNS)].reset_index(drop=True)


def _read_features(path: str | Path) -> pd.DataFrame:
    raw = read_csv_file(path, label="features")
    require_columns(raw, ("item_id", "date"), label=f"features {path}")
    frame = raw.copy()
    frame["item_id"] = frame["item_id"].astype(str).str.strip()
    frame["date"] = parse_dates(raw["date"], label=f"features {path}")
    return frame


def write_csv_atomically(frame: pd.DataFrame, path: str | Path) -> None:
    """Write ``frame`` to a temporary file next to ``path`` and rename it, so readers never see half a file."""
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise InputError(f"output {path}: directory {directory} does not exist.")
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(handle, "w", newline="") as stream:
            frame.to_csv(stream, index=False, float_format="%.6g")
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def plan_csv(
    history_path: str | Path,
    items_path: str | Path,
    *,
    freq: str,
    output_path: str | Path,
    features_path: str | Path | None = None,
    options: PlanOptions | None = None,
) -> pd.DataFrame:
    """Read the CSVs, plan, write ``output_path`` (nothing is written when any check fails); return the plan."""
    settings = options or PlanOptions()
    if settings.budget is not None and (not np.isfinite(settings.budget) or settings.budget < 0):
        raise InputError(f"--budget must be a number at least 0, got {settings.budget}.")
    history = read_history_csv(history_path, freq=freq)
    items = validate_items(read_csv_file(items_path, label="items"), label=f"items {items_path}")
    features = _read_features(features_path) if features_path is not None else None
    result = plan(history, items, freq=freq, options=settings, features=features)
    write_csv_atomically(result, output_path)
    return result
