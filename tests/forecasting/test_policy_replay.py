"""The replay rules on hand-worked demand arrays: lead time, review period, MOQ, case pack and lost sales."""

import numpy as np
import pytest

from forecasting.engine.errors import InputError
from forecasting.policy.replay import (
    ReplayResult,
    SeedRule,
    StaticSS,
    order_quantity,
    replay,
    seed_rule_levels,
    simulate,
)


def test_static_policy_with_lead_time_and_case_pack():
    # given: s=2, S=10, lead time 1, 6 on hand, packs of 4
    demand = np.array([3, 0, 5, 2, 4, 1])

    # when
    result = replay(
        demand, StaticSS(2, 10), lead_time=1, on_hand=6, case_pack=4, holding_cost=1, shortage_cost=5, order_cost=10
    )

    # then: stock 3, 3, 0 (2 lost); position 0 orders 10 -> 12 units at the end of period 2, received at the start
    # of period 4; period 3 loses 2; then 8 and 7 on hand.
    assert result == ReplayResult(
        cost=51.0,
        holding_cost=21.0,
        shortage_cost=20.0,
        order_cost=10.0,
        fill_rate=1 - 4 / 15,
        lost_units=4.0,
        orders=1,
        average_stock=3.5,
    )


def test_moq_raises_small_orders_and_zero_lead_time_serves_the_next_period():
    # given: s=3, S=6, MOQ 10, lead time 0
    demand = np.array([4, 4, 4, 4])

    # when
    result = replay(
        demand, StaticSS(3, 6), lead_time=0, on_hand=5, moq=10, holding_cost=1, shortage_cost=5, order_cost=10
    )

    # then: 1 left, order 5 -> 10 arrives for period 1 (7 left), 3 left, order 3 -> 10 arrives for period 3 (9 left)
    assert result == ReplayResult(
        cost=40.0,
        holding_cost=20.0,
        shortage_cost=0.0,
        order_cost=20.0,
        fill_rate=1.0,
        lost_units=0.0,
        orders=2,
        average_stock=5.0,
    )


def test_review_period_pipeline_and_lost_sales():
    # given: review every 2 periods, lead time 2, 4 units on order arriving at the start of period 1
    demand = np.array([5, 5, 5, 5, 5])

    # when
    result = replay(
        demand,
        StaticSS(4, 12),
        lead_time=2,
        review_period=2,
        on_hand=3,
        on_order_pipeline=(0, 4),
        holding_cost=1,
        shortage_cost=2,
        order_cost=3,
    )

    # then: position 7 > 4 at the first review; 2 and 1 lost; review at period 2 orders 12 for period 4; 5 + 5 lost
    assert result == ReplayResult(
        cost=36.0,
        holding_cost=7.0,
        shortage_cost=26.0,
        order_cost=3.0,
        fill_rate=12 / 25,
        lost_units=13.0,
        orders=1,
        average_stock=1.4,
    )


def test_seed_rule_orders_up_to_its_rolling_level_every_period():
    # given: levels 1.2 x mean of the last 2 periods x cover 2: 4.8, 6, 3.6, 6, 8.4, 7.2
    demand = np.array([3, 0, 5, 2, 4, 1])
    policy = SeedRule(cover=2, window=2, history=(2.0, 2.0))

    # when
    result = replay(demand, policy, lead_time=1, on_hand=6, holding_cost=1, shortage_cost=5, order_cost=10)

    # then: orders of 3, 5, 4 (3.4 rounded up) and 3 (2.2 rounded up); one unit lost in period 3
    np.testing.assert_allclose(policy.levels(demand)[1], [4.8, 6.0, 3.6, 6.0, 8.4, 7.2])
    assert result == ReplayResult(
        cost=57.0,
        holding_cost=12.0,
        shortage_cost=5.0,
        order_cost=40.0,
        fill_rate=14 / 15,
        lost_units=1.0,
        orders=4,
        average_stock=2.0,
    )


@pytest.mark.parametrize(
    ("position", "moq", "expected"),
    [
        (7.0, 25.0, 36.0),  # 23 units -> MOQ 25 -> 3 packs of 12
        (10.0, 25.0, 36.0),  # at s exactly: 20 -> 25 -> 36
        (10.0, 0.0, 24.0),  # no MOQ: 20 -> 2 packs
        (11.0, 0.0, 0.0),  # above s: no order
        (-0.0, 0.0, 36.0),  # 30 -> 3 packs
    ],
)
def test_order_quantity_rounds_to_moq_then_case_pack(position, moq, expected):
    assert order_quantity(position, 10.0, 30.0, moq=moq, case_pack=12.0) == expected


def test_seed_rule_levels_use_only_past_demand():
    history = np.array([[2.0, 4.0]])
    demand = np.array([[6.0, 8.0, 10.0]])

    levels = seed_rule_levels(history, demand, cover=np.array([1]), window=2, multiplier=1.0)

    np.testing.assert_allclose(levels, [[3.0, 5.0, 7.0]])


def test_batch_simulation_matches_one_item_replays():
    # given: three policies and two demand rows simulated at once
    rng = np.random.default_rng(7)
    demand = rng.poisson(4.0, size=(2, 15)).astype(float)
    low = np.array([[3.0], [6.0], [-1.0]])
    high = np.array([[9.0], [20.0], [5.0]])

    # when
    totals = simulate(
        demand[:, None, :],
        low[None, :, :],
        high[None, :, :],
        lead_time=2,
        on_hand=5.0,
        moq=4.0,
        case_pack=3.0,
        holding_cost=0.5,
        shortage_cost=4.0,
        order_cost=7.0,
    )

    # then
    for row in range(2):
        for column in range(3):
            single = replay(
                demand[row],
                StaticSS(low[column, 0], high[column, 0]),
                lead_time=2,
                on_hand=5.0,
                moq=4.0,
                case_pack=3.0,
                holding_cost=0.5,
                shortage_cost=4.0,
                order_cost=7.0,
            )
            assert totals.cost[row, column] == pytest.approx(single.cost)
            assert totals.orders[row, column] == single.orders
    assert (totals.orders[:, 2] == 0).all()


def test_varying_lead_times_let_orders_cross():
    # given: the first order takes 3 periods, the second 0
    demand = np.array([0.0, 0.0, 0.0, 0.0, 0.0])
    leads = np.array([3, 0, 0, 0, 0])

    # when: order up to 10 at every review from an empty start
    totals = simulate(demand, np.array([9.0]), np.array([10.0]), lead_time=leads, on_hand=0.0)

    # then: 10 ordered at the start (arrives period 3); nothing more since the position is 10 from then on
    assert float(totals.units_ordered) == 10.0
    assert float(totals.stock_sum) == 20.0


def test_replay_rejects_negative_demand():
    with pytest.raises(InputError, match="must not be negative"):
        replay(
            np.array([1.0, -1.0]), StaticSS(1, 2), lead_time=0, on_hand=0, holding_cost=1, shortage_cost=1, order_cost=1
        )


def test_a_window_ends_with_the_stock_and_open_orders_to_replay_the_next_from():
    # given: s=2, S=10, lead time 2, 4 on hand; demand 3, 1, 0, 5, 2
    demand = np.array([[3.0, 1.0, 0.0, 5.0, 2.0]])
    levels = {"reorder_point": 2.0, "order_up_to": 10.0, "lead_time": 2, "holding_cost": 1.0, "order_cost": 4.0}

    # when: the first two periods, then the rest from where they left off
    first = simulate(demand[:, :2], on_hand=4.0, **levels)
    rest = simulate(demand[:, 2:], on_hand=first.end_on_hand, pipeline=first.end_pipeline, **levels)
    whole = simulate(demand, on_hand=4.0, **levels)

    # then: period 0 leaves 1 (position 1 orders 9 at the end of period 0, due at the start of period 3, the first
    # slot of the pipeline after period 1); period 1 leaves 0 on hand with those 9 still on order
    assert first.end_on_hand.tolist() == [0.0]
    assert first.end_pipeline.tolist() == [[0.0, 9.0, 0.0, 0.0]]
    # and the two halves cost what the whole window costs (held 1, 0, 0, 4, 2 and one order), ending alike
    assert (first.cost + rest.cost).tolist() == whole.cost.tolist() == [11.0]
    assert rest.end_on_hand.tolist() == whole.end_on_hand.tolist() == [2.0]
    assert rest.end_pipeline.sum() == whole.end_pipeline.sum() == 0.0
