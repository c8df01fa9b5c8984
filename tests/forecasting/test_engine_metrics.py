"""Metrics on small arrays with answers worked out by hand."""

import math

import numpy as np
import pytest

from forecasting.engine import metrics


def test_wape_is_absolute_error_over_actual_demand():
    assert metrics.wape(np.array([[1.0, 2.0, 3.0]]), np.array([[2.0, 2.0, 2.0]])) == pytest.approx(2 / 6)


def test_wape_ignores_censored_actuals():
    assert metrics.wape(np.array([[4.0, np.nan]]), np.array([[3.0, 100.0]])) == pytest.approx(1 / 4)


def test_bias_is_positive_when_over_forecasting():
    assert metrics.bias(np.array([[1.0, 2.0, 3.0]]), np.array([[2.0, 3.0, 4.0]])) == pytest.approx(3 / 6)
    assert metrics.bias(np.array([[1.0, 2.0, 3.0]]), np.array([[2.0, 2.0, 2.0]])) == 0.0


def test_pinball_weights_under_and_over_forecasts_by_the_quantile():
    losses = metrics.pinball(np.array([10.0, 10.0]), np.array([8.0, 12.0]), 0.9)
    np.testing.assert_allclose(losses, [1.8, 0.2])


def test_scaled_quantile_loss_is_twice_pinball_over_actuals():
    # q=0.5: pinball 0.5*2 + 0.5*1 = 1.5; 2 * 1.5 / 10 = 0.3
    value = metrics.scaled_quantile_loss(np.array([[10.0, 0.0]]), np.array([[[8.0, 1.0]]]), [0.5])
    assert value == pytest.approx(0.3)


def test_coverage_counts_actuals_inside_the_band_inclusive():
    value = metrics.coverage(np.array([[1.0, 5.0, 10.0]]), np.zeros((1, 3)), np.array([[2.0, 4.0, 10.0]]))
    assert value == pytest.approx(2 / 3)


def test_mase_scales_by_insample_mean_absolute_difference():
    # |diffs| of 1,3,2,4 are 2,1,2 -> 5/3; window MAE is 1.
    value = metrics.item_mase(np.array([[3.0, 3.0]]), np.array([[2.0, 4.0]]), np.array([[1.0, 3.0, 2.0, 4.0]]))
    np.testing.assert_allclose(value, [0.6])


def test_rmsse_scales_by_insample_mean_squared_difference():
    # squared diffs 4,1,4 -> 3; window MSE is 1.
    value = metrics.item_rmsse(np.array([[3.0, 3.0]]), np.array([[2.0, 4.0]]), np.array([[1.0, 3.0, 2.0, 4.0]]))
    np.testing.assert_allclose(value, [math.sqrt(1 / 3)])


def test_wrmsse_weights_items_by_units_over_the_last_horizon():
    insample = np.array([[1.0, 3.0, 2.0, 4.0], [0.0, 0.0, 1.0, 1.0]])
    actual = np.array([[3.0, 3.0], [1.0, 1.0]])
    forecast = np.array([[2.0, 4.0], [1.0, 1.0]])
    np.testing.assert_allclose(metrics.wrmsse_weights(insample, 2), [0.75, 0.25])
    assert metrics.wrmsse(actual, forecast, insample) == pytest.approx(0.75 * math.sqrt(1 / 3))


def test_wrmsse_skips_items_with_constant_history_and_renormalises():
    insample = np.array([[1.0, 3.0, 2.0, 4.0], [5.0, 5.0, 5.0, 5.0]])
    actual = np.array([[3.0, 3.0], [5.0, 5.0]])
    forecast = np.array([[2.0, 4.0], [0.0, 0.0]])
    assert metrics.wrmsse(actual, forecast, insample) == pytest.approx(math.sqrt(1 / 3))


def test_insample_nan_before_an_item_starts_is_ignored():
    insample = np.array([[np.nan, np.nan, 1.0, 3.0]])
    np.testing.assert_allclose(metrics.rmsse_scale(insample), [4.0])


def test_persistence_correlation_of_errors_that_last_and_of_errors_that_alternate():
    from scipy import special

    low, high = special.ndtri(0.625), special.ndtri(0.875)
    lasting = np.array([[1.0, 2.0], [-1.0, -2.0], [np.nan, 5.0]])  # the row with a gap is left out
    assert metrics.persistence_correlation([lasting]) == pytest.approx(2 * low * high / (low**2 + high**2))
    alternating = np.array([[1.0, -1.0], [-2.0, 2.0]])
    assert metrics.persistence_correlation([alternating]) == 0.0  # negative, clipped
    assert metrics.persistence_correlation([np.ones((3, 1))]) == 0.0  # one period: nothing to persist
    assert metrics.persistence_correlation([]) == 0.0
