"""``forecasting.policy.plan`` on frames: a deterministic item whose optimal cost is known, and the item checks."""

import re

import numpy as np
import pandas as pd
import pytest

from forecasting.engine.errors import InputError
from forecasting.policy.plan import PlanOptions, plan, validate_items


def _history(quantities: dict[str, list[float]]) -> pd.DataFrame:
    frames = []
    for item_id, values in quantities.items():
        dates = pd.date_range("2024-01-01", periods=len(values), freq="W-MON")
        frames.append(pd.DataFrame({"item_id": item_id, "date": dates, "quantity": np.asarray(values, dtype=float)}))
    return pd.concat(frames, ignore_index=True)


def _items(**overrides: list[str]) -> pd.DataFrame:
    raw = {
        "item_id": ["flat"],
        "lead_time": ["1"],
        "review_period": ["1"],
        "unit_cost": ["4"],
        "holding_cost": ["1"],
        "shortage_cost": ["10"],
        "order_cost": ["0"],
        "moq": ["0"],
        "case_pack": ["1"],
        "on_hand": ["0"],
        "on_order": ["0"],
        **overrides,
    }
    return pd.DataFrame(raw)


def test_constant_demand_gives_the_known_optimum():
    # given: exactly 5 units every week, lead time 1, nothing in stock, free orders
    history = _history({"flat": [5.0] * 30})

    # when
    result = plan(history, validate_items(_items()), freq="W-MON", options=PlanOptions(horizon=12))

    # then: period 0's 5 units are lost whatever we do (50); ordering up to 10 now leaves 5 on hand once (5); after
    # that 5 units arrive each week and are sold, so the best expected cost is 55 with 55 of 60 units served
    row = result.iloc[0]
    assert row["order_up_to"] == 10.0
    assert row["reorder_point"] == 9.0  # ties between s = 5..9 go to the highest
    assert row["order_quantity"] == 10.0
    assert row["expected_cost"] == pytest.approx(55.0)
    assert row["expected_fill_rate"] == pytest.approx(55 / 60)
    assert row["expected_cover_demand"] == 10.0
    assert row["abc_xyz"] == "AX"
    assert row["safety_stock"] == 0.0
    assert row["cycle_service_level"] == 1.0
    assert row["expected_cost_saved"] == pytest.approx(50.0)  # waiting a week loses 5 more units
    assert row["explanation"] == (
        "Cover 2 periods (lead time 1 + review 1): expected demand 10.0. Reorder point 9: after a review the "
        "position is at least 10, a safety stock of 0.0 units that covers the whole cover period in 100.0% of "
        "cases. Class AX. Position 0 (on hand 0 + on order 0 - allocated 0) is at or below it: order up to 10, "
        "10 units; ordering now rather than waiting saves 50.00 of expected cost. "
        "Expected over the next 12 periods: cost 55.00, fill rate 91.7%."
    )


def test_a_service_floor_is_applied_by_class():
    history = _history({"flat": [5.0] * 30})
    options = PlanOptions(horizon=12, service_floors={"AX": 0.95})

    result = plan(history, validate_items(_items()), freq="W-MON", options=options)

    # 95% cannot be reached: period 0 is lost before anything can arrive; the plan says so
    assert result.iloc[0]["service_floor"] == 0.95
    assert "The floor cannot be met at any tested level" in result.iloc[0]["explanation"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"case_pack": ["0"]}, "case_pack 0 must be at least 1"),
        ({"review_period": ["0"]}, "review_period 0 must be at least 1"),
        ({"on_hand": ["abc"]}, "on_hand 'abc' is not a number"),
        ({"item_id": [" "]}, "item_id is empty"),
    ],
)
def test_validate_items_names_the_problem(overrides, message):
    with pytest.raises(InputError, match=message):
        validate_items(_items(**overrides))


def test_allocated_beyond_on_hand_is_refused():
    items = _items()
    items["allocated"] = ["3"]

    with pytest.raises(InputError, match="allocated exceeds on_hand for item_id flat"):
        validate_items(items)


def test_plan_forecasts_with_the_engine_and_its_drivers():
    # given: demand is 5 a week, 25 in promotion weeks; a promotion runs over the next four weeks
    weeks = pd.date_range("2024-01-01", periods=64, freq="W-MON")
    promoted = (np.arange(64) % 8 == 3) | (np.arange(64) >= 60)
    history = pd.DataFrame({"item_id": "flat", "date": weeks[:60], "quantity": np.where(promoted[:60], 25.0, 5.0)})
    features = pd.DataFrame({"item_id": "flat", "date": weeks, "promotion": promoted.astype(float)})
    items = validate_items(_items())

    # when
    without = plan(history, items, freq="W-MON", options=PlanOptions(horizon=4)).iloc[0]
    with_drivers = plan(history, items, freq="W-MON", options=PlanOptions(horizon=4), features=features).iloc[0]

    # then: with the drivers the cover (lead 1 + review 1) is close to two promotion weeks (50 units)
    assert with_drivers["expected_cover_demand"] == pytest.approx(42.92, abs=0.01)
    assert without["expected_cover_demand"] == pytest.approx(15.35, abs=0.01)
    assert with_drivers["order_up_to"] > without["order_up_to"]


@pytest.mark.parametrize(
    ("factors", "own", "expected_cost"),
    [
        ({}, {}, 55.0),
        # the item is AX: the pair wins over the letter, which wins over the XYZ letter
        ({"A": {"shortage_cost": 2.0}}, {}, 105.0),  # 5 lost units at 20, 5 units held once at 1
        ({"AX": {"holding_cost": 3.0}, "A": {"holding_cost": 2.0}, "X": {"holding_cost": 9.0}}, {}, 65.0),
        ({"B": {"shortage_cost": 2.0}, "Y": {"shortage_cost": 2.0}}, {}, 55.0),  # not its class
        ({"A": {"shortage_cost": 2.0}}, {"flat": ["shortage_cost"]}, 55.0),  # its own shortage cost stays
    ],
)
def test_class_cost_factors_multiply_the_costs_the_item_does_not_set_itself(factors, own, expected_cost):
    # given: the deterministic item of the first test (class AX): 5 units lost in period 0, 5 held once
    history = _history({"flat": [5.0] * 30})
    options = PlanOptions(horizon=12, class_cost_factors=factors, item_own_costs=own)

    # when
    row = plan(history, validate_items(_items()), freq="W-MON", options=options).iloc[0]

    # then
    assert (row["order_up_to"], row["expected_cost"]) == (10.0, pytest.approx(expected_cost))


@pytest.mark.parametrize(
    ("factors", "message"),
    [
        ({"D": {"holding_cost": 2.0}}, "cost class 'D' is not one of A, B, C, X, Y, Z or a pair such as AX."),
        ({"A": {"storage": 2.0}}, "cost factor 'storage' for class A is not one of holding_cost, shortage_cost"),
        ({"A": {"order_cost": -1.0}}, "cost factor order_cost for class A must be a number of at least 0, got -1.0."),
    ],
)
def test_wrong_class_cost_factors_are_named(factors, message):
    with pytest.raises(InputError, match=re.escape(message)):
        plan(
            _history({"flat": [5.0] * 30}),
            validate_items(_items()),
            freq="W-MON",
            options=PlanOptions(horizon=12, class_cost_factors=factors),
        )


def test_levels_follow_a_forecast_peak_and_the_explanation_says_so():
    # given: 5 units a week, and a forecast (certain: every quantile at the mean) of 15 in weeks 5 and 6
    history = _history({"flat": [5.0] * 30})
    dates = pd.date_range(history["date"].max(), periods=13, freq="W-MON")[1:]
    mean = np.array([5.0, 5.0, 5.0, 5.0, 15.0, 15.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0])
    forecasts = pd.DataFrame({"item_id": "flat", "date": dates, "mean": mean, "p10": mean, "p50": mean, "p90": mean})

    # when
    result = plan(
        history,
        validate_items(_items()),
        freq="W-MON",
        options=PlanOptions(horizon=12),
        forecasts=forecasts,
        correlation=0.0,
    )

    # then: the levels are those of a flat week now (the peak is beyond this order's cover period), and every unit
    # but the first week's is served: cover 2 weeks -> 10, 10, 10, 20, 30, 20, 10... -> up to 3x at the 5th review
    row = result.iloc[0]
    assert (row["reorder_point"], row["order_up_to"], row["order_quantity"]) == (9.0, 10.0, 10.0)
    assert row["expected_cost"] == pytest.approx(50.0 + 5.0)
    assert row["explanation"].endswith(
        "Both levels follow the forecast over each review's cover period: from 1.00x to 3.00x these over the next "
        "12 periods, highest at the review in period 5."
    )
