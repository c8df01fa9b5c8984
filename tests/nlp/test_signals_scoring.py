"""The numeric core on a tiny GPT-2 built and loaded through from_pretrained."""

import numpy as np
import pytest
import torch

from nlp.signals.building import train_tokenizer
from nlp.signals.features import Status, text_statuses
from nlp.signals.labels import LABELS, PROMPT, SIGNAL_NAMES
from nlp.signals.loading import ModelUnavailableError, load_language_model
from nlp.signals.scoring import score_texts

TEXTS = [
    "Hi, could I order 200 of the blue mug for our wedding next week?",
    "My teapot arrived broken, I want a refund",
    "Love the colour",
    "ok",
]


def reference_scores(lm, text: str) -> np.ndarray:
    """PMI of each label, the plain way: the whole causal LM, one unpadded text at a time."""

    def label_log_probs(prefix: str) -> np.ndarray:
        ids = lm.tokenizer(prefix, add_special_tokens=False)["input_ids"]
        with torch.no_grad():
            log_probs = lm.model(torch.tensor([ids])).logits.log_softmax(-1)[0, -1]
        values = []
        for name in SIGNAL_NAMES:
            firsts = [lm.tokenizer(word, add_special_tokens=False)["input_ids"][0] for word in LABELS[name]]
            values.append(torch.logsumexp(log_probs[firsts], dim=0).item())
        return np.array(values)

    return label_log_probs(text + PROMPT) - label_log_probs(PROMPT)


def test_trained_tokenizer_encodes_text():
    tokenizer = train_tokenizer(["a blue mug", "a blue teapot"] * 5, vocab_size=300)
    assert len(tokenizer("blue mug")["input_ids"]) > 0


def test_saved_model_loads_through_from_pretrained_with_a_working_tokenizer(tiny_model_dir):
    lm = load_language_model(str(tiny_model_dir), precision="fp32")
    assert len(lm.tokenizer("Do you sell mugs?")["input_ids"]) > 0
    assert lm.model.config.model_type == "gpt2"
    assert len(lm.fingerprint) == 32


def test_batched_scores_equal_the_plain_computation_in_fp32(tiny_model_dir):
    lm = load_language_model(str(tiny_model_dir), precision="fp32")
    scores = score_texts(lm, TEXTS)
    expected = np.vstack([reference_scores(lm, text) for text in TEXTS])
    np.testing.assert_allclose(scores.scores, expected, atol=1e-4)
    assert scores.embeddings.shape == (len(TEXTS), lm.hidden_size)


def test_int8_scores_stay_within_tolerance_of_fp32(tiny_model_dir):
    fp32 = score_texts(load_language_model(str(tiny_model_dir), precision="fp32"), TEXTS)
    int8 = score_texts(load_language_model(str(tiny_model_dir), precision="int8"), TEXTS)
    assert np.abs(fp32.scores - int8.scores).max() < 0.1


def test_empty_huge_and_foreign_texts_get_a_clear_status(tiny_model_dir):
    lm = load_language_model(str(tiny_model_dir), precision="int8")
    texts = ["", "mug " * 25_000, "这个杯子什么时候有货？我们需要两百个", "Lovely mug"]
    scores = score_texts(lm, texts, max_tokens=64)
    assert scores.scores[0].tolist() == [0.0] * len(SIGNAL_NAMES)
    assert scores.token_counts[1] == 64
    assert list(text_statuses(texts, scores)) == [
        Status.EMPTY,
        Status.TRUNCATED,
        Status.UNFAMILIAR_LANGUAGE,
        Status.SCORED,
    ]


def test_a_model_that_cannot_be_loaded_names_both_ways_out(tmp_path):
    with pytest.raises(ModelUnavailableError) as error:
        load_language_model(str(tmp_path / "missing-model"), precision="fp32")
    message = str(error.value)
    assert "NLP_MODEL" in message
    assert "nlp_build_model" in message


def test_an_unreachable_hub_model_is_not_asked_for_again_at_once(monkeypatch, tmp_path):
    from nlp.signals import loading

    calls: list[str] = []
    real_load = loading._load

    def counted(name: str, precision: str, local_fingerprint: str | None = None):
        calls.append(name)
        return real_load(name, precision, local_fingerprint)

    monkeypatch.setattr(loading, "_load", counted)
    monkeypatch.setattr(loading, "_hub_failures", {})
    for name in ("no-such-owner/no-such-model", "no-such-owner/no-such-model", str(tmp_path), str(tmp_path)):
        with pytest.raises(ModelUnavailableError, match="Could not load the language model"):
            load_language_model(name, precision="fp32")

    # the hub id was tried once; the local directory every time, as a model may have been saved there since
    assert calls == ["no-such-owner/no-such-model", str(tmp_path), str(tmp_path)]
