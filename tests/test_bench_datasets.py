"""``bench.datasets.earlier_window``: the benchmarks' check on held-out windows other than the last one."""

import re

import pandas as pd
import pytest

from bench.datasets import Split, earlier_window


def _split() -> Split:
    dates = pd.date_range("2024-01-01", periods=10, freq="W-MON")
    frame = pd.DataFrame({"item_id": ["a"] * 10 + ["b"] * 10, "date": list(dates) * 2, "quantity": range(20)})
    features = pd.DataFrame({"item_id": ["a"] * 12, "date": pd.date_range("2024-01-01", periods=12, freq="W-MON")})
    train, test = frame[frame["date"] < dates[8]], frame[frame["date"] >= dates[8]]
    return Split(name="toy", train=train, test=test, freq="W-MON", horizon=2, features=features)


def test_the_window_moves_back_and_later_dates_are_dropped():
    split = _split()

    moved = earlier_window(split, 3)

    dates = pd.date_range("2024-01-01", periods=10, freq="W-MON")
    assert sorted(moved.train["date"].unique()) == list(dates[:5])
    assert sorted(moved.test["date"].unique()) == list(dates[5:7])
    assert moved.test["quantity"].tolist() == [5, 6, 15, 16]
    assert (moved.horizon, moved.freq, moved.features["date"].max()) == (2, "W-MON", dates[6])


def test_back_zero_is_the_split_itself_and_too_far_is_refused():
    split = _split()

    assert earlier_window(split, 0) is split
    with pytest.raises(ValueError, match=re.escape("toy: cannot go back 8 periods; the training window has 8.")):
        earlier_window(split, 8)
