"""The pure cold-start core on small arrays with known answers."""

import numpy as np
import pandas as pd
import pytest

from forecasting.coldstart import (
    ColdStartConfig,
    blend_with_history,
    coldstart_estimate,
    coldstart_forecast,
    combine_estimates,
    fit_price_elasticity,
    nearest,
    reference_units,
)
from forecasting.coldstart.estimate import ColdStartEstimate, weighted_median
from forecasting.coldstart.similarity import Neighbours


def sales(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["item_id", "date", "quantity"])
    return frame.assign(date=pd.to_datetime(frame["date"]))


def test_reference_units_are_age_aligned_and_scaled_by_coverage():
    # given: A launched on Jan 1 (sells 10 in week 1, 5 in week 2, 100 in week 3), B launched Jan 8 with 7,
    # C launched three days before the end of the history
    history = sales(
        [
            ("A", "2024-01-01", 10),
            ("A", "2024-01-09", 5),
            ("A", "2024-01-15", 100),
            ("B", "2024-01-07", 0),
            ("B", "2024-01-08", 7),
            ("C", "2024-01-19", 3),
        ]
    )
    # when
    units = reference_units(history, weeks=2, as_of=pd.Timestamp("2024-01-21"))
    # then: A's two weeks are Jan 1-14; B's Jan 8-21, fully observed; C (3 days) is too short to be a reference
    frame = units.frame().set_index("item_id")
    assert list(frame.index) == ["A", "B"]
    assert frame.loc["A", "units"] == 15
    assert frame.loc["B", "units"] == 7
    assert frame.loc["A", "coverage"] == 1.0
    # with a cut-off ten days after B's launch B is seen for 10 of 14 days: scaled up, down-weighted
    early = reference_units(history, weeks=2, as_of=pd.Timestamp("2024-01-17")).frame().set_index("item_id")
    assert early.loc["B", "coverage"] == pytest.approx(10 / 14)
    assert early.loc["B", "units"] == pytest.approx(7 * 14 / 10)


def test_nearest_ranks_breaks_ties_in_order_and_excludes():
    similarity = np.array([[0.2, 0.9, 0.9, 0.0], [0.5, 1.0, 0.1, 0.3]])
    found = nearest(similarity, k=3, exclude=np.array([-1, 1]))
    assert found.indices.tolist() == [[1, 2, 0], [0, 3, 2]]
    assert found.similarities.tolist() == [[0.9, 0.9, 0.2], [0.5, 0.3, 0.1]]
    masked = nearest(similarity, k=5, allowed=np.array([True, False, True, False]))
    assert masked.indices.tolist() == [[2, 0, -1, -1, -1], [0, 2, -1, -1, -1]]


def test_weighted_median_matches_median_for_equal_weights_and_follows_weights():
    assert weighted_median(np.array([1.0, 5.0, 2.0, 4.0]), np.ones(4)) == 3.0
    assert weighted_median(np.array([1.0, 2.0, 3.0]), np.array([0.0, 0.0, 1.0])) == 3.0
    # midpoints of cumulative weight 1.5 (value 1) and 3.5 (value 10); half the total weight is 2
    assert weighted_median(np.array([1.0, 10.0]), np.array([3.0, 1.0])) == pytest.approx(1.0 + 9.0 * 0.25)


def test_price_elasticity_recovers_the_slope_and_is_clipped():
    log_prices = np.log(np.array([1.0, 2.0, 4.0, 8.0]))
    log_units = 5.0 - 0.5 * log_prices
    neighbours = nearest(np.ones((4, 4)), k=3, exclude=np.arange(4))
    assert fit_price_elasticity(log_units=log_units, log_prices=log_prices, neighbours=neighbours) == pytest.approx(
        -0.5
    )
    steep = 5.0 - 3.0 * log_prices
    assert fit_price_elasticity(log_units=steep, log_prices=log_prices, neighbours=neighbours) == -1.5
    flat = fit_price_elasticity(log_units=log_units, log_prices=np.zeros(4), neighbours=neighbours)
    assert flat == 0.0


def test_estimate_is_price_adjusted_weighted_median_and_names_neighbours():
    history = sales([("A", "2024-01-01", 99), ("B", "2024-01-01", 9), ("C", "2024-01-01", 999)])
    references = reference_units(history, weeks=1, as_of=pd.Timestamp("2024-01-31"))
    neighbours = Neighbours(indices=np.array([[0, 1, -1], [-1, -1, -1]]), similarities=np.array([[0.9, 0.3, 0.0]] * 2))
    estimates = coldstart_estimate(
        item_ids=["NEW", "ODD"],
        log_prices=np.log(np.array([2.0, 1.0])),
        neighbours=neighbours,
        references=references,
        reference_log_prices=np.log(np.array([1.0, 1.0, 1.0])),
        elasticity=-1.0,
    )
    new, odd = estimates
    # weights 0.09 (B, log 10) and 0.81 (A, log 100): half the total weight, 0.45, lies between the midpoints
    # 0.045 and 0.495; then the doubled price at elasticity -1 takes log 2 off
    expected = np.interp(0.45, [0.045, 0.495], [np.log(10), np.log(100)]) - np.log(2)
    assert new.log_units == pytest.approx(expected)
    assert new.similar_items == ("A", "B")
    assert new.similarities == (0.9, 0.3)
    # nothing similar: the median of all references, naming none
    assert odd.log_units == pytest.approx(np.log(100))
    assert odd.similar_items == ()


def test_blend_moves_to_own_history_as_it_accumulates():
    cold = ColdStartEstimate("X", log_units=float(np.log1p(80)), similar_items=("A",), similarities=(0.8,), weeks=8)
    none = blend_with_history(cold, units_observed=0, observed_days=0)
    assert none.log_units == cold.log_units
    assert none.own_weight == 0.0
    two_weeks = blend_with_history(cold, units_observed=5, observed_days=14, prior_weeks=2.0)
    assert two_weeks.own_weight == 0.5
    assert two_weeks.log_units == pytest.approx(0.5 * np.log1p(80) + 0.5 * np.log1p(20))
    assert two_weeks.similar_items == ("A",)
    assert two_weeks.weekly_units == pytest.approx(two_weeks.expected_units / 8)


def test_coldstart_forecast_targets_products_with_short_history():
    history = sales(
        [("A", "2024-01-01", 40), ("B", "2024-01-01", 40), ("C", "2024-03-20", 2)]
        + [("A", f"2024-01-{day:02d}", 1) for day in range(2, 29)]
    )
    similarity = np.array(
        [[1.0, 0.5, 0.2, 0.8], [0.5, 1.0, 0.2, 0.1], [0.2, 0.2, 1.0, 0.6], [0.8, 0.1, 0.6, 1.0]], dtype=np.float32
    )
    results = coldstart_forecast(
        history=history,
        item_ids=["A", "B", "C", "NEW"],
        prices=np.array([1.0, 1.0, 1.0, 1.0]),
        similarity=similarity,
        config=ColdStartConfig(weeks=4, neighbours=2, min_history_weeks=4, fit_elasticity=False),
        as_of=pd.Timestamp("2024-03-31"),
    )
    by_item = {result.item_id: result for result in results}
    # C has 12 days of its own sales (a short history, blended); NEW has none; A and B are references
    assert sorted(by_item) == ["C", "NEW"]
    assert by_item["NEW"].similar_items == ("A", "C")
    assert by_item["NEW"].own_weight == 0.0
    assert by_item["C"].similar_items == ("A", "B")  # never itself
    assert 0 < by_item["C"].own_weight < 1
    # a callable similarity gives the same answer as the matrix
    same = coldstart_forecast(
        history=history,
        item_ids=["A", "B", "C", "NEW"],
        prices=np.ones(4),
        similarity=lambda rows, columns: similarity[np.ix_(rows, columns)],
        config=ColdStartConfig(weeks=4, neighbours=2, min_history_weeks=4, fit_elasticity=False),
        as_of=pd.Timestamp("2024-03-31"),
    )
    assert [result.log_units for result in same] == [result.log_units for result in results]


def test_when_every_product_is_days_old_their_run_rates_are_the_references():
    history = sales([("A", "2024-01-01", 5), ("A", "2024-01-05", 7)])
    (result,) = coldstart_forecast(
        history=history,
        item_ids=["A", "NEW"],
        prices=np.ones(2),
        similarity=np.array([[1.0, 0.5], [0.5, 1.0]]),
        config=ColdStartConfig(weeks=4, fit_elasticity=False),
        targets=["NEW"],
    )
    assert result.similar_items == ("A",)
    assert result.expected_units == pytest.approx(12 * 28 / 5)


def test_views_are_combined_in_log_space_and_name_their_neighbours_in_turn():
    tfidf = ColdStartEstimate("N", float(np.log1p(99)), ("A", "B"), (0.9, 0.8), 8)
    model = ColdStartEstimate("N", float(np.log1p(9)), ("C", "A"), (0.7, 0.6), 8)
    (combined,) = combine_estimates([[tfidf], [model]], [0.75, 0.25])
    assert combined.log_units == pytest.approx(0.75 * np.log(100) + 0.25 * np.log(10))
    assert combined.similar_items == ("A", "C", "B")
    assert combined.similarities == (0.9, 0.7, 0.8)
    with pytest.raises(ValueError, match="one weight per view"):
        combine_estimates([[tfidf], [model]], [1.0])
    with pytest.raises(ValueError, match="same product order"):
        combine_estimates([[tfidf], [ColdStartEstimate("M", 0.0, (), (), 8)]], [1.0, 1.0])


def test_coldstart_forecast_under_two_views_averages_each_views_estimate():
    history = sales([("A", "2024-01-01", 99), ("B", "2024-01-01", 9), ("C", "2024-01-01", 0.5)])
    first = np.array([[1, 0.1, 0.1, 0.9], [0.1, 1, 0.1, 0.2], [0.1, 0.1, 1, 0.1], [0.9, 0.2, 0.1, 1]])
    second = np.array([[1, 0.1, 0.1, 0.2], [0.1, 1, 0.1, 0.9], [0.1, 0.1, 1, 0.1], [0.2, 0.9, 0.1, 1]])
    arguments = {
        "history": history,
        "item_ids": ["A", "B", "C", "NEW"],
        "prices": np.ones(4),
        "config": ColdStartConfig(weeks=1, neighbours=1, fit_elasticity=False),
        "as_of": pd.Timestamp("2024-01-31"),
        "targets": ["NEW"],
    }
    (alone,) = coldstart_forecast(similarity=first, **arguments)
    assert alone.expected_units == pytest.approx(99)
    (both,) = coldstart_forecast(similarity=[first, second], view_weights=[0.5, 0.5], **arguments)
    assert both.log_units == pytest.approx(0.5 * np.log(100) + 0.5 * np.log(10))
    assert both.similar_items == ("A", "B")
    (second_only,) = coldstart_forecast(similarity=[first, second], view_weights=[0.0, 1.0], **arguments)
    assert second_only.expected_units == pytest.approx(9)
    with pytest.raises(ValueError, match="1 weight\\(s\\) for 2 similarity view"):
        coldstart_forecast(similarity=[first, second], view_weights=[1.0], **arguments)
