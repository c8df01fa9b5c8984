"""``bench.policy_cost.worst_items``: where the rest of the gap to the hindsight bound is."""

import numpy as np

from bench.policy_cost import worst_items


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
