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
