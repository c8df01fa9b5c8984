"""``bench.policy_cost``: where the rest of the gap to the hindsight bound is, and ours planned again in the window."""

import numpy as np
import pandas as pd

from bench.datasets import Split, split_last_window
from bench.policy_cost import Economics, economics_for, ours, worst_items


def test_worst_items_rank_by_cost_above_the_bound_with_their_share_of_it():
    train = np.array([[1.0] * 9 + [5.0] * 4, [2.0] * 13, [0.0] * 13])
    test = np.array([[8.0, 10.0], [2.0, 2.0], [0.0, 1.0]])

    worst = worst_items(
        np.array(["a", "b", "c"]), train, test, np.array([50.0, 12.0, 30.0]), np.array([10.0, 10.0, 0.0]), 2
    )

    assert worst["item_id"].tolist() == ["a", "c"]
    assert worst["excess"].tolist() == [40.0, 30.0]
    assert worst["share_of_gap"].tolist() == [40 / 72, 30 / 72]
    assert worst["mean_last_13"].tolist() == [29 / 13, 0.0]
    assert worst["mean_last_4"].tolist() == [5.0, 0.0]
    assert worst["mean_held_out"].tolist() == [9.0, 0.5]


def _split_with_a_jump() -> Split:
    # given: three weekly items over 30 weeks; item "a" sells 2 a week until the held-out window, then 40
    dates = pd.date_range("2024-01-01", periods=30, freq="W-MON")
    frame = pd.DataFrame(
        [
            (item, date, float(40 if item == "a" and week >= 26 else 2 + (week % 3 if item != "c" else 0)))
            for item in ("a", "b", "c")
            for week, date in enumerate(dates)
        ],
        columns=["item_id", "date", "quantity"],
    )
    return split_last_window(frame, name="jump", freq="W-MON", horizon=4)


def _economics(split: Split) -> tuple[np.ndarray, Economics]:
    train = split.train.pivot(index="item_id", columns="date", values="quantity").sort_index()
    test = split.test.pivot(index="item_id", columns="date", values="quantity").reindex(train.index)
    return test.to_numpy(dtype=float), economics_for(split, train.to_numpy(dtype=float), train.index.to_numpy())


def test_ours_plans_again_on_the_demand_seen_and_keeps_the_first_plan_as_the_plan_made_once():
    split = _split_with_a_jump()
    test, economics = _economics(split)

    # when: a plan every period, and one plan for the whole window
    every = ours(split, test, economics, replan=1, paths=50, recent=True)
    single = ours(split, test, economics, replan=4, paths=50, recent=True)

    # then: four plans; the first is the plan made once, which one plan keeps over the window
    assert (every.plans, single.plans) == (4, 1)
    assert every.low[:, 0].tolist() == every.once_low[:, 0].tolist()
    assert single.low.tolist() == single.once_low.tolist() == every.once_low.tolist()
    assert single.high.tolist() == single.once_high.tolist() == every.once_high.tolist()
    # and "a" (lead time 1, 6 on hand): the first plan orders up to 21; after week 1 those 15 units are due and its
    # plan orders nothing; from week 2 its plans see the jump to 40 and raise both levels. "b" and "c" hold enough
    # for the window and never order (s = -1).
    assert every.low.tolist() == [[6.0, -1.0, 59.0, 52.0], [-1.0] * 4, [-1.0] * 4]
    assert every.high.tolist() == [[21.0, 0.0, 60.0, 53.0], [0.0] * 4, [0.0] * 4]
    assert every.once_high.tolist() == [[21.0] * 4, [0.0] * 4, [0.0] * 4]
