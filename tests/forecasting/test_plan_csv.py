"""``manage.py plan_csv``: the CSV contract, through call_command and through a real process, with no database."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from django.core.management import CommandError, call_command

from forecasting.policy.plan import PLAN_COLUMNS

ROOT = Path(__file__).resolve().parents[2]
ITEMS = {
    "item_id": ["steady", "slow", "packed"],
    "lead_time": ["1", "2", "1"],
    "review_period": ["1", "1", "2"],
    "unit_cost": ["10", "40", "2.5"],
    "holding_cost": ["0.05", "0.2", "0.01"],
    "shortage_cost": ["5", "20", "1.25"],
    "order_cost": ["15", "15", "15"],
    "moq": ["0", "0", "30"],
    "case_pack": ["1", "1", "12"],
    "on_hand": ["4", "1", "10"],
    "on_order": ["0", "0", "12"],
}


def _write_inputs(directory: Path, *, items=None, history=None) -> tuple[Path, Path]:
    rng = np.random.default_rng(11)
    dates = pd.date_range("2024-01-01", periods=40, freq="W-MON")
    if history is None:
        history = pd.DataFrame(
            {
                "item_id": np.repeat(["steady", "slow", "packed"], len(dates)),
                "date": np.tile(dates.strftime("%Y-%m-%d"), 3),
                "quantity": np.concatenate(
                    [rng.poisson(6, len(dates)), rng.poisson(0.4, len(dates)), rng.poisson(25, len(dates))]
                ),
            }
        )
    history_path, items_path = directory / "history.csv", directory / "items.csv"
    history.to_csv(history_path, index=False)
    pd.DataFrame(items if items is not None else ITEMS).to_csv(items_path, index=False)
    return history_path, items_path


def _check_plan(plan: pd.DataFrame) -> None:
    assert plan.columns.tolist() == list(PLAN_COLUMNS)
    assert plan["item_id"].tolist() == ["packed", "slow", "steady"]
    packed = plan.set_index("item_id").loc["packed"]
    if packed["order_quantity"] > 0:
        assert packed["order_quantity"] % 12 == 0
        assert packed["order_quantity"] >= 30
    assert (plan["order_up_to"] >= plan["reorder_point"]).all()
    assert plan["explanation"].str.startswith("Cover ").all()


def test_plan_csv_through_call_command(tmp_path):
    # given
    history_path, items_path = _write_inputs(tmp_path)
    output = tmp_path / "plan.csv"

    # when
    call_command("plan_csv", history=str(history_path), items=str(items_path), freq="W-MON", output=str(output))

    # then
    _check_plan(pd.read_csv(output))
    assert [path.name for path in tmp_path.iterdir() if path.name.startswith(".")] == []


def test_budget_cuts_are_explained(tmp_path):
    history_path, items_path = _write_inputs(tmp_path)
    output = tmp_path / "plan.csv"

    call_command(
        "plan_csv", history=str(history_path), items=str(items_path), freq="W-MON", output=str(output), budget=0
    )

    plan = pd.read_csv(output, keep_default_na=False)
    assert plan["order_quantity"].tolist() == [0, 0, 0]
    cut = plan[plan["budget_cut"] > 0]
    assert len(cut) > 0
    assert cut["explanation"].str.contains("to fit the total budget of 0.00").all()


def _run(*arguments: str, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": "postgres://nobody@127.0.0.1:9/no_database", **(env_extra or {})}
    return subprocess.run(
        [sys.executable, "manage.py", "plan_csv", *arguments], cwd=ROOT, capture_output=True, text=True, env=env
    )


def test_plan_csv_in_a_process_without_a_database(tmp_path):
    history_path, items_path = _write_inputs(tmp_path)
    output = tmp_path / "plan.csv"

    completed = _run(
        "--history", str(history_path), "--items", str(items_path), "--freq", "W-MON", "--output", str(output)
    )

    assert completed.returncode == 0, completed.stderr
    _check_plan(pd.read_csv(output))


def _bad_case(name: str, directory: Path) -> tuple[list[str], str]:
    """Arguments and the expected start of the message for one bad input."""
    items = dict(ITEMS)
    history = None
    freq, extra = "W-MON", []
    if name == "missing column":
        items = {key: value for key, value in ITEMS.items() if key != "shortage_cost"}
        message = "missing column(s) shortage_cost"
    elif name == "negative cost":
        items = {**ITEMS, "holding_cost": ["0.05", "-0.2", "0.01"]}
        message = "holding_cost -0.2 must be at least 0"
    elif name == "lead time not an integer":
        items = {**ITEMS, "lead_time": ["1", "1.5", "1"]}
        message = "lead_time '1.5' is not a whole number of periods"
    elif name == "item without history":
        items = {key: [*value, value[0]] for key, value in ITEMS.items()}
        items["item_id"][-1] = "new"
        message = "item_id new has no history"
    elif name == "history without item":
        items = {key: value[:2] for key, value in ITEMS.items()}
        message = "item_id packed is not in the items file"
    elif name == "unknown freq":
        freq = "fortnightly"
        message = "--freq 'fortnightly' is not a pandas offset alias"
    elif name == "negative budget":
        extra = ["--budget", "-5"]
        message = "'-5' must be a number at least 0"
    else:
        raise AssertionError(name)
    history_path, items_path = _write_inputs(directory, items=items, history=history)
    output = directory / "plan.csv"
    arguments = ["--history", str(history_path), "--items", str(items_path), "--freq", freq, "--output", str(output)]
    return [*arguments, *extra], message


BAD_INPUTS = [
    "missing column",
    "negative cost",
    "lead time not an integer",
    "item without history",
    "history without item",
    "unknown freq",
    "negative budget",
]


@pytest.mark.parametrize("name", BAD_INPUTS)
def test_bad_input_through_call_command(name, tmp_path):
    arguments, message = _bad_case(name, tmp_path)

    with pytest.raises(CommandError) as raised:
        call_command("plan_csv", *arguments)

    assert message in str(raised.value)
    assert "\n" not in str(raised.value)
    assert not (tmp_path / "plan.csv").exists()


@pytest.mark.parametrize("name", BAD_INPUTS)
def test_bad_input_in_a_process(name, tmp_path):
    arguments, message = _bad_case(name, tmp_path)

    completed = _run(*arguments)

    assert completed.returncode != 0
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1, completed.stderr
    assert message in lines[0]
    assert not (tmp_path / "plan.csv").exists()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["history.csv", "items.csv"]


def test_class_cost_factors_from_the_command_line(tmp_path):
    # given: every item's class is A or B or C; doubling every class's shortage cost is the same as doubling them all
    history_path, items_path = _write_inputs(tmp_path)
    (tmp_path / "doubled").mkdir()
    doubled = {**ITEMS, "shortage_cost": [str(2 * float(cost)) for cost in ITEMS["shortage_cost"]]}
    doubled_history, doubled_items = _write_inputs(tmp_path / "doubled", items=doubled)
    factored, plain = tmp_path / "factored.csv", tmp_path / "plain.csv"

    # when
    call_command(
        "plan_csv",
        "--class-cost",
        "A:shortage_cost=2",
        "--class-cost",
        "B:shortage_cost=2",
        "--class-cost",
        "C:shortage_cost=2",
        history=str(history_path),
        items=str(items_path),
        freq="W-MON",
        output=str(factored),
    )
    call_command("plan_csv", history=str(doubled_history), items=str(doubled_items), freq="W-MON", output=str(plain))

    # then
    pd.testing.assert_frame_equal(pd.read_csv(factored), pd.read_csv(plain))


@pytest.mark.parametrize(
    ("argument", "message"),
    [
        ("C=2", "'C=2' is not CLASS:KIND=FACTOR"),
        ("C:holding_cost=x", "'C:holding_cost=x': 'x' is not a number"),
        ("Q:holding_cost=2", "cost class 'Q' is not one of A, B, C, X, Y, Z or a pair such as AX."),
    ],
)
def test_bad_class_cost_factors_are_one_clear_line(tmp_path, argument, message):
    history_path, items_path = _write_inputs(tmp_path)
    output = tmp_path / "plan.csv"

    completed = _run(
        "--history",
        str(history_path),
        "--items",
        str(items_path),
        "--freq",
        "W-MON",
        "--output",
        str(output),
        "--class-cost",
        argument,
    )

    assert completed.returncode != 0
    assert message in completed.stderr and len(completed.stderr.strip().splitlines()) == 1
    assert not output.exists()
