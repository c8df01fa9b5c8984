"""Choosing (s, S): the newsvendor fractile, optimality over a grid, service floors and the demand model."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from forecasting.policy.demand import error_correlation, recent_demand_forecast
from forecasting.policy.distribution import (
    demand_model,
    quantile_function,
    quantile_knots,
    sample_paths,
    stratified_normals,
)
from forecasting.policy.optimise import (
    PlanningInputs,
    critical_fractile,
    level_profile,
    newsvendor_level,
    optimise_policies,
    phased_levels,
    textbook_levels,
)
from forecasting.policy.replay import simulate


def _inputs(n=1, *, lead_time=0, holding=1.0, shortage=3.0, order=0.0, moq=0.0, pack=1.0, on_hand=0.0, floor=0.0):
    def full(value):
        return np.full(n, float(value))

    return PlanningInputs(
        lead_time=np.full(n, lead_time, dtype=np.int64),
        review_period=np.ones(n, dtype=np.int64),
        holding_cost=full(holding),
        shortage_cost=full(shortage),
        order_cost=full(order),
        moq=full(moq),
        case_pack=full(pack),
        on_hand=full(on_hand),
        pipeline=np.zeros((n, 1)),
        service_floor=full(floor),
    )


def test_single_period_matches_the_newsvendor_critical_fractile():
    # given: demand 0..9 equally likely, h=1, p=3 -> fractile 0.75 -> smallest S with F(S) >= 0.75 is 7
    paths = np.arange(10.0).reshape(1, 10, 1)
    leads = np.zeros((1, 10, 1), dtype=np.int64)

    # when
    chosen = optimise_policies(paths, leads, _inputs())

    # then: E[(7-D)+] = 2.8 and 3 E[(D-7)+] = 0.9
    assert critical_fractile(1.0, 3.0) == 0.75
    assert newsvendor_level(np.arange(10.0), holding_cost=1.0, shortage_cost=3.0) == 7.0
    assert chosen.order_up_to[0] == 7.0
    assert chosen.order_now[0] == 7.0
    assert chosen.expected_cost[0] == pytest.approx(3.7)
    assert chosen.expected_cost_without_order[0] == pytest.approx(13.5)


def _grid_costs(paths, leads, inputs, low, high):
    totals = simulate(
        paths[:, None, :, :],
        low[None, :, None, None],
        high[None, :, None, None],
        lead_time=leads[:, None, :, :],
        on_hand=inputs.on_hand[0],
        holding_cost=inputs.holding_cost[0],
        shortage_cost=inputs.shortage_cost[0],
        order_cost=inputs.order_cost[0],
        moq=inputs.moq[0],
        case_pack=inputs.case_pack[0],
    )
    return totals.cost.mean(axis=2)[0]


@pytest.mark.parametrize(
    ("probabilities", "lead_time", "order_cost", "pack"),
    [((0.5, 0.3, 0.2), 0, 2.0, 1.0), ((0.6, 0.2, 0.1, 0.1), 1, 3.0, 2.0)],
)
def test_optimiser_beats_or_equals_every_grid_point(probabilities, lead_time, order_cost, pack):
    # given: a known discrete demand distribution, sampled once (common random numbers for every policy)
    rng = np.random.default_rng(3)
    paths = rng.choice(len(probabilities), p=probabilities, size=(1, 200, 10)).astype(float)
    leads = np.full(paths.shape, lead_time, dtype=np.int64)
    inputs = _inputs(lead_time=lead_time, holding=0.2, shortage=2.0, order=order_cost, pack=pack, on_hand=2.0)
    low = np.array([s for s in range(-1, 6) for big in range(s + 1, 16)], dtype=float)
    high = np.array([big for s in range(-1, 6) for big in range(s + 1, 16)], dtype=float)

    # when
    chosen = optimise_policies(paths, leads, inputs)

    # then
    grid = _grid_costs(paths, leads, inputs, low, high)
    assert chosen.expected_cost[0] <= grid.min() + 1e-4


def test_a_service_floor_buys_a_higher_fill_rate():
    # given: cheap lost sales, so the unconstrained optimum lets fill rate drop
    rng = np.random.default_rng(5)
    paths = rng.poisson(3.0, size=(2, 200, 12)).astype(float)
    leads = np.ones(paths.shape, dtype=np.int64)
    free = _inputs(2, lead_time=1, holding=1.0, shortage=0.5, order=5.0, on_hand=8.0)
    floored = _inputs(2, lead_time=1, holding=1.0, shortage=0.5, order=5.0, on_hand=8.0, floor=0.95)

    # when
    loose = optimise_policies(paths, leads, free)
    strict = optimise_policies(paths, leads, floored)

    # then
    assert (loose.expected_fill_rate < 0.95).all()
    assert (strict.expected_fill_rate >= 0.95).all()
    assert strict.floor_met.all()
    assert (strict.expected_cost >= loose.expected_cost).all()


def test_textbook_levels():
    reorder_point, order_up_to = textbook_levels(
        np.array([10.0]),
        np.array([3.0]),
        cover=np.array([4]),
        holding_cost=np.array([0.5]),
        order_cost=np.array([10.0]),
    )
    # s = 4 x 10 + 1.645 x 3 x sqrt(4); EOQ = sqrt(2 x 10 x 10 / 0.5) = 20
    assert reorder_point[0] == pytest.approx(49.87)
    assert order_up_to[0] == pytest.approx(69.87)


def test_quantile_function_runs_through_the_quantiles_and_matches_the_mean():
    # given: median 2, p90 6, mean 3 -> knots 0, 2, 6 (first slope 10 puts the bottom at 0); body mean 2.1,
    # so the exponential tail above p90 needs scale (3 - 2.1) / 0.1 - 6 = 3
    knots, tail = quantile_knots(np.array(3.0), np.array([2.0, 6.0]), np.array([0.5, 0.9]))

    values = quantile_function(np.array([0.5, 0.9]), knots, tail, np.array([0.25, 0.7, 0.99]))

    np.testing.assert_allclose(knots, [0.0, 2.0, 6.0])
    assert float(tail) == pytest.approx(3.0)
    np.testing.assert_allclose(values, [1.0, 4.0, 6.0 + 3.0 * np.log(10.0)])


def test_quantiles_that_imply_more_than_the_mean_are_scaled_down_to_it():
    # given: mean 3, median 8, p90 24 -> knots 0, 8, 24 imply at least 0.5 x 4 + 0.4 x 16 + 0.1 x (24 + 2) = 11
    # with the thinnest tail (half the last slope 40, times 0.1: 2); scaled by 3 / 11 they imply exactly 3
    knots, tail = quantile_knots(np.array(3.0), np.array([8.0, 24.0]), np.array([0.5, 0.9]))

    np.testing.assert_allclose(knots, [0.0, 24.0 / 11.0, 72.0 / 11.0])
    assert float(tail) == pytest.approx(6.0 / 11.0)
    grid = np.linspace(0.0005, 0.9995, 1000)
    assert quantile_function(np.array([0.5, 0.9]), knots, tail, grid).mean() == pytest.approx(3.0, rel=0.01)


def test_stratified_normals_put_one_draw_in_each_stratum():
    normals = stratified_normals(np.random.default_rng(0), items=2, paths=50, width=3)

    assert normals.shape == (2, 50, 3)
    strata = np.floor(stats.norm.cdf(normals) * 50)
    for item in range(2):
        for column in range(3):
            assert sorted(strata[item, :, column].tolist()) == list(range(50))
    assert not np.array_equal(normals[0, :, 0], normals[0, :, 1])  # columns are shuffled independently


def test_intermittent_forecast_keeps_its_mass_at_zero():
    forecasts = pd.DataFrame(
        {
            "item_id": ["a"],
            "date": [pd.Timestamp("2024-01-01")],
            "mean": [0.7],
            "p10": [0.0],
            "p50": [0.0],
            "p90": [2.0],
        }
    )

    paths = sample_paths(demand_model(forecasts), paths=4000, rng=np.random.default_rng(0))

    assert (paths[0, :, 0] == 0).mean() >= 0.5
    assert paths.mean() == pytest.approx(0.7, abs=0.05)


def test_recent_demand_forecast_is_the_recent_empirical_distribution():
    dates = pd.date_range("2024-01-01", periods=4, freq="W-MON")
    history = pd.DataFrame({"item_id": ["a"] * 4, "date": dates, "quantity": [1.0, 3.0, 5.0, 7.0]})

    found = recent_demand_forecast(history, horizon=2, freq="W-MON", quantiles=(0.5,))

    assert found.correlation == 0.0  # too little history to backtest
    assert found.forecasts.to_dict("list") == {
        "item_id": ["a", "a"],
        "date": [pd.Timestamp("2024-01-29"), pd.Timestamp("2024-02-05")],
        "mean": [4.0, 4.0],
        "p50": [4.0, 4.0],
    }


def _history(values):
    dates = pd.date_range("2024-01-01", periods=values.shape[1], freq="D")
    return pd.DataFrame(
        {
            "item_id": np.repeat([f"i{k}" for k in range(values.shape[0])], values.shape[1]),
            "date": np.tile(dates, values.shape[0]),
            "quantity": values.reshape(-1),
        }
    )


def test_error_correlation_is_high_when_a_level_shift_persists_and_zero_when_demand_repeats():
    flat = np.full((3, 40), 5.0)
    shifted = np.concatenate([np.full((3, 32), 5.0), np.full((3, 8), 9.0)], axis=1)

    assert error_correlation(_history(flat), horizon=8, freq="D", origins=1) == 0.0
    assert error_correlation(_history(shifted), horizon=8, freq="D", origins=1) == 0.9


def test_level_profile_is_the_forecast_over_each_reviews_cover_period_relative_to_the_first():
    # given: cover 2 periods; the horizon's last period repeats beyond it; an item forecast at 0 now stays flat
    mean = np.array([[1.0, 1.0, 3.0, 3.0], [0.0, 0.0, 5.0, 5.0]])

    # when
    profile = level_profile(mean, np.array([2, 2]), 4)

    # then: covers 1+1, 1+3, 3+3, 3+3 -> 2, 4, 6, 6
    assert profile.tolist() == [[1.0, 2.0, 3.0, 3.0], [1.0, 1.0, 1.0, 1.0]]


def test_phased_levels_scale_and_round_both_levels_and_keep_never_ordering():
    low, high = phased_levels(np.array([[4.0, -1.0]]), np.array([[5.0, 1.0]]), np.array([[1.0, 1.5, 0.1]]))

    assert low.tolist() == [[[4.0, 6.0, 0.0], [-1.0, -1.0, -1.0]]]
    assert high.tolist() == [[[5.0, 8.0, 1.0], [1.0, 1.0, 1.0]]]
    static_low, static_high = phased_levels(np.array([[4.0]]), np.array([[5.0]]), None)
    assert static_low.tolist() == [[[4.0]]] and static_high.tolist() == [[[5.0]]]


def test_levels_that_follow_a_known_peak_do_not_stock_for_it_today():
    # given: known demand 2 a period with a peak of 10 in periods 4 and 5, no lead time, holding 1, shortage 3
    demand = np.array([2.0, 2.0, 2.0, 2.0, 10.0, 10.0, 2.0, 2.0])
    paths = np.broadcast_to(demand, (1, 20, 8)).copy()
    leads = np.zeros((1, 20, 8), dtype=np.int64)
    static_inputs = _inputs()
    phased_inputs = PlanningInputs(
        **{**static_inputs.__dict__, "level_profile": level_profile(demand[None, :], np.array([1]), 8)}
    )

    # when
    static = optimise_policies(paths, leads, static_inputs)
    phased = optimise_policies(paths, leads, phased_inputs)

    # then: a static order-up-to level must trade the peak against holding in every other period; levels that
    # follow the forecast order exactly each period's demand: no stock is held and nothing is lost
    assert phased.expected_cost[0] == 0.0
    assert phased.order_up_to[0] == 2.0
    assert phased.order_now[0] == 2.0
    assert phased.level_profile[0].tolist() == [1.0, 1.0, 1.0, 1.0, 5.0, 5.0, 1.0, 1.0]
    assert (static.reorder_point[0], static.order_up_to[0], static.order_now[0]) == (3.0, 10.0, 10.0)
    assert static.expected_cost[0] == 34.0
