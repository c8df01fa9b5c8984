"""Text-scoring throughput: a plain batch-1 transformers loop against ``extract_signals_csv``, same run.

Scores 2,000 generated shop texts of about 48 tokens with a GPT-2-small-shaped model (random weights,
12 layers, 768 wide, 50,257-token output; a byte-level BPE tokenizer trained on the texts) and prints:

- the plain loop: per text, tokenizer then ``model(**inputs, output_hidden_states=True)`` under
  ``torch.no_grad`` in fp32 (full-vocabulary logits at every position), measured on a sample of texts
  before and after ours, since the machine is shared and its speed drifts;
- ours: the whole ``manage.py extract_signals_csv --texts T.csv --output S.csv --model DIR`` process
  (Python and Django start-up, model load and quantisation, CSV in and out) on all 2,000 texts, and the
  in-process scoring rate;
- ours as a share of this machine's measured fp32 matmul peak (best of several 1024x1024 products at the
  same thread count), counting 2 x non-embedding parameters FLOPs per token plus the one output projection;
- how far int8 scores are from fp32 scores (nats) on a sample.

Both sides use the same thread count (NLP_TORCH_THREADS, default 1). Figures measured while other
processes share the cores are pessimistic for both; the ratio is what the run compares.

    nice -n 10 .venv/bin/python bench/nlp_throughput.py [--texts 2000] [--baseline-texts 60]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nlp.signals.building import train_tokenizer  # noqa: E402
from nlp.signals.labels import PROMPT  # noqa: E402
from nlp.signals.loading import load_language_model, set_torch_threads  # noqa: E402
from nlp.signals.scenario import generate_scenario  # noqa: E402
from nlp.signals.scoring import score_texts  # noqa: E402

TARGET_TOKENS = 48


def make_texts(count: int, seed: int) -> list[str]:
    sentences = generate_scenario(items=60, days=240, seed=seed, chatter_rate=0.3).texts["text"].tolist()
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(sentences, size=6, replace=False)) for _ in range(count)]


def fit_length(texts: list[str], tokenizer: object) -> list[str]:
    """Trim each text to about TARGET_TOKENS tokens (whole words)."""
    fitted = []
    for text in texts:
        words = text.split()
        while len(words) > 3 and len(tokenizer(" ".join(words))["input_ids"]) > TARGET_TOKENS:  # type: ignore[operator]
            words = words[:-1]
        fitted.append(" ".join(words))
    return fitted


def matmul_peak(size: int = 1024, repeats: int = 8) -> float:
    a, b = torch.randn(size, size), torch.randn(size, size)
    best = 0.0
    for _ in range(repeats):
        started = time.perf_counter()
        a @ b
        best = max(best, 2 * size**3 / (time.perf_counter() - started))
    return best / 1e9


def plain_loop(model: torch.nn.Module, tokenizer: object, texts: list[str]) -> float:
    started = time.perf_counter()
    with torch.no_grad():
        for text in texts:
            inputs = tokenizer(text + PROMPT, return_tensors="pt")  # type: ignore[operator]
            model(**inputs, output_hidden_states=True)
    return len(texts) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--texts", type=int, default=2000)
    parser.add_argument("--baseline-texts", type=int, default=60, help="texts per plain-loop sample (two samples)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    threads = int(os.environ.get("NLP_TORCH_THREADS", "1"))
    set_torch_threads(threads)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="nlp-throughput-"))
    model_dir = workdir / "gpt2-small-random"

    from transformers import AutoModelForCausalLM, GPT2Config, GPT2LMHeadModel

    raw = make_texts(args.texts, args.seed)
    tokenizer = train_tokenizer(raw, vocab_size=8000)
    texts = fit_length(raw, tokenizer)
    tokens = np.array([len(tokenizer(text)["input_ids"]) for text in texts])  # type: ignore[operator]
    if not model_dir.exists():
        torch.manual_seed(args.seed)
        GPT2LMHeadModel(GPT2Config()).save_pretrained(model_dir)  # GPT-2 small's shape, random weights
        tokenizer.save_pretrained(model_dir)  # type: ignore[attr-defined]
    csv = workdir / "texts.csv"
    pd.DataFrame(
        {
            "text_id": [f"T{i:05d}" for i in range(len(texts))],
            "item_id": "SKU-001",
            "date": "2026-01-01",
            "text": texts,
        }
    ).to_csv(csv, index=False)
    print(f"{len(texts)} texts, {tokens.mean():.1f} tokens on average (+{len(tokenizer(PROMPT)['input_ids'])} prompt)")  # type: ignore[operator]
    print(f"threads {threads}; machine load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")

    peak_before = matmul_peak()
    plain_model = AutoModelForCausalLM.from_pretrained(model_dir).eval()
    plain_before = plain_loop(plain_model, tokenizer, texts[: args.baseline_texts])

    env = os.environ | {"NLP_TORCH_THREADS": str(threads), "PYTHONWARNINGS": "ignore"}
    started = time.perf_counter()
    command = [sys.executable, "manage.py", "extract_signals_csv", "--texts", str(csv), "--output"]
    command += [str(workdir / "signals.csv"), "--model", str(model_dir)]
    finished = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    if finished.returncode != 0:
        raise SystemExit(f"extract_signals_csv failed:\n{finished.stderr[-3000:]}")
    ours_process = len(texts) / (time.perf_counter() - started)

    plain_after = plain_loop(plain_model, tokenizer, texts[-args.baseline_texts :])
    peak_after = matmul_peak()
    plain = (plain_before + plain_after) / 2
    peak = max(peak_before, peak_after)

    precision = os.environ.get("NLP_PRECISION", "int8")
    lm = load_language_model(str(model_dir), precision=precision)
    sample = texts[:400]
    started = time.perf_counter()
    ours_scores = score_texts(lm, sample)
    ours_inprocess = len(sample) / (time.perf_counter() - started)
    config = plain_model.config
    body = sum(p.numel() for n, p in plain_model.named_parameters() if ".h." in n)
    flops_per_text = (
        2 * body * (tokens[:400].mean() + len(tokenizer(PROMPT)["input_ids"])) + 2 * config.vocab_size * config.n_embd
    )  # type: ignore[operator]
    achieved = flops_per_text * ours_inprocess / 1e9

    reference = score_texts(load_language_model(str(model_dir), precision="fp32"), sample[:100])
    difference = np.abs(reference.scores - ours_scores.scores[:100])
    cosine = np.sum(reference.embeddings * ours_scores.embeddings[:100], axis=1) / (
        np.linalg.norm(reference.embeddings, axis=1) * np.linalg.norm(ours_scores.embeddings[:100], axis=1)
    )

    print()
    print(f"{'':44s}{'texts/s':>10s}{'x plain':>10s}")
    label = "plain batch-1 loop (before / after ours)"
    print(f"{label:44s}{plain:10.2f}{1:10.2f}   ({plain_before:.2f} / {plain_after:.2f})")
    print(f"{'ours: extract_signals_csv, whole process':44s}{ours_process:10.2f}{ours_process / plain:10.2f}")
    print(f"{'ours: scoring in process (' + precision + ')':44s}{ours_inprocess:10.2f}{ours_inprocess / plain:10.2f}")
    print()
    print(
        f"fp32 matmul peak {peak:.1f} GFLOP/s (before {peak_before:.1f}, after {peak_after:.1f}); ours does "
        f"{achieved:.1f} GFLOP/s-equivalent = {100 * achieved / peak:.0f}% of it"
    )
    print(
        f"{precision} vs fp32 scores on 100 texts: max |diff| {difference.max():.4f} nats, "
        f"mean {difference.mean():.4f}; representation cosine min {cosine.min():.4f}"
    )


if __name__ == "__main__":
    main()
