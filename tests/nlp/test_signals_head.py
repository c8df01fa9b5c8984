"""The learned head, the per-product features and the product matching, on arrays with known answers."""

import numpy as np
import pandas as pd
import pytest

from nlp.signals.features import text_features
from nlp.signals.head import (
    MIN_TRAINING_TEXTS,
    demand_change_targets,
    fit_demand_head,
    grid_positions,
    history_grid,
    infer_freq,
    partial_demand_change_targets,
)
from nlp.signals.matching import match_products


def daily(item: str, values: list[float]) -> pd.DataFrame:
    dates = pd.date_range("2026-01-01", periods=len(values), freq="D")
    return pd.DataFrame({"item_id": item, "date": dates, "quantity": values})


def test_demand_change_target_is_log_ratio_of_the_days_after_to_the_days_before():
    history = daily("A", [1, 1, 1, 1, 3, 3, 3, 3])
    targets = demand_change_targets(
        history,
        pd.Series(["A", "A", "A", "B"]),
        pd.Series(pd.to_datetime(["2026-01-04", "2026-01-06", "2025-12-01", "2026-01-04"])),
        ahead=2,
        past=2,
    )
    assert targets[0] == np.log1p(3.0) - np.log1p(1.0)
    assert targets[1] == 0.0
    assert np.isnan(targets[2])  # before the history
    assert np.isnan(targets[3])  # item without history


def test_partial_targets_cover_the_periods_the_history_already_holds_after_the_latest_texts():
    history = daily("A", [1, 1, 1, 1, 3, 3, 3, 3])
    dates = pd.Series(pd.to_datetime(["2026-01-02", "2026-01-04", "2026-01-07", "2026-01-08"]))
    first, observed = partial_demand_change_targets(history, pd.Series(["A"] * 4), dates, ahead=3, past=2, min_ahead=2)
    assert observed.tolist() == [3, 3, 0, 0]  # the 7th has one day after it (fewer than 2), the 8th none
    assert first[0] == np.log1p(5 / 3) - np.log1p(1.0)
    assert first[1] == np.log1p(3.0) - np.log1p(1.0)
    assert np.isnan(first[2:]).all()
    targets, observed = partial_demand_change_targets(
        history, pd.Series(["A"] * 4), dates, ahead=7, past=2, min_ahead=1
    )
    assert observed.tolist() == [6, 4, 1, 0]
    assert targets[1] == np.log1p(3.0) - np.log1p(1.0)  # days 5-8, all the history holds of the 7 after
    assert targets[2] == 0.0
    full = demand_change_targets(history, pd.Series(["A"] * 4), dates, ahead=3, past=2)
    assert np.isnan(full[2:]).all() and full[:2].tolist() == first[:2].tolist()


def test_head_learns_new_wording_from_partial_outcomes_of_other_products_only():
    rng = np.random.default_rng(1)
    old = rng.normal(size=(200, 2))
    features = np.vstack([np.hstack([old, np.zeros((200, 1))]), np.zeros((20, 3))])
    features[200:, 2] = np.tile([1.0, -1.0], 10)  # a wording only the latest texts use, in two senses
    targets = np.concatenate([old @ np.array([1.0, -0.5]), -1.5 * features[200:, 2]])
    observed = np.array([7] * 200 + [3] * 20)
    groups = np.array(["old"] * 200 + [f"P{index // 2}" for index in range(20)], dtype=object)
    fit = fit_demand_head(features, targets, np.arange(220), observed=observed, groups=groups)
    assert fit.trained_on == 200  # the head itself trains on full targets only
    # Each latest text takes the residuals of its 8 nearest (same sense, other products; similarity 1, weight
    # 3/7), shrunk by 0.5: -1.5 * (8 * 3/7) / (8 * 3/7 + 0.5) = -1.2727 for +1, +1.2727 for -1.
    expected = -1.5 * (24 / 7) / (24 / 7 + 0.5) * features[200:, 2]
    assert np.abs(fit.predictions[200:] - expected).max() < 0.01
    without = fit_demand_head(features, np.where(observed < 7, np.nan, targets), np.arange(220))
    assert np.abs(without.predictions[200:]).max() < 0.01  # the full-target head knows nothing of the new wording
    assert without.predictions[:200].tolist() == fit.predictions[:200].tolist()
    moved = targets.copy()
    moved[200:202] = 5.0  # P0's own outcome changes: its prediction does not, its neighbours' do
    again = fit_demand_head(features, moved, np.arange(220), observed=observed, groups=groups)
    assert again.predictions[200:202].tolist() == fit.predictions[200:202].tolist()
    assert not np.allclose(again.predictions[202:], fit.predictions[202:])


def test_head_learns_a_relation_and_predicts_out_of_fold():
    rng = np.random.default_rng(0)
    features = rng.normal(size=(200, 5))
    targets = features @ np.array([1.0, -0.5, 0.0, 0.0, 0.2]) + rng.normal(scale=0.05, size=200)
    targets[-20:] = np.nan  # their future is not known yet
    fit = fit_demand_head(features, targets, np.arange(200))
    assert fit.trained_on == 180
    assert fit.out_of_fold_r2 > 0.95
    truth = features[-20:] @ np.array([1.0, -0.5, 0.0, 0.0, 0.2])
    assert np.abs(fit.predictions[-20:] - truth).max() < 0.2


def test_head_without_enough_history_predicts_nothing():
    features = np.ones((MIN_TRAINING_TEXTS - 1, 3))
    fit = fit_demand_head(features, np.zeros(len(features)), np.arange(len(features)))
    assert fit.pipeline is None
    assert fit.predictions.tolist() == [0.0] * len(features)


def test_text_features_sum_and_average_recent_texts_per_item_and_keep_their_ids():
    history = pd.concat([daily("A", [1.0] * 5), daily("B", [2.0] * 5)])
    signals = pd.DataFrame(
        {
            "text_id": ["t1", "t2", "t3"],
            "item_id": ["A", "A", "UNKNOWN"],
            "date": pd.to_datetime(["2026-01-02", "2026-01-03", "2026-01-03"]),
            "demand_change": [0.5, 1.0, 9.0],
        }
    )
    features = text_features(signals, history, recent=2)
    a = features.frame[features.frame["item_id"] == "A"]
    assert a["text_demand_change"].tolist() == [0.0, 0.5, 1.5, 1.0, 0.0]
    assert a["text_demand_change_mean"].tolist() == [0.0, 0.5, 0.75, 1.0, 0.0]
    assert a["text_count"].tolist() == [0.0, 1.0, 2.0, 1.0, 0.0]
    assert features.frame[features.frame["item_id"] == "B"]["text_count"].sum() == 0
    assert features.evidence["text_ids"].tolist() == ["t1", "t1;t2", "t2"]


def test_a_day_without_any_sale_is_a_day_of_zero_demand_not_a_missing_day():
    # no row at all on 2026-01-05: the head's "2 days after the 4th" are the 5th (0 sold) and the 6th (3 sold)
    history = daily("A", [1, 1, 1, 1, 0, 3, 3, 3]).drop(index=4)
    when = pd.Series(pd.to_datetime(["2026-01-04"]))
    targets = demand_change_targets(history, pd.Series(["A"]), when, ahead=2, past=2)
    assert targets.tolist() == [np.log1p(1.5) - np.log1p(1.0)]
    signals = pd.DataFrame({"text_id": ["t1"], "item_id": ["A"], "date": when, "demand_change": [0.5]})
    frame = text_features(signals, history, recent=2).frame
    assert frame["date"].dt.day.tolist() == [1, 2, 3, 4, 5, 6, 7, 8]
    assert frame["text_count"].tolist() == [0, 0, 0, 1, 1, 0, 0, 0]


def test_weekly_history_reads_a_week_ahead_and_four_before_and_texts_count_in_their_week():
    weeks = pd.date_range("2026-01-05", periods=8, freq="W-MON")
    history = pd.DataFrame({"item_id": "A", "date": weeks, "quantity": [2, 2, 4, 6, 8, 20, 8, 8]})
    written = pd.Series(pd.to_datetime(["2026-02-04", "2026-02-09"]))  # a Wednesday in week 5, week 6's Monday
    targets = demand_change_targets(history, pd.Series(["A", "A"]), written)
    assert targets.tolist() == [np.log1p(20.0) - np.log1p(5.0), np.log1p(8.0) - np.log1p(9.5)]
    signals = pd.DataFrame({"text_id": ["t1", "t2"], "item_id": "A", "date": written, "demand_change": [1.0, 0.5]})
    frame = text_features(signals, history).frame
    assert frame["text_demand_change"].tolist() == [0.0, 0.0, 0.0, 0.0, 1.0, 0.5, 0.0, 0.0]


def test_month_end_history_counts_a_text_in_the_month_it_was_written_never_the_month_before():
    months = pd.date_range("2026-01-31", periods=8, freq="ME")
    history = pd.DataFrame({"item_id": "A", "date": months, "quantity": [2, 2, 4, 6, 8, 20, 8, 8]})
    # mid-May (dated 31 May), the last day of May, the first of June, and after the history (its last month)
    written = pd.Series(pd.to_datetime(["2026-05-15", "2026-05-31", "2026-06-01", "2026-09-02", "2025-12-31"]))
    assert grid_positions(written, history_grid(history["date"])).tolist() == [4, 4, 5, 7, -1]
    targets = demand_change_targets(history, pd.Series(["A"] * 5), written, ahead=1, past=4)
    expected = [np.log1p(20.0) - np.log1p(5.0), np.log1p(20.0) - np.log1p(5.0), np.log1p(8.0) - np.log1p(9.5)]
    assert targets[:3].tolist() == expected
    assert np.isnan(targets[3:]).all()
    signals = pd.DataFrame({"text_id": ["t1", "t2", "t3", "t4", "t5"], "item_id": "A", "date": written})
    signals["demand_change"] = [1.0, 0.5, 2.0, 4.0, 8.0]
    frame = text_features(signals, history, recent=1).frame
    assert frame["text_demand_change"].tolist() == [0.0, 0.0, 0.0, 0.0, 1.5, 2.0, 0.0, 4.0]


@pytest.mark.parametrize(
    ("dates", "expected"),
    [
        (["2026-01-01", "2026-01-02", "2026-01-05"], "D"),
        (["2026-01-05", "2026-01-19", "2026-03-02"], "W-MON"),
        (["2026-01-01", "2026-03-01", "2026-04-01"], "MS"),
        (["2026-01-31", "2026-02-28", "2026-05-31"], "ME"),
        (["2026-01-01", "2026-01-08", "2026-01-10"], "D"),
        (["2026-01-01"], "D"),
    ],
)
def test_the_history_frequency_is_read_from_dates_with_gaps(dates, expected):
    assert infer_freq(pd.Series(pd.to_datetime(dates))) == expected


def test_texts_match_products_by_name_and_description_or_not_at_all():
    names = ["Blue ceramic mug", "Oak serving board", "Copper lantern"]
    descriptions = ["A mug for tea", "A board for cheese", "A lantern for the garden"]
    matches = match_products(
        ["The copper lantern arrived dented", "Do you ship to Ireland?", "", "need 40 oak serving boards"],
        names,
        descriptions,
    )
    assert [match.index for match in matches] == [2, None, None, 1]
    assert matches[0].confidence > 0.5 > matches[1].confidence
    assert match_products(["anything"], [], []) == [match_products(["x"], [], [])[0]]


def test_scenario_is_deterministic_and_keeps_held_out_phrasings_to_the_last_days(scenario):
    from nlp.signals.scenario import POOLS, generate_scenario

    again = generate_scenario(items=12, days=150, seed=3)
    pd.testing.assert_frame_equal(scenario.texts, again.texts)
    for kind in POOLS:
        assert not set(POOLS[kind]["train"]) & set(POOLS[kind]["heldout"])
    last = scenario.history["date"].max()
    early = scenario.texts[scenario.texts["date"] <= last - pd.Timedelta(days=7)]["text"]
    heldout_openings = [template.split("{")[0] for kind in ("bulk", "drop") for template in POOLS[kind]["heldout"]]
    assert not any(text.startswith(opening) for text in early for opening in heldout_openings if len(opening) > 8)


def test_scenario_says_what_each_texts_words_mean(scenario):
    import re

    from nlp.signals.scenario import POOLS, generate_scenario

    def kinds_whose_templates_match(text: str) -> set[str]:
        return {
            kind
            for kind, pools in POOLS.items()
            for template in pools["train"] + pools["heldout"]
            if re.fullmatch(".*?".join(re.escape(part) for part in re.split(r"\{[a-z]+\}", template)), text)
        }

    assert len(scenario.kinds) == len(scenario.texts) == 337
    assert [kinds_whose_templates_match(text) for text in scenario.texts["text"]] == [{kind} for kind in scenario.kinds]
    assert dict(zip(*np.unique(scenario.kinds, return_counts=True), strict=True)) == {
        "bulk": 46,
        "chatter": 237,
        "drop": 54,
    }
    shuffled = generate_scenario(items=12, days=150, seed=3, informative=False)
    by_text = dict(zip(shuffled.texts["text"], shuffled.kinds, strict=True))
    assert all(by_text[text] == kind for text, kind in zip(scenario.texts["text"], scenario.kinds, strict=True))


def test_scenario_can_keep_the_shops_own_phrasings_to_the_end():
    from nlp.signals.scenario import POOLS, generate_scenario

    same = generate_scenario(items=12, days=150, seed=3, heldout_phrasings=False)
    heldout_openings = [template.split("{")[0] for kind in ("bulk", "drop") for template in POOLS[kind]["heldout"]]
    texts = same.texts["text"].tolist()
    assert not any(text.startswith(opening) for text in texts for opening in heldout_openings if len(opening) > 8)
    strict = generate_scenario(items=12, days=150, seed=3)
    strict_texts = strict.texts["text"].tolist()
    assert any(text.startswith(opening) for text in strict_texts for opening in heldout_openings if len(opening) > 8)
    assert same.announced == strict.announced


def test_an_announced_event_is_expected_as_the_generator_draws_its_start_length_and_size():
    from nlp.signals.scenario import Event, event_multiplier, ongoing_multiplier

    # A bulk order announced the day before the origin (day 100) starts on day 101 to 104 and lasts 3 to 6 days
    # at 3.75 times demand on average: on day 101 one start in four covers it, 1 + 0.25 x 2.75.
    days = np.arange(101, 111)
    assert event_multiplier("bulk", days, announce=99, origin=100).tolist() == [
        1.6875,
        2.375,
        3.0625,
        3.578125,
        3.234375,
        2.71875,
        2.03125,
        1.515625,
        1.171875,
        1.0,
    ]
    # Announced four days before: of the starts on days 98 to 101, only 101 is still to come.
    assert event_multiplier("bulk", np.arange(101, 105), announce=96, origin=100).tolist() == [3.75] * 3 + [3.0625]
    # A drop at 0.2 under way for ten days (7 to 14 long): 10 to 14 days are left possible, 4 of 5 last past day 101.
    drop = Event(item=0, kind="drop", announce=89, begin=91, length=12, factor=0.2, announced=True)
    assert np.round(ongoing_multiplier(drop, np.arange(101, 106), origin=100), 10).tolist() == [
        0.36,
        0.52,
        0.68,
        0.84,
        1.0,
    ]


def test_rules_forecast_foresees_announced_events_only_with_texts(scenario):
    from forecasting.engine import metrics
    from nlp.signals.scenario import generate_scenario, rules_forecast

    def wrmsse(case, forecasts):
        insample = case.history.pivot(index="item_id", columns="date", values="quantity")
        actual = case.future.pivot(index="item_id", columns="date", values="quantity").loc[insample.index]
        predicted = forecasts.pivot(index="item_id", columns="date", values="mean").loc[insample.index]
        return metrics.wrmsse(actual.to_numpy(), predicted.to_numpy(), insample.to_numpy(), 14)

    assert (len(scenario.events), sum(event.announced for event in scenario.events)) == (49, 41)
    with_texts = rules_forecast(scenario, with_texts=True)
    without = rules_forecast(scenario, with_texts=False)
    assert len(with_texts) == 12 * 14
    # SKU-011's bulk order, announced on day 147, starts after the origin (day 149), on day 150, 151 or 152: only the
    # texts foresee it, and on day 150 one start in three covers it, 1 + 2.75 / 3.
    day_one = with_texts["item_id"].eq("SKU-011") & with_texts["date"].eq(scenario.future["date"].min())
    assert round(float(with_texts.loc[day_one, "mean"].iloc[0] / without.loc[day_one, "mean"].iloc[0]), 4) == 1.9167
    assert round(wrmsse(scenario, with_texts), 4) == 0.8505
    assert round(wrmsse(scenario, without), 4) == 0.9627
    shuffled = generate_scenario(items=12, days=150, seed=3, informative=False)
    assert not any(event.announced for event in shuffled.events)
    pd.testing.assert_frame_equal(rules_forecast(shuffled, with_texts=True), rules_forecast(shuffled, with_texts=False))
