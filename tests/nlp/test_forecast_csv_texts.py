"""forecast_csv --texts: the NLP extraction feeds the engine's past covariates, through the real tiny model."""

import pandas as pd
import pytest
from django.core.management import CommandError, call_command


def _write_inputs(tmp_path, scenario):
    history = scenario.history.copy()
    history["date"] = pd.to_datetime(history["date"]).dt.strftime("%Y-%m-%d")
    history.to_csv(tmp_path / "history.csv", index=False)
    texts = scenario.texts.copy()
    texts["date"] = pd.to_datetime(texts["date"]).dt.strftime("%Y-%m-%d")
    texts.to_csv(tmp_path / "texts.csv", index=False)
    return tmp_path / "history.csv", tmp_path / "texts.csv"


def test_forecast_with_texts_writes_every_item_and_period(tmp_path, scenario, nlp_settings):
    history, texts = _write_inputs(tmp_path, scenario)
    output = tmp_path / "forecast.csv"
    call_command(
        "forecast_csv",
        "--history", str(history), "--texts", str(texts), "--horizon", "7", "--freq", "D", "--output", str(output),
    )  # fmt: skip
    frame = pd.read_csv(output)
    assert list(frame.columns) == ["item_id", "date", "mean", "p10", "p50", "p90"]
    assert len(frame) == scenario.history["item_id"].nunique() * 7
    assert (frame["mean"] >= 0).all()


def test_bad_texts_file_is_one_clear_error_and_writes_nothing(tmp_path, scenario, nlp_settings):
    history, _ = _write_inputs(tmp_path, scenario)
    pd.DataFrame({"item_id": ["SKU-000"], "text": ["hello"]}).to_csv(tmp_path / "bad.csv", index=False)
    output = tmp_path / "forecast.csv"
    with pytest.raises(CommandError, match=r"texts: missing column\(s\) text_id, date"):
        call_command(
            "forecast_csv",
            "--history", str(history), "--texts", str(tmp_path / "bad.csv"), "--horizon", "7", "--freq", "D",
            "--output", str(output),
        )  # fmt: skip
    assert not output.exists()


def test_weekly_history_gets_text_features_per_week(tmp_path, scenario, nlp_settings, tiny_model_dir):
    from nlp.signals.features import text_features_for_forecast

    weekly = (
        scenario.history.set_index("date")
        .groupby("item_id")["quantity"]
        .resample("W-MON", label="left", closed="left")
        .sum()
        .reset_index()
    )
    frame = text_features_for_forecast(scenario.texts, weekly, model=str(tiny_model_dir), freq="W-MON").frame
    weeks = pd.date_range(weekly["date"].min(), weekly["date"].max(), freq="W-MON")
    assert len(frame) == 12 * len(weeks) == 12 * 22
    # a text counts in the week it was written in, and only there (a week ahead is one period)
    written = scenario.texts.assign(week=scenario.texts["date"].dt.to_period("W-SUN").dt.start_time)
    expected = written[written["week"] >= weeks[0]].groupby(["item_id", "week"]).size()
    counted = frame[frame["text_count"] > 0].set_index(["item_id", "date"])["text_count"]
    assert counted.astype(int).to_dict() == {key: int(value) for key, value in expected.items()}
    weekly.assign(date=weekly["date"].dt.strftime("%Y-%m-%d")).to_csv(tmp_path / "weekly.csv", index=False)
    _, texts = _write_inputs(tmp_path, scenario)
    output = tmp_path / "forecast.csv"
    call_command(
        "forecast_csv",
        "--history", str(tmp_path / "weekly.csv"), "--texts", str(texts), "--horizon", "4", "--freq", "W-MON",
        "--output", str(output),
    )  # fmt: skip
    dates = pd.read_csv(output)["date"].drop_duplicates().tolist()
    assert dates == [day.strftime("%Y-%m-%d") for day in pd.date_range(weeks[-1], periods=5, freq="W-MON")[1:]]
