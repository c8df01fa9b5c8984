"""``manage.py coldstart_csv``: no database, one clear line for bad input and nothing written."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

PRODUCTS = pd.DataFrame(
    {
        "item_id": ["MUG-R", "MUG-B", "FRAME-S", "FRAME-L", "MUG-G", "FRAME-XL", "NAPKIN"],
        "name": ["Red mug", "Blue mug", "Small frame", "Large frame", "Green mug", "Extra large frame", "Napkins"],
        "description": [
            "red ceramic coffee mug",
            "blue ceramic coffee mug",
            "wooden picture frame small",
            "wooden picture frame large",
            "green ceramic coffee mug",
            "wooden picture frame extra large",
            "",
        ],
        "price": ["4.00", "4.00", "10.00", "20.00", "4.00", "40.00", "1.00"],
    }
)


def history() -> pd.DataFrame:
    rows = []
    for day in pd.date_range("2024-01-01", periods=70):
        rows += [("MUG-R", day, 10), ("MUG-B", day, 12), ("FRAME-S", day, 1), ("FRAME-L", day, 1)]
    frame = pd.DataFrame(rows, columns=["item_id", "date", "quantity"])
    return frame.assign(date=frame["date"].dt.strftime("%Y-%m-%d"))


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    paths = {"history": tmp_path / "H.csv", "products": tmp_path / "P.csv", "output": tmp_path / "O.csv"}
    history().to_csv(paths["history"], index=False)
    PRODUCTS.to_csv(paths["products"], index=False)
    return paths


def run(files: dict[str, Path], *extra: str, weeks: str = "8") -> None:
    call_command(
        "coldstart_csv",
        "--history", str(files["history"]),
        "--products", str(files["products"]),
        "--weeks", weeks,
        "--output", str(files["output"]),
        *extra,
    )  # fmt: skip


def test_without_a_model_uses_tfidf_and_says_so(files, capsys, settings):
    # given: no loadable model (and no database: this test may not touch one)
    settings.NLP_MODEL = str(files["output"].parent / "no-model-here")
    # when
    run(files)
    # then
    output = pd.read_csv(files["output"], dtype={"similar_items": str}, keep_default_na=False)
    assert list(output.columns) == ["item_id", "expected_units", "similar_items"]
    assert output["item_id"].tolist() == ["MUG-G", "FRAME-XL", "NAPKIN"]
    by_item = output.set_index("item_id")
    assert set(by_item.loc["MUG-G", "similar_items"].split(";")[:2]) == {"MUG-B", "MUG-R"}
    assert set(by_item.loc["FRAME-XL", "similar_items"].split(";")[:2]) == {"FRAME-L", "FRAME-S"}
    # a mug estimated from mugs (70-84 units a week) and a frame from frames (7 a week, dearer still)
    assert 400 < by_item.loc["MUG-G", "expected_units"] < 800
    assert by_item.loc["FRAME-XL", "expected_units"] < 60
    assert by_item.loc["NAPKIN", "similar_items"] == ""  # nothing alike: the median of all, naming none
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1
    assert "using TF-IDF representations only" in captured.err
    assert "(tfidf representations)" in captured.out


def test_with_the_language_model_combines_representations(files, capsys, model_settings):
    run(files, "--model", model_settings.NLP_MODEL, weeks="4")
    output = pd.read_csv(files["output"], dtype={"similar_items": str}, keep_default_na=False).set_index("item_id")
    assert sorted(output.index) == ["FRAME-XL", "MUG-G", "NAPKIN"]
    assert set(output.loc["MUG-G", "similar_items"].split(";")) <= {"MUG-R", "MUG-B", "FRAME-S", "FRAME-L"}
    assert "(combined representations)" in capsys.readouterr().out
    # weight 0: TF-IDF alone, the model is not even loaded
    run(files, "--model", model_settings.NLP_MODEL, "--model-weight", "0", weeks="4")
    captured = capsys.readouterr()
    assert "(tfidf representations)" in captured.out
    assert captured.err == ""
    with pytest.raises(CommandError, match=r"--model-weight 1\.5: must be between 0 and 1"):
        run(files, "--model-weight", "1.5")


def test_the_combined_estimate_averages_the_two_estimates_in_log_space(files, capsys, model_settings):
    def estimates(weight: str) -> pd.Series:
        run(files, "--model", model_settings.NLP_MODEL, "--model-weight", weight, weeks="4")
        return pd.read_csv(files["output"]).set_index("item_id")["expected_units"]

    tfidf, model, half = estimates("0"), estimates("1"), estimates("0.5")
    assert "(language_model representations)" in capsys.readouterr().out
    expected = np.expm1(0.5 * np.log1p(tfidf) + 0.5 * np.log1p(model))
    np.testing.assert_allclose(half.to_numpy(), expected.reindex(half.index).to_numpy(), atol=0.011)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f["history"].write_text("item_id,day,quantity\nA,2024-01-01,1\n"), "missing column(s) date"),
        (lambda f: f["history"].write_text("item_id,date,quantity\nMUG-R,2024-01-01,-1\n"), "is negative"),
        (lambda f: f["history"].write_text("item_id,date,quantity\nMUG-R,someday,1\n"), "is not a date"),
        (lambda f: f["products"].write_text("item_id,name,price\nA,a,1\n"), "missing column(s) description"),
        (lambda f: f["products"].write_text("item_id,name,description,price\nA,a,,x\n"), "price 'x' is not a number"),
        (lambda f: f["products"].write_text("item_id,name,description,price\nA,a,,1\nA,b,,2\n"), "appears twice"),
        (lambda f: f["history"].write_text("item_id,date,quantity\nZZZ,2024-01-01,1\n"), "nothing to learn from"),
        (lambda f: f["products"].unlink(), "file not found"),
    ],
)
def test_bad_input_is_one_line_and_nothing_is_written(files, change, message, settings):
    settings.NLP_MODEL = ""
    change(files)
    with pytest.raises(CommandError) as error:
        run(files)
    assert message in str(error.value)
    assert "\n" not in str(error.value)
    assert not files["output"].exists()


def test_bad_weeks_and_missing_directory(files, settings):
    settings.NLP_MODEL = ""
    with pytest.raises(CommandError, match="--weeks 0: must be at least 1"):
        run(files, weeks="0")
    files["output"] = files["output"].parent / "missing" / "O.csv"
    with pytest.raises(CommandError, match="does not exist"):
        run(files)
