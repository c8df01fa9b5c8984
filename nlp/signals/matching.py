"""Matching a text to the catalogue when it names no known SKU: character n-gram TF-IDF cosine
between the text and each product's name and description, with a threshold."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

DEFAULT_THRESHOLD = 0.5
NAME_WEIGHT = 0.7


@dataclass(frozen=True)
class Match:
    """The best product (index into the catalogue) and its cosine score; ``index`` is None below the threshold."""

    index: int | None
    confidence: float


def match_products(
    texts: Sequence[str],
    names: Sequence[str],
    descriptions: Sequence[str],
    *,
    threshold: float = DEFAULT_THRESHOLD,
) -> list[Match]:
    """Best catalogue match per text: a weighted cosine of name (0.7) and description (0.3) similarity.

    Only the first 2,000 characters of a text are compared: a product is named early, and a 100 kB
    text must not cost more than a short one.
    """
    if not names or not texts:
        return [Match(None, 0.0) for _ in texts]
    clipped = [text[:2000].lower() for text in texts]
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 4), sublinear_tf=True)
    vectorizer.fit([*(name.lower() for name in names), *(text.lower() for text in descriptions)])
    text_vectors = vectorizer.transform(clipped)
    name_similarity = (text_vectors @ vectorizer.transform([n.lower() for n in names]).T).toarray()
    description_similarity = (text_vectors @ vectorizer.transform([d.lower() for d in descriptions]).T).toarray()
    # A word of the name contained in the text is the strongest evidence; cosine over the whole text dilutes it.
    containment = np.array([[_name_containment(text, name) for name in names] for text in clipped])
    score = NAME_WEIGHT * np.maximum(name_similarity, containment) + (1 - NAME_WEIGHT) * description_similarity
    matches = []
    for row in score:
        best = int(np.argmax(row))
        confidence = float(np.clip(row[best], 0.0, 1.0))
        matches.append(Match(best if confidence >= threshold else None, round(confidence, 4)))
    return matches


def _name_containment(text: str, name: str) -> float:
    """Share of the name's words (of 3+ letters) found in the text."""
    words = [word for word in name.lower().split() if len(word) >= 3]
    if not words:
        return 0.0
    return sum(word in text for word in words) / len(words)
