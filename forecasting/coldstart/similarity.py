"""Nearest references of each query product from a similarity matrix (queries x references)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Neighbours:
    """``indices`` [queries, k] into the references, most similar first; ``similarities`` [queries, k]
    in [0, 1]. Rows with fewer than k candidates are padded with index -1 and similarity 0."""

    indices: np.ndarray
    similarities: np.ndarray


def nearest(
    similarity: np.ndarray, *, k: int, exclude: np.ndarray | None = None, allowed: np.ndarray | None = None
) -> Neighbours:
    """The ``k`` most similar references per query row, ties broken by reference order.

    ``exclude`` [queries] gives, per query, a reference index it must not pick (itself, when queries are
    references) or -1; ``allowed`` [references] masks out references that may not be used at all.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}.")
    scores = np.clip(np.asarray(similarity, dtype=np.float64), 0.0, 1.0).copy()
    queries, references = scores.shape
    available = np.ones_like(scores, dtype=bool)
    if allowed is not None:
        available[:, ~np.asarray(allowed, dtype=bool)] = False
    if exclude is not None:
        rows = np.flatnonzero(np.asarray(exclude) >= 0)
        available[rows, np.asarray(exclude)[rows]] = False
    scores[~available] = -1.0
    take = min(k, references)
    if take == 0:
        return Neighbours(np.full((queries, k), -1), np.zeros((queries, k)))
    # A stable sort on the negated scores keeps ties in reference order, so results are reproducible.
    order = np.argsort(-scores, axis=1, kind="stable")[:, :take]
    chosen = np.take_along_axis(scores, order, axis=1)
    order = np.where(chosen < 0, -1, order)
    chosen = np.where(chosen < 0, 0.0, chosen)
    if take < k:
        order = np.pad(order, ((0, 0), (0, k - take)), constant_values=-1)
        chosen = np.pad(chosen, ((0, 0), (0, k - take)), constant_values=0.0)
    return Neighbours(indices=order, similarities=chosen)
