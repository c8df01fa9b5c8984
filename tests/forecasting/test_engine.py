"""The forecasting engine on small synthetic data: shapes, dates, quantiles, censoring and drivers."""

import numpy as np
import pandas as pd
import pytest

from forecasting.engine import EngineConfig, InputError, backtest, forecast, metrics

FAST = EngineConfig(methods=("naive", "seasonal_naive", "croston_sba", "tsb", "gbm"), gbm_rounds=60)
STATISTICAL = EngineConfig(methods=("naive", "seasonal_naive", "croston_sba", "tsb", "adida"))


def poisson_history(freq: str, *, items: int = 6, periods: int = 40, start: str = "2022-01-05", seed: int = 0):
    rng = np.random.default_rng(seed)
    dates = pd.date_range(start, periods=periods, freq=freq)
    rows = []
    for item in range(items):
        level = 2.0 + 3.0 * item
        for date, quantity in zip(dates, rng.poisson(level, periods), strict=True):
            if quantity > 0:
                rows.append((f"sku{item}", date, float(quantity)))
    return pd.DataFrame(rows, columns=["item_id", "date", "quantity"])


@pytest.mark.parametrize(
    ("freq", "start", "expected_first", "expected_last"),
    [
        ("D", "2024-01-01", "2024-02-10", "2024-02-14"),
        ("W-WED", "2024-01-03", "2024-10-09", "2024-11-06"),
        ("MS", "2020-01-01", "2023-05-01", "2023-09-01"),
    ],
)
def test_forecast_continues_each_series_on_its_frequency(freq, start, expected_first, expected_last):
    # given 40 periods of history
    history = poisson_history(freq, start=start)
    # when
    result = forecast(history, horizon=5, freq=freq, config=STATISTICAL)
    # then every item has the next 5 periods, in order
    frame = result.forecasts
    assert list(frame.columns) == ["item_id", "date", "mean", "p10", "p50", "p90"]
    assert len(frame) == 6 * 5
    for _, group in frame.groupby("item_id"):
        assert group["date"].dt.strftime("%Y-%m-%d").tolist()[0] == expected_first
        assert group["date"].dt.strftime("%Y-%m-%d").tolist()[-1] == expected_last
        assert group["date"].is_monotonic_increasing


def test_quantiles_are_non_negative_monotone_and_named_by_percent():
    history = poisson_history("W-WED")
    result = forecast(history, horizon=4, freq="W-WED", quantiles=(0.975, 0.05, 0.5), config=STATISTICAL)
    columns = ["p5", "p50", "p97.5"]
    assert list(result.forecasts.columns) == ["item_id", "date", "mean", *columns]
    values = result.forecasts[columns].to_numpy()
    assert (values >= 0).all()
    assert (np.diff(values, axis=1) >= 0).all()
    assert (result.forecasts["mean"] >= 0).all()


def test_awkward_series_get_forecasts():
    # given one observation, an all-zero item, and a history shorter than the horizon and the season
    dates = pd.date_range("2024-01-01", periods=30, freq="MS")
    rows = [("single", dates[-1], 7.0), ("zeros", dates[0], 0.0), ("zeros", dates[-1], 0.0)]
    rows += [("short", date, 3.0) for date in dates[-3:]]
    rows += [("long", date, float(5 + index % 3)) for index, date in enumerate(dates)]
    history = pd.DataFrame(rows, columns=["item_id", "date", "quantity"])
    # when
    result = forecast(history, horizon=6, freq="MS", config=FAST)
    # then
    frame = result.forecasts.set_index("item_id")
    assert len(result.forecasts) == 4 * 6
    assert np.isfinite(result.forecasts[["mean", "p10", "p50", "p90"]].to_numpy()).all()
    assert (frame.loc["zeros", "mean"] == 0).all()
    assert (frame.loc["zeros", "p90"] == 0).all()
    assert (frame.loc["short", "mean"] > 0).all()
    assert set(result.methods["segment"]) >= {"zero", "short"}


def test_history_shorter_than_one_fold_still_forecasts():
    history = pd.DataFrame(
        {
            "item_id": ["a", "a", "b"],
            "date": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-02"]),
            "quantity": [1.0, 4.0, 2.0],
        }
    )
    result = forecast(history, horizon=7, freq="D", config=FAST)
    assert len(result.forecasts) == 14
    assert result.backtest.folds == 0
    assert (result.forecasts["p90"] >= result.forecasts["p10"]).all()


def test_out_of_stock_periods_do_not_drag_the_forecast_to_zero():
    # given steady demand of about 10 a week, with the last 6 weeks out of stock (nothing sold)
    rng = np.random.default_rng(3)
    dates = pd.date_range("2023-01-04", periods=60, freq="W-WED")
    quantity = rng.poisson(10, 60).astype(float)
    quantity[-6:] = 0.0
    history = pd.DataFrame({"item_id": "sku", "date": dates, "quantity": quantity, "out_of_stock": False})
    history.loc[history.index[-6:], "out_of_stock"] = True
    # when
    censored = forecast(history, horizon=4, freq="W-WED", config=STATISTICAL).forecasts
    naive = forecast(history.drop(columns="out_of_stock"), horizon=4, freq="W-WED", config=STATISTICAL).forecasts
    # then the flagged weeks are treated as unknown demand, not as zero demand
    assert censored["mean"].between(7, 13).all()
    assert naive["mean"].max() < 6


def promotion_data(seed: int = 0, items: int = 30, periods: int = 80):
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2022-01-05", periods=periods, freq="W-WED")
    history_rows, feature_rows = [], []
    for item in range(items):
        base = rng.uniform(3, 15)
        promotion = (rng.random(periods) < 0.25).astype(float)
        demand = rng.poisson(base * (1 + 3 * promotion))
        for index, date in enumerate(dates):
            history_rows.append((f"sku{item}", date, float(demand[index])))
            feature_rows.append((f"sku{item}", date, promotion[index]))
    history = pd.DataFrame(history_rows, columns=["item_id", "date", "quantity"])
    features = pd.DataFrame(feature_rows, columns=["item_id", "date", "promotion"])
    return history, features


def holdout_wape(history: pd.DataFrame, horizon: int, freq: str, **kwargs) -> float:
    cutoff = np.sort(history["date"].unique())[-horizon]
    train, test = history[history["date"] < cutoff], history[history["date"] >= cutoff]
    result = forecast(train, horizon=horizon, freq=freq, **kwargs)
    merged = test.merge(result.forecasts, on=["item_id", "date"])
    return metrics.wape(merged["quantity"].to_numpy(), merged["mean"].to_numpy())


def test_a_driver_that_determines_demand_reduces_error():
    history, features = promotion_data()
    without = holdout_wape(history, 8, "W-WED", config=FAST)
    with_driver = holdout_wape(history, 8, "W-WED", features=features, config=FAST)
    assert with_driver < 0.7 * without


def test_features_must_cover_the_horizon():
    history, features = promotion_data(items=3, periods=20)
    with pytest.raises(InputError, match="must cover the 4-period horizon"):
        forecast(history, horizon=4, freq="W-WED", features=features, config=STATISTICAL)


def test_text_features_hook_uses_a_past_signal_that_leads_demand():
    # given a per-item demand level that changes now and then, and a text signal that announces each
    # change 12 weeks ahead (as log of the coming level ratio): informative only about the future
    rng = np.random.default_rng(5)
    items, periods, lead, horizon = 30, 120, 12, 8
    dates = pd.date_range("2021-01-06", periods=periods + lead, freq="W-WED")
    history_rows, text_rows = [], []
    for item in range(items):
        level = np.empty(periods + lead)
        current = rng.uniform(5, 20)
        for index in range(periods + lead):
            if rng.random() < 0.08:
                current = float(np.clip(current * rng.choice([0.3, 3.0]), 1, 80))
            level[index] = current
        demand = rng.poisson(level[:periods])
        for index in range(periods):
            history_rows.append((f"sku{item}", dates[index], float(demand[index])))
            signal = np.log(level[index + lead] / level[index])
            text_rows.append((f"sku{item}", dates[index], signal))
    history = pd.DataFrame(history_rows, columns=["item_id", "date", "quantity"])
    text = pd.DataFrame(text_rows, columns=["item_id", "date", "announcement"])
    cutoff = dates[periods - horizon]
    train_text = text[text["date"] < cutoff]
    config = EngineConfig(methods=("naive", "tsb", "gbm"), gbm_rounds=80)
    # when
    without = holdout_wape(history, horizon, "W-WED", config=config)
    with_text = holdout_wape(history, horizon, "W-WED", text_features=train_text, config=config)
    # then
    assert with_text < 0.85 * without


def test_backtest_reports_items_segments_and_total():
    history = poisson_history("D", periods=60)
    result = backtest(history, horizon=7, freq="D", folds=2, config=STATISTICAL)
    table = result.metrics
    assert result.folds == 2
    assert set(table["level"]) == {"total", "segment", "item"}
    assert {"wrmsse", "wape", "mase", "bias", "quantile_loss", "coverage"} <= set(table.columns)
    selected = table[(table["method"] == "selected") & (table["level"] == "total")].iloc[0]
    assert 0 <= selected["coverage"] <= 1
    assert len(table[(table["level"] == "item") & (table["method"] == "tsb")]) == 6


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"quantity": -1.0}, "is negative"),
        ({"date": "not a date"}, "is not a date"),
    ],
)
def test_bad_history_raises_input_error(change, message):
    history = poisson_history("D", items=1, periods=10).astype({"date": object})
    for column, value in change.items():
        history.loc[0, column] = value
    with pytest.raises(InputError, match=message):
        forecast(history, horizon=3, freq="D", config=STATISTICAL)


def test_bad_horizon_and_quantiles_raise_input_error():
    history = poisson_history("D", items=1, periods=10)
    with pytest.raises(InputError, match="horizon"):
        forecast(history, horizon=0, freq="D")
    with pytest.raises(InputError, match="between 0 and 1"):
        forecast(history, horizon=2, freq="D", quantiles=(0.5, 1.5))


def test_a_chunk_of_a_large_job_gets_the_large_input_settings_with_rows_per_item():
    alone = EngineConfig().resolve(items=500, periods=730)
    in_job = EngineConfig(job_items=100_000).resolve(items=500, periods=730)
    whole = EngineConfig().resolve(items=100_000, periods=730)

    assert (alone.folds, "ets" in alone.methods, alone.gbm_max_rows, alone.gbm_rounds) == (2, True, 400_000, 250)
    assert (in_job.folds, "ets" in in_job.methods, in_job.gbm_max_rows, in_job.gbm_rounds) == (1, False, 30_000, 120)
    assert (whole.folds, whole.gbm_max_rows, whole.gbm_rounds) == (1, 600_000, 120)
    # both global models are candidates on their own; a large job keeps the Tweedie one only
    assert [method for method in alone.methods if method.startswith("gbm")] == ["gbm", "gbm_tweedie"]
    assert [method for method in in_job.methods if method.startswith("gbm")] == ["gbm_tweedie"]
    squared_only = EngineConfig(methods=("tsb", "gbm"), job_items=100_000).resolve(items=500, periods=730)
    assert squared_only.methods == ("tsb", "gbm")


def test_the_tweedie_global_model_forecasts_zero_heavy_demand():
    history = poisson_history("W-WED", items=8, periods=60)
    config = EngineConfig(methods=("tsb", "gbm_tweedie"), gbm_rounds=60)
    result = forecast(history, horizon=4, freq="W-WED", config=config)
    assert (result.forecasts["mean"] >= 0).all()
    # the items' Poisson levels are 2 + 3k a week: the Tweedie model's mean follows them
    means = result.forecasts.groupby("item_id")["mean"].mean()
    np.testing.assert_allclose(means.to_numpy(), 2.0 + 3.0 * np.arange(8), rtol=0.35)
    assert set(result.methods["method"]) <= {"tsb", "gbm_tweedie", "tsb+gbm_tweedie"}


def test_error_correlation_is_high_when_a_level_shift_outlasts_the_forecast():
    rng = np.random.default_rng(0)
    dates = pd.date_range("2024-01-01", periods=60, freq="W-MON")
    noise = rng.poisson(20, size=(8, 60)).astype(float)
    shifted = noise.copy()
    shifted[:, 44:] += np.arange(8)[:, None] * 10 + 20  # a lasting rise inside the last backtest window

    def frame(values: np.ndarray) -> pd.DataFrame:
        items = np.repeat([f"sku{item}" for item in range(len(values))], len(dates))
        dated = np.tile(dates, len(values))
        return pd.DataFrame({"item_id": items, "date": dated, "quantity": values.reshape(-1)})

    config = EngineConfig(methods=("naive", "tsb"))
    steady = forecast(frame(noise), horizon=8, freq="W-MON", config=config).error_correlation
    rising = forecast(frame(shifted), horizon=8, freq="W-MON", config=config).error_correlation
    assert steady == pytest.approx(0.1161, abs=1e-4)
    assert rising == pytest.approx(0.8676, abs=1e-4)
