"""Scoring stored texts, the nlp task and the CSV commands, with a tiny GPT-2 built in a temporary directory."""

import datetime
import shutil

import pandas as pd
import pytest
from django.core.management import CommandError, call_command

from nlp.models import MatchStatus, SignalStatus, TextSignal
from nlp.selectors import text_evidence_for_product, text_features_for_merchant
from nlp.services import (
    TextInput,
    text_signals_schedule,
    text_signals_score,
    text_signals_score_pending,
    texts_create,
    texts_pending_scores,
)
from nlp.signals.labels import SIGNAL_NAMES
from nlp.tasks import text_signals_score_task
from tests.factories import ProductFactory

WHEN = datetime.datetime(2026, 3, 1, 9, 30, tzinfo=datetime.UTC)


@pytest.fixture
def texts(merchant, product, nlp_settings):
    ProductFactory(merchant=merchant, sku="LAMP-1", name="Copper lantern", description="A lantern for the garden")
    return texts_create(
        merchant=merchant,
        texts=[
            TextInput("enquiry", "Could we order 200 blue mugs for a wedding?", WHEN, sku="MUG-1"),
            TextInput("review", "The copper lantern arrived dented", WHEN),
            TextInput("message", "Do you ship to Ireland?", WHEN, sku="NOT-IN-CATALOGUE"),
            TextInput("review", "这个杯子什么时候有货？我们需要两百个", WHEN, sku="MUG-1"),
            TextInput("note", "mug " * 24_000, WHEN, sku="MUG-1"),
        ],
    )


@pytest.mark.django_db
def test_scoring_stores_one_signal_per_text_with_a_clear_outcome(merchant, product, texts):
    outcome = text_signals_score(merchant=merchant, text_ids=[text.pk for text in texts])
    assert (outcome.scored, outcome.already_scored, outcome.matched, outcome.unmatched) == (5, 0, 1, 1)
    assert outcome.statuses == {"scored": 3, "unfamiliar_language": 1, "truncated": 1}
    signals = {signal.text_id: signal for signal in TextSignal.objects.all()}
    assert [signals[text.pk].status for text in texts] == [
        SignalStatus.SCORED,
        SignalStatus.SCORED,
        SignalStatus.SCORED,
        SignalStatus.UNFAMILIAR_LANGUAGE,
        SignalStatus.TRUNCATED,
    ]
    assert set(signals[texts[0].pk].scores) == set(SIGNAL_NAMES)
    assert signals[texts[3].pk].embedding is None
    for text in texts:
        text.refresh_from_db()
    assert [(text.product and text.product.sku, text.match_status) for text in texts] == [
        ("MUG-1", MatchStatus.SKU),
        ("LAMP-1", MatchStatus.MATCHED),
        (None, MatchStatus.UNMATCHED),
        ("MUG-1", MatchStatus.SKU),
        ("MUG-1", MatchStatus.SKU),
    ]
    assert texts[1].match_confidence > 0.5
    evidence = text_evidence_for_product(merchant=merchant, product=product)
    assert sorted(e.text_id for e in evidence) == sorted([texts[0].pk, texts[3].pk, texts[4].pk])


@pytest.mark.django_db
def test_a_model_rebuilt_in_place_scores_every_text_again(merchant, texts, nlp_settings, tiny_model_dir, tmp_path):
    import torch
    from transformers import AutoModelForCausalLM

    model_dir = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model_dir)
    nlp_settings.NLP_MODEL = str(model_dir)
    ids = [text.pk for text in texts]
    assert texts_pending_scores(merchant=merchant) == ids
    assert text_signals_score_pending(merchant=merchant) == 5
    assert texts_pending_scores(merchant=merchant) == []

    # the merchant rebuilds the model into the same directory: other weights, same name
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    with torch.no_grad():
        model.get_input_embeddings().weight.mul_(1.5)
    model.save_pretrained(model_dir)

    assert texts_pending_scores(merchant=merchant) == ids
    assert text_signals_score_pending(merchant=merchant) == 5
    assert texts_pending_scores(merchant=merchant) == []
    assert TextSignal.objects.filter(merchant=merchant).values("model_fingerprint").distinct().count() == 2


@pytest.mark.django_db
def test_the_task_is_idempotent_and_skips_other_merchants_texts(merchant, texts):
    ids = [text.pk for text in texts]
    first = text_signals_score_task(merchant.pk, ids)
    again = text_signals_score_task(merchant.pk, ids)
    assert (first["scored"], again["scored"], again["already_scored"]) == (5, 0, 5)
    assert TextSignal.objects.count() == 5
    assert text_signals_score_task(merchant.pk + 1000, ids)["merchant"] == "missing"


@pytest.mark.django_db
def test_schedule_queues_chunks_on_commit(merchant, texts, nlp_settings, django_capture_on_commit_callbacks):
    nlp_settings.NLP_CHUNK_SIZE = 2
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        chunks = text_signals_schedule(merchant=merchant, text_ids=[text.pk for text in texts])
    assert (chunks, len(callbacks)) == (3, 3)
    assert TextSignal.objects.count() == 5


@pytest.mark.django_db
def test_an_unloadable_model_says_how_to_fix_it(merchant, texts, nlp_settings, tmp_path):
    from nlp.signals.loading import ModelUnavailableError

    nlp_settings.NLP_MODEL = str(tmp_path / "nothing-here")
    with pytest.raises(ModelUnavailableError, match="nlp_build_model"):
        text_signals_score(merchant=merchant, text_ids=[texts[0].pk])


@pytest.mark.django_db
def test_features_for_merchant_come_from_stored_scores(merchant, product, nlp_settings):
    days = pd.date_range("2026-01-01", periods=60, freq="D")
    stored = texts_create(
        merchant=merchant,
        texts=[
            TextInput("enquiry", f"Could we order {n} blue mugs for an event?", day.to_pydatetime(), sku="MUG-1")
            for n, day in zip(range(100, 160), days, strict=True)
        ],
    )
    text_signals_score(merchant=merchant, text_ids=[text.pk for text in stored])
    history = pd.DataFrame({"item_id": "MUG-1", "date": days, "quantity": [float(i % 7) for i in range(60)]})
    features = text_features_for_merchant(merchant=merchant, history=history)
    assert list(features.frame.columns) == [
        "item_id",
        "date",
        "text_demand_change",
        "text_demand_change_mean",
        "text_count",
    ]
    assert len(features.frame) == 60
    assert features.frame["text_count"].iloc[-1] == 7
    assert features.evidence["text_ids"].iloc[0] == str(stored[0].pk)


def write_texts(path, scenario):
    scenario.texts.assign(date=scenario.texts["date"].dt.strftime("%Y-%m-%d")).to_csv(path, index=False)


def test_extract_signals_csv_writes_the_contract_columns(tmp_path, scenario, tiny_model_dir, settings):
    settings.NLP_TORCH_THREADS = 1
    texts_csv, history_csv = tmp_path / "T.csv", tmp_path / "H.csv"
    write_texts(texts_csv, scenario)
    scenario.history.to_csv(history_csv, index=False)

    call_command("extract_signals_csv", "--texts", texts_csv, "--output", tmp_path / "S.csv", "--model", tiny_model_dir)
    call_command(
        "extract_signals_csv",
        *("--texts", texts_csv, "--output", tmp_path / "SH.csv", "--history", history_csv),
        *("--model", tiny_model_dir),
    )

    plain, learned = pd.read_csv(tmp_path / "S.csv"), pd.read_csv(tmp_path / "SH.csv")
    assert list(plain.columns) == ["text_id", "item_id", "date", *SIGNAL_NAMES]
    assert list(learned.columns) == ["text_id", "item_id", "date", *SIGNAL_NAMES, "demand_change"]
    assert plain["text_id"].tolist() == scenario.texts["text_id"].tolist()
    assert learned["demand_change"].notna().all()


def test_extract_signals_csv_rejects_bad_input_clearly(tmp_path, tiny_model_dir):
    (tmp_path / "T.csv").write_text("id,text\n1,hello\n")
    with pytest.raises(CommandError, match="missing column"):
        call_command(
            "extract_signals_csv",
            "--texts",
            tmp_path / "T.csv",
            "--output",
            tmp_path / "S.csv",
            "--model",
            tiny_model_dir,
        )
    with pytest.raises(CommandError, match="nlp_build_model"):
        call_command(
            "extract_signals_csv",
            "--texts",
            tmp_path / "T.csv",
            "--output",
            tmp_path / "S.csv",
            "--model",
            tmp_path / "no-model",
        )


def test_nlp_build_model_from_a_csv_saves_a_loadable_model(tmp_path, scenario, settings):
    settings.NLP_TORCH_THREADS = 1
    write_texts(tmp_path / "T.csv", scenario)
    call_command("nlp_build_model", "--texts", tmp_path / "T.csv", "--output", tmp_path / "model", "--size", "tiny")
    from nlp.signals.loading import load_language_model

    lm = load_language_model(str(tmp_path / "model"), precision="fp32")
    assert len(lm.tokenizer("blue mug")["input_ids"]) > 0


@pytest.mark.django_db
def test_nlp_build_model_from_a_merchant(tmp_path, merchant, product, settings):
    settings.NLP_TORCH_THREADS = 1
    texts_create(merchant=merchant, texts=[TextInput("review", f"Lovely mug number {n}", WHEN) for n in range(5)])
    call_command("nlp_build_model", "--merchant", "acme", "--output", tmp_path / "model", "--size", "tiny")
    assert (tmp_path / "model" / "config.json").is_file()
    with pytest.raises(CommandError, match="no merchant"):
        call_command("nlp_build_model", "--merchant", "nope", "--output", tmp_path / "m2", "--size", "tiny")
