"""Open-to-buy: lines are cut in order of least expected cost saved per unit of money, with the reason."""

import pandas as pd
import pytest

from forecasting.engine.errors import InputError
from forecasting.policy.budget import apply_budget


def _lines():
    return pd.DataFrame(
        {
            "item_id": ["A", "B", "C"],
            "supplier": ["north", "south", "north"],
            "order_quantity": [10.0, 20.0, 12.0],
            "unit_cost": [10.0, 5.0, 10.0],
            "moq": [0.0, 0.0, 6.0],
            "case_pack": [1.0, 1.0, 6.0],
            # per 1.00 spent: A 0.50, B 0.20, C 0.75
            "cost_saved": [50.0, 20.0, 90.0],
        }
    )


def test_total_budget_cuts_the_least_saving_lines_first():
    # given: 320 of orders against a budget of 200

    # when
    result = apply_budget(_lines(), total_budget=200.0)

    # then: B (0.20 per 1.00) goes entirely, then A is reduced from 10 to 8 units; C is untouched
    assert result["order_quantity"].tolist() == [8.0, 0.0, 12.0]
    assert result["budget_cut"].tolist() == [2.0, 20.0, 0.0]
    assert result["budget_note"].tolist() == [
        "Budget: cut from 10 to 8 units to fit the total budget of 200.00; this line saves 0.50 of expected cost "
        "per 1.00 spent, the least among the lines still ordered.",
        "Budget: cut from 20 to 0 units to fit the total budget of 200.00; this line saves 0.20 of expected cost "
        "per 1.00 spent, the least among the lines still ordered.",
        "",
    ]


def test_supplier_budget_respects_case_pack_and_moq():
    # given: supplier north has A (100, 0.50 per 1.00) and C (120, 0.75 per 1.00) against a cap of 150
    # when: A goes first and is cut to 3 units; a cap of 55 then needs C cut too
    loose = apply_budget(_lines(), supplier_budgets={"north": 150.0})
    tight = apply_budget(_lines(), supplier_budgets={"north": 55.0})

    # then
    assert loose["order_quantity"].tolist() == [3.0, 20.0, 12.0]
    # at 55, A goes entirely; C could keep 5.5 units, less than one pack of 6, so it goes too
    assert tight["order_quantity"].tolist() == [0.0, 20.0, 0.0]
    assert tight["budget_note"].iloc[2] == (
        "Budget: cut from 12 to 0 units to fit the supplier north budget of 55.00; this line saves 0.75 of expected "
        "cost per 1.00 spent, the least among the lines still ordered."
    )


def test_supplier_cut_keeps_whole_packs():
    result = apply_budget(_lines(), supplier_budgets={"north": 60.0})

    # A (100) is cut to 0, leaving C at 120 for a cap of 60: 6 units (one pack, at the MOQ) fit
    assert result["order_quantity"].tolist() == [0.0, 20.0, 6.0]


def test_no_budget_changes_nothing():
    result = apply_budget(_lines())

    assert result["order_quantity"].tolist() == [10.0, 20.0, 12.0]
    assert result["budget_note"].tolist() == ["", "", ""]


def test_negative_budget_is_refused():
    with pytest.raises(InputError, match="budget for total must be a number at least 0"):
        apply_budget(_lines(), total_budget=-1.0)
