"""``manage.py forecast_csv``: the CSV contract, in process and as a subprocess."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from django.core.management import CommandError, call_command

REPOSITORY = Path(__file__).resolve().parents[2]
FAST_ARGUMENTS = ["--freq", "W-WED", "--horizon", "3"]


def write_history(path: Path, *, items: int = 4, periods: int = 30) -> Path:
    rng = np.random.default_rng(0)
    dates = pd.date_range("2024-01-03", periods=periods, freq="W-WED")
    rows = [
        (f"sku{item}", date.strftime("%Y-%m-%d"), int(quantity))
        for item in range(items)
        for date, quantity in zip(dates, rng.poisson(3 + 2 * item, periods), strict=True)
        if quantity > 0
    ]
    pd.DataFrame(rows, columns=["item_id", "date", "quantity"]).to_csv(path, index=False)
    return path


def write_features(path: Path, *, items: int = 4, periods: int = 33) -> Path:
    dates = pd.date_range("2024-01-03", periods=periods, freq="W-WED")
    rows = [
        (f"sku{item}", date.strftime("%Y-%m-%d"), index % 2)
        for item in range(items)
        for index, date in enumerate(dates)
    ]
    pd.DataFrame(rows, columns=["item_id", "date", "promotion"]).to_csv(path, index=False)
    return path


def test_call_command_writes_one_row_per_item_and_future_period(tmp_path):
    history = write_history(tmp_path / "history.csv")
    output = tmp_path / "forecast.csv"
    call_command("forecast_csv", "--history", str(history), "--output", str(output), *FAST_ARGUMENTS)
    frame = pd.read_csv(output, dtype={"date": str})
    assert list(frame.columns) == ["item_id", "date", "mean", "p10", "p50", "p90"]
    assert len(frame) == 4 * 3
    assert sorted(frame["date"].unique()) == ["2024-07-31", "2024-08-07", "2024-08-14"]
    assert (frame[["mean", "p10", "p50", "p90"]] >= 0).all().all()
    assert (frame["p10"] <= frame["p50"]).all() and (frame["p50"] <= frame["p90"]).all()
    assert [path.name for path in tmp_path.iterdir() if path.name.startswith(".")] == []


def test_call_command_with_features_and_custom_quantiles(tmp_path):
    history = write_history(tmp_path / "history.csv")
    features = write_features(tmp_path / "features.csv")
    output = tmp_path / "forecast.csv"
    call_command(
        "forecast_csv",
        "--history", str(history), "--features", str(features), "--output", str(output),
        "--quantiles", "5,50,97.5", *FAST_ARGUMENTS,
    )  # fmt: skip
    frame = pd.read_csv(output)
    assert list(frame.columns) == ["item_id", "date", "mean", "p5", "p50", "p97.5"]
    assert len(frame) == 12


def test_subprocess_success(tmp_path):
    history = write_history(tmp_path / "history.csv", items=2)
    output = tmp_path / "forecast.csv"
    completed = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "forecast_csv",
            "--history",
            str(history),
            "--output",
            str(output),
            *FAST_ARGUMENTS,
        ],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    assert len(pd.read_csv(output)) == 6


def bad_cases(tmp_path: Path) -> dict[str, tuple[list[str], str]]:
    good = write_history(tmp_path / "good.csv")
    missing_column = tmp_path / "missing_column.csv"
    pd.read_csv(good).drop(columns="quantity").to_csv(missing_column, index=False)
    bad_date = tmp_path / "bad_date.csv"
    pd.read_csv(good).astype({"date": str}).assign(date=lambda f: f["date"].where(f.index != 2, "2024-13-45")).to_csv(
        bad_date, index=False
    )
    negative = tmp_path / "negative.csv"
    pd.read_csv(good).assign(quantity=lambda f: f["quantity"].where(f.index != 1, -5)).to_csv(negative, index=False)
    duplicate = tmp_path / "duplicate.csv"
    frame = pd.read_csv(good)
    pd.concat([frame, frame.iloc[[0]]]).to_csv(duplicate, index=False)
    short_features = write_features(tmp_path / "short_features.csv", periods=31)
    return {
        "missing column": (["--history", str(missing_column), *FAST_ARGUMENTS], "missing column(s) quantity"),
        "unparseable date": (["--history", str(bad_date), *FAST_ARGUMENTS], "'2024-13-45' is not a date"),
        "negative quantity": (["--history", str(negative), *FAST_ARGUMENTS], "quantity -5 is negative"),
        "duplicate row": (["--history", str(duplicate), *FAST_ARGUMENTS], "duplicate row for item_id sku0"),
        "horizon 0": (["--history", str(good), "--freq", "W-WED", "--horizon", "0"], "--horizon must be at least 1"),
        "features short of horizon": (
            ["--history", str(good), "--features", str(short_features), *FAST_ARGUMENTS],
            "features must cover the 3-period horizon",
        ),
        "bad quantiles": (["--history", str(good), "--quantiles", "10,abc", *FAST_ARGUMENTS], "'abc' is not a number"),
        "quantile out of range": (
            ["--history", str(good), "--quantiles", "0,50", *FAST_ARGUMENTS],
            "between 0 and 100",
        ),
    }


CASES = [
    "missing column",
    "unparseable date",
    "negative quantity",
    "duplicate row",
    "horizon 0",
    "features short of horizon",
    "bad quantiles",
    "quantile out of range",
]


@pytest.mark.parametrize("case", CASES)
def test_call_command_rejects_bad_input_and_writes_nothing(tmp_path, case):
    arguments, message = bad_cases(tmp_path)[case]
    output = tmp_path / "out" / "forecast.csv"
    output.parent.mkdir()
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call_command("forecast_csv", *arguments, "--output", str(output))
    assert list(output.parent.iterdir()) == []


def test_subprocess_rejects_each_bad_input_with_one_line_and_no_output(tmp_path):
    # Started together so that the interpreter start-ups overlap.
    cases = bad_cases(tmp_path)
    running = {}
    for index, case in enumerate(CASES):
        arguments, _ = cases[case]
        output = tmp_path / f"out{index}" / "forecast.csv"
        output.parent.mkdir()
        command = [sys.executable, "manage.py", "forecast_csv", *arguments, "--output", str(output)]
        running[case] = (
            subprocess.Popen(command, cwd=REPOSITORY, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True),
            output,
        )
    for case, (process, output) in running.items():
        _, stderr = process.communicate(timeout=180)
        message = cases[case][1]
        assert process.returncode != 0, case
        assert stderr.strip().count("\n") == 0, (case, stderr)
        assert message in stderr, (case, stderr)
        assert list(output.parent.iterdir()) == [], case
