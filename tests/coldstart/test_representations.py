"""Product representations from a real tiny causal LM (built and saved in a temp dir) and from TF-IDF."""

import numpy as np
import pytest

from nlp.representations import (
    centred_unit_vectors,
    language_model_vectors,
    product_text,
    similarity_matrix,
    tfidf_vectors,
    vector_from_bytes,
    vector_to_bytes,
)
from nlp.signals.loading import load_language_model
from tests.coldstart.conftest import CATALOGUE_TEXTS


def test_product_text_joins_name_and_description_without_repeating():
    assert product_text("Blue mug", "") == "Blue mug"
    assert product_text("Blue mug", "blue mug") == "Blue mug"
    assert product_text("Blue mug", "Blue mug, 300 ml") == "Blue mug, 300 ml"
    assert product_text("Blue  mug", "Stoneware,\n300 ml") == "Blue mug. Stoneware, 300 ml"


def test_tfidf_ranks_the_alike_first():
    vectors = tfidf_vectors(["red ceramic coffee mug", "blue ceramic coffee mug", "silver photo frame", ""])
    similarity = similarity_matrix(tfidf=vectors, model_vectors=None)
    assert similarity[0, 1] > 0.5 > similarity[0, 2]
    assert similarity[0, 0] == pytest.approx(1.0, abs=1e-5)
    assert similarity[3].tolist() == [0.0, 0.0, 0.0, 0.0]


def test_language_model_vectors_are_mean_pooled_states_and_combine(tiny_model_dir):
    lm = load_language_model(str(tiny_model_dir), precision="fp32")
    texts = [*CATALOGUE_TEXTS, ""]
    vectors = language_model_vectors(lm, texts, batch_size=5)
    assert vectors.shape == (len(texts), lm.hidden_size)
    assert vectors.dtype == np.float32
    assert not vectors[-1].any()  # an empty text is a zero row
    # batching and padding do not change a text's vector
    alone = language_model_vectors(lm, [texts[3]])
    np.testing.assert_allclose(alone[0], vectors[3], atol=1e-5)
    assert np.array_equal(vector_from_bytes(vector_to_bytes(vectors[0])), vectors[0])
    # the last layer's states are another pooling of the same model
    last = language_model_vectors(lm, texts[:3], layer=-1)
    assert last.shape == (3, lm.hidden_size)
    assert not np.allclose(last, vectors[:3])

    units = centred_unit_vectors(vectors)
    np.testing.assert_allclose(np.linalg.norm(units[:-1], axis=1), 1.0, atol=1e-5)
    tfidf = tfidf_vectors(texts)
    model_only = similarity_matrix(tfidf=None, model_vectors=units)
    text_only = similarity_matrix(tfidf=tfidf, model_vectors=None)
    combined = similarity_matrix(tfidf=tfidf, model_vectors=units, model_weight=0.25, rows=np.array([0, 1]))
    assert combined.shape == (2, len(texts))
    assert ((combined >= 0) & (combined <= 1)).all()
    expected = np.clip(0.75 * text_only[:2] + 0.25 * np.clip(units[:2] @ units.T, -1, 1), 0, 1)
    np.testing.assert_allclose(combined, expected, atol=1e-5)
    assert ((model_only >= 0) & (model_only <= 1)).all()
