"""Building a small GPT-2 offline from a merchant's own texts: byte-level BPE tokenizer plus model.

Hubs are unreachable on many shop networks, so this is the product's offline path. The result is
saved with ``save_pretrained`` and loaded back through the same ``from_pretrained`` path as any model.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

EOS = "<|endoftext|>"


@dataclass(frozen=True)
class ModelSize:
    """GPT-2 shape and training budget. ``small`` builds in a few minutes on 2 cores; ``tiny`` is for tests."""

    layers: int
    hidden: int
    heads: int
    context: int
    vocab: int
    steps: int
    batch: int
    learning_rate: float


SIZES = {
    "tiny": ModelSize(layers=1, hidden=32, heads=2, context=64, vocab=400, steps=30, batch=8, learning_rate=3e-3),
    "small": ModelSize(layers=2, hidden=128, heads=4, context=64, vocab=2000, steps=1200, batch=32, learning_rate=2e-3),
    "base": ModelSize(layers=4, hidden=256, heads=4, context=128, vocab=8000, steps=3000, batch=32, learning_rate=1e-3),
}


@dataclass(frozen=True)
class BuildReport:
    output: Path
    texts: int
    tokens: int
    vocab: int
    parameters: int
    steps: int
    first_loss: float
    last_loss: float
    seconds: float


def train_tokenizer(texts: Sequence[str], *, vocab_size: int) -> object:
    """A byte-level BPE tokenizer (GPT-2's scheme) trained on ``texts``, as a transformers fast tokenizer.

    Built from a ``tokenizers`` object: with transformers 5, ``GPT2TokenizerFast(vocab_file=..., merges_file=...)``
    silently yields an empty tokenizer, so that path is not used.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import GPT2TokenizerFast  # type: ignore[attr-defined]

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=2,
        special_tokens=[EOS],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer=trainer)
    fast = GPT2TokenizerFast(tokenizer_object=tokenizer, eos_token=EOS, bos_token=EOS, unk_token=EOS, pad_token=EOS)
    if not fast("a")["input_ids"]:
        raise RuntimeError("The trained tokenizer encodes text to nothing.")
    return fast


def build_language_model(
    texts: Sequence[str],
    output: Path,
    *,
    size: str = "small",
    seed: int = 0,
    max_seconds: float | None = None,
    progress: Callable[[int, float], None] | None = None,
) -> BuildReport:
    """Train a tokenizer and a small GPT-2 on ``texts`` and save both to ``output`` with ``save_pretrained``.

    Deterministic for a given seed and thread count. Training stops after the size's steps or
    ``max_seconds``, whichever comes first.
    """
    from transformers import GPT2Config, GPT2LMHeadModel

    started = time.monotonic()
    shape = SIZES[size]
    corpus = [" ".join(text.split()) for text in texts if text and text.strip()]
    if len(corpus) < 2:
        raise ValueError("At least two non-empty texts are needed to build a language model.")
    torch.manual_seed(seed)
    generator = np.random.default_rng(seed)
    tokenizer = train_tokenizer(corpus, vocab_size=shape.vocab)
    eos = tokenizer.eos_token_id  # type: ignore[attr-defined]
    stream: list[int] = []
    for ids in tokenizer(corpus, add_special_tokens=False)["input_ids"]:  # type: ignore[operator]
        stream.extend([*ids, eos])
    data = torch.tensor(stream, dtype=torch.long)
    context = min(shape.context, max(8, len(stream) // 2))
    config = GPT2Config(
        vocab_size=len(tokenizer),  # type: ignore[arg-type]
        n_positions=max(shape.context, 256),
        n_embd=shape.hidden,
        n_layer=shape.layers,
        n_head=shape.heads,
        bos_token_id=eos,
        eos_token_id=eos,
        pad_token_id=eos,
        resid_pdrop=0.1,
        embd_pdrop=0.1,
        attn_pdrop=0.1,
    )
    model = GPT2LMHeadModel(config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=shape.learning_rate, weight_decay=0.01)
    warmup = max(1, shape.steps // 20)

    def rate(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, shape.steps - warmup)))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, rate)
    model.train()
    losses: list[float] = []
    step = 0
    for step in range(shape.steps):
        starts = generator.integers(0, max(1, len(stream) - context - 1), size=shape.batch)
        batch = torch.stack([data[start : start + context] for start in starts])
        loss = model(input_ids=batch, labels=batch).loss
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
        if progress is not None and step % 100 == 0:
            progress(step, losses[-1])
        if max_seconds is not None and time.monotonic() - started > max_seconds:
            break
    model.eval()
    output.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(output)
    tokenizer.save_pretrained(output)  # type: ignore[attr-defined]
    return BuildReport(
        output=output,
        texts=len(corpus),
        tokens=len(stream),
        vocab=len(tokenizer),  # type: ignore[arg-type]
        parameters=sum(parameter.numel() for parameter in model.parameters()),
        steps=step + 1,
        first_loss=float(np.mean(losses[:10])),
        last_loss=float(np.mean(losses[-10:])),
        seconds=time.monotonic() - started,
    )
