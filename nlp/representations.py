"""Product text representations and their similarities: pure numpy/scipy/scikit-learn/torch, no Django.

- ``language_model_vectors``: the mean of the configured causal LM's hidden states (``DEFAULT_LAYER``) over a
  product's text tokens, stored per product (``ProductRepresentation``).
- ``tfidf_vectors``: character 3-5-gram TF-IDF within word boundaries, fitted on the catalogue's own texts;
  cheap enough to recompute from the names and descriptions whenever it is needed, so it is not stored.
- ``similarity_matrix``: cosine similarities in [0, 1] from either or both; the language model's vectors are
  centred on the catalogue mean first, since raw mean-pooled states all point the same way.
  ``combined`` weighs the two cosines (``DEFAULT_MODEL_WEIGHT`` for the language model); a cold start instead
  averages the estimates made under each (``COLDSTART_MODEL_WEIGHT``).

Which to use is measured by ``bench/coldstart.py``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from enum import StrEnum
from typing import TYPE_CHECKING

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

if TYPE_CHECKING:
    from nlp.signals.loading import LanguageModel

# The language model's share of a combined similarity (one score per pair, for ranking alternatives).
DEFAULT_MODEL_WEIGHT = 0.3
# The language model's share of a cold-start estimate: the estimate from the language model's neighbours and
# the one from TF-IDF's, averaged in log space with this weight (``forecasting.coldstart.combine_estimates``).
# bench/coldstart.py chooses it, with the pooled layer below, on three validation splits; on its held-out new
# SKUs TF-IDF alone does a little better (MAE 1.29 against 1.32), so the evidence for the model is mixed: 0
# switches it off.
COLDSTART_MODEL_WEIGHT = 0.5
# On short product names, the small GPT-2 built offline gives better neighbours from its learned token
# embeddings (layer 0) than from its last layer.
DEFAULT_LAYER = 0
MAX_TOKENS = 64
BATCH_SIZE = 64


class RepresentationKind(StrEnum):
    TFIDF = "tfidf"
    LANGUAGE_MODEL = "language_model"
    COMBINED = "combined"


def product_text(name: str, description: str) -> str:
    """The text a product is represented by: its name, then its description when that adds anything."""
    name, description = " ".join(str(name).split()), " ".join(str(description).split())
    if not description or description.lower() == name.lower():
        return name
    if not name or description.lower().startswith(name.lower()):
        return description
    return f"{name}. {description}"


def representation_fingerprint(model_fingerprint: str, *, layer: int = DEFAULT_LAYER) -> str:
    """Identifies stored vectors: the model's weights and precision, and which hidden states were pooled."""
    return f"{model_fingerprint}:layer{layer}"


def text_hash(text: str) -> str:
    """Identifies a product text, so that a representation is recomputed only when the text changes."""
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def tfidf_vectors(texts: Sequence[str]) -> sparse.csr_matrix:
    """Character 3-5-gram TF-IDF (within word boundaries, sublinear term frequency), rows of unit length,
    fitted on ``texts`` themselves. An empty text is a zero row."""
    cleaned = [" ".join(str(text).lower().split()) for text in texts]
    if not any(cleaned):
        return sparse.csr_matrix((len(cleaned), 1), dtype=np.float32)
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, dtype=np.float32)
    try:
        return sparse.csr_matrix(vectorizer.fit_transform(cleaned))
    except ValueError:  # texts shorter than three characters: no n-grams at all
        return sparse.csr_matrix((len(cleaned), 1), dtype=np.float32)


def language_model_vectors(
    lm: LanguageModel,
    texts: Sequence[str],
    *,
    layer: int = DEFAULT_LAYER,
    max_tokens: int = MAX_TOKENS,
    batch_size: int = BATCH_SIZE,
) -> np.ndarray:
    """[texts, hidden] float32: the mean over each text's first ``max_tokens`` tokens of the model's hidden
    states at ``layer`` (0: the token and position embeddings the model learned; -1: the last layer's output).
    An empty text is a zero row. Texts are batched by length to keep padding small."""
    import torch

    vectors = np.zeros((len(texts), lm.hidden_size), dtype=np.float32)
    clipped = [" ".join(str(text).split())[: max_tokens * 16] for text in texts]
    encoded = [list(ids[:max_tokens]) for ids in lm.tokenizer(clipped, add_special_tokens=False)["input_ids"]]
    pad = lm.tokenizer.pad_token_id if lm.tokenizer.pad_token_id is not None else (lm.tokenizer.eos_token_id or 0)
    order = [index for index in np.argsort([len(ids) for ids in encoded], kind="stable") if encoded[index]]
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            width = max(len(encoded[row]) for row in rows)
            ids = torch.full((len(rows), width), int(pad), dtype=torch.long)
            mask = torch.zeros((len(rows), width), dtype=torch.long)
            for position, row in enumerate(rows):
                ids[position, : len(encoded[row])] = torch.tensor(encoded[row])
                mask[position, : len(encoded[row])] = 1
            states = lm.model.base_model(input_ids=ids, attention_mask=mask, output_hidden_states=True).hidden_states
            hidden = states[layer].float()
            weights = mask.unsqueeze(-1).float()
            pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1.0)
            vectors[rows] = pooled.numpy()
    return vectors


def _unit_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 1e-12)


def centred_unit_vectors(vectors: np.ndarray) -> np.ndarray:
    """Language-model vectors centred on the mean of the non-zero rows and scaled to unit length (a zero
    row, an empty text, stays zero)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    present = np.linalg.norm(vectors, axis=1) > 1e-12
    if not present.any():
        return np.zeros_like(vectors)
    centred = np.where(present[:, None], vectors - vectors[present].mean(axis=0), 0.0)
    return _unit_rows(centred.astype(np.float32))


def similarity_matrix(
    *,
    tfidf: sparse.csr_matrix | None,
    model_vectors: np.ndarray | None,
    rows: np.ndarray | None = None,
    columns: np.ndarray | None = None,
    model_weight: float = DEFAULT_MODEL_WEIGHT,
) -> np.ndarray:
    """Cosine similarities in [0, 1] (float32) between the ``rows`` and ``columns`` products (indices; default
    all), from the TF-IDF rows, the centred unit language-model vectors (``centred_unit_vectors``), or
    ``model_weight`` of the second plus the rest of the first when both are given."""
    if tfidf is None and model_vectors is None:
        raise ValueError("similarity_matrix needs TF-IDF rows, language-model vectors or both.")
    count = tfidf.shape[0] if tfidf is not None else len(model_vectors)  # type: ignore[arg-type]
    rows = np.arange(count) if rows is None else np.asarray(rows, dtype=int)
    columns = np.arange(count) if columns is None else np.asarray(columns, dtype=int)
    parts: list[tuple[float, np.ndarray]] = []
    if tfidf is not None:
        text_part = (tfidf[rows] @ tfidf[columns].T).toarray().astype(np.float32)
        parts.append((1.0 - model_weight if model_vectors is not None else 1.0, text_part))
    if model_vectors is not None:
        model_part = model_vectors[rows] @ model_vectors[columns].T
        parts.append((model_weight if tfidf is not None else 1.0, model_part.astype(np.float32)))
    combined = sum(weight * part for weight, part in parts)
    return np.clip(np.asarray(combined, dtype=np.float32), 0.0, 1.0)


def vector_to_bytes(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype=np.float32).tobytes()


def vector_from_bytes(data: bytes | memoryview) -> np.ndarray:
    return np.frombuffer(bytes(data), dtype=np.float32)
