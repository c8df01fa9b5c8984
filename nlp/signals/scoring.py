"""Scoring texts with a causal LM: label-continuation scores and a mean-pooled text representation.

Throughput levers (a 2-core CPU is the target): texts are sorted by length and batched to a token
budget with dynamic left padding; the vocabulary projection runs only at the one position that
predicts the label words (a causal LM's forward projects every token); ``torch.inference_mode``;
and, by default, int8 dynamic quantisation of the linear layers (see ``loading``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from nlp.signals.labels import LABELS, PROMPT, SIGNAL_NAMES
from nlp.signals.loading import LanguageModel

DEFAULT_MAX_TOKENS = 128
DEFAULT_BATCH_TOKENS = 512


@dataclass(frozen=True)
class TextScores:
    """Per text (in input order): ``scores`` [n, signals] in nats, ``embeddings`` [n, hidden],
    ``token_counts`` (text tokens scored) and ``truncated`` (the text was longer than the limit)."""

    scores: np.ndarray
    embeddings: np.ndarray
    token_counts: np.ndarray
    truncated: np.ndarray
    signal_names: tuple[str, ...] = SIGNAL_NAMES

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.scores, columns=list(self.signal_names))


@dataclass(frozen=True)
class _Labels:
    tokens: torch.Tensor  # [W] first token of each label word
    signal_of: np.ndarray  # [W] index into SIGNAL_NAMES


def _encode(lm: LanguageModel, text: str) -> list[int]:
    return list(lm.tokenizer(text, add_special_tokens=False)["input_ids"])


def _labels(lm: LanguageModel) -> _Labels:
    tokens, signal_of = [], []
    for index, name in enumerate(SIGNAL_NAMES):
        for word in LABELS[name]:
            ids = _encode(lm, word)
            if not ids:
                raise ValueError(f"The tokenizer of {lm.name!r} encodes the label word {word!r} to nothing.")
            tokens.append(ids[0])
            signal_of.append(index)
    return _Labels(tokens=torch.tensor(tokens, dtype=torch.long), signal_of=np.array(signal_of))


def _pad_id(lm: LanguageModel) -> int:
    for candidate in (lm.tokenizer.pad_token_id, lm.tokenizer.eos_token_id, 0):
        if candidate is not None:
            return int(candidate)
    return 0


def _score_batch(
    lm: LanguageModel, sequences: list[list[int]], text_lengths: list[int], labels: _Labels
) -> tuple[np.ndarray, np.ndarray]:
    """Per-signal label log-probabilities [B, signals] and mean-pooled text representations [B, H]."""
    batch, width = len(sequences), max(len(seq) for seq in sequences)
    ids = torch.full((batch, width), _pad_id(lm), dtype=torch.long)
    mask = torch.zeros((batch, width), dtype=torch.long)
    text_mask = torch.zeros((batch, width), dtype=torch.float32)
    for row, (seq, text_length) in enumerate(zip(sequences, text_lengths, strict=True)):
        start = width - len(seq)  # left padding: every row's prompt ends at the last position
        ids[row, start:] = torch.tensor(seq)
        mask[row, start:] = 1
        text_mask[row, start : start + text_length] = 1.0
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    # The base model, not the LM head: the vocabulary projection is needed at the last position only.
    hidden = lm.model.base_model(input_ids=ids, attention_mask=mask, position_ids=positions).last_hidden_state
    pooled = (hidden.float() * text_mask.unsqueeze(-1)).sum(1) / text_mask.sum(-1, keepdim=True).clamp(min=1.0)
    head = lm.model.get_output_embeddings()
    logits = head(hidden[:, -1, :].to(head.weight.dtype)).float()
    words = logits[:, labels.tokens] - torch.logsumexp(logits, dim=-1, keepdim=True)
    per_signal = torch.stack(
        [torch.logsumexp(words[:, labels.signal_of == index], dim=-1) for index in range(len(SIGNAL_NAMES))], dim=-1
    )
    return per_signal.numpy(), pooled.numpy()


def _batches(lengths: np.ndarray, batch_tokens: int) -> list[np.ndarray]:
    """Indices grouped by similar length so that padding stays small, each within the token budget."""
    order = np.argsort(lengths, kind="stable")
    batches: list[np.ndarray] = []
    current: list[int] = []
    longest = 0
    for index in order:
        longest_if_added = max(longest, int(lengths[index]))
        if current and longest_if_added * (len(current) + 1) > batch_tokens:
            batches.append(np.array(current))
            current, longest_if_added = [], int(lengths[index])
        current.append(int(index))
        longest = longest_if_added
    if current:
        batches.append(np.array(current))
    return batches


def score_texts(
    lm: LanguageModel,
    texts: Sequence[str],
    *,
    max_tokens: int = DEFAULT_MAX_TOKENS,
    batch_tokens: int = DEFAULT_BATCH_TOKENS,
) -> TextScores:
    """Score texts with the model's label continuations (see ``labels``) and pool their representations.

    A text longer than ``max_tokens`` is scored on its first ``max_tokens`` tokens (``truncated``);
    an empty text scores zero on every signal and has a zero representation.
    """
    labels = _labels(lm)
    prompt = _encode(lm, PROMPT)
    # Cap the characters handed to the tokenizer: a 100 kB text must not cost more than its first tokens.
    clipped = [text[: max_tokens * 16] for text in texts]
    encoded = lm.tokenizer(clipped, add_special_tokens=False)["input_ids"] if clipped else []
    truncated = np.array(
        [len(ids) > max_tokens or len(t) > max_tokens * 16 for ids, t in zip(encoded, texts, strict=True)]
    )
    text_ids = [list(ids[:max_tokens]) for ids in encoded]
    text_lengths = np.array([len(ids) for ids in text_ids], dtype=np.int64)
    sequences = [ids + prompt for ids in text_ids]
    scores = np.zeros((len(texts), len(SIGNAL_NAMES)))
    embeddings = np.zeros((len(texts), lm.hidden_size), dtype=np.float32)
    with torch.inference_mode():
        baseline, _ = _score_batch(lm, [prompt], [0], labels)
        for indices in _batches(text_lengths + len(prompt), batch_tokens):
            likelihood, pooled = _score_batch(
                lm, [sequences[i] for i in indices], [int(text_lengths[i]) for i in indices], labels
            )
            scores[indices] = likelihood - baseline
            embeddings[indices] = pooled
    scores[text_lengths == 0] = 0.0
    return TextScores(scores=scores, embeddings=embeddings, token_counts=text_lengths, truncated=truncated)
