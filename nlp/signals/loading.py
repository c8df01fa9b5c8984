"""Loading a causal language model once per process, optionally quantised for CPU inference."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import threading
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from nlp.signals.labels import LABELS_VERSION

PRECISIONS = ("fp32", "int8", "bf16")
BUILD_HINT = (
    "Either set NLP_MODEL (or --model) to a hub id this machine can reach or to a local directory saved with "
    "save_pretrained, or build a small model offline from your own texts: "
    "python manage.py nlp_build_model --output var/nlp-model (--merchant SLUG | --texts T.csv), "
    "then set NLP_MODEL=var/nlp-model."
)


class ModelUnavailableError(RuntimeError):
    """The configured language model could not be loaded; the message names both ways out."""


@dataclass(frozen=True)
class LanguageModel:
    """A tokenizer and causal LM ready for scoring. ``fingerprint`` identifies weights, precision and labels."""

    name: str
    tokenizer: Any
    model: Any  # a transformers PreTrainedModel, possibly quantised
    precision: str
    fingerprint: str

    @property
    def hidden_size(self) -> int:
        return int(self.model.config.hidden_size)


def set_torch_threads(threads: int) -> None:
    """Pin torch's intra-op threads. On shared cores more threads than free cores collapses throughput,
    so workers set this deliberately (NLP_TORCH_THREADS) instead of taking torch's default of all cores."""
    if threads < 1:
        raise ValueError(f"threads must be at least 1, got {threads}.")
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


def _weights_digest(path: Path) -> str:
    files = [
        file
        for file in sorted(path.iterdir())
        if file.suffix in {".safetensors", ".bin", ".json", ".txt"} and file.is_file()
    ]
    # Hashing a large model's weights takes a while: the digest is kept while no file's size or time changes.
    stamp = tuple((file.name, info.st_size, info.st_mtime_ns) for file in files for info in [file.stat()])
    known = _digests.get(path)
    if known is not None and known[0] == stamp:
        return known[1]
    digest = hashlib.sha256()
    for file in files:
        digest.update(file.name.encode())
        with file.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    _digests[path] = (stamp, digest.hexdigest())
    return digest.hexdigest()


_digests: dict[Path, tuple[tuple[tuple[str, int, int], ...], str]] = {}


def model_fingerprint(name: str, *, precision: str, revision: str = "") -> str:
    """A stable id for scores made by this model: content of a local directory, or hub id and revision."""
    path = Path(name)
    source = _weights_digest(path) if path.is_dir() else f"hub:{name}@{revision or 'default'}"
    key = json.dumps({"source": source, "precision": precision, "labels": LABELS_VERSION}, sort_keys=True)
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def local_model_fingerprint(name: str, *, precision: str) -> str | None:
    """The fingerprint of a model saved in a local directory, without loading it (None for a hub id, whose
    revision is only known once loaded). A directory rebuilt in place gets a new fingerprint."""
    return model_fingerprint(name, precision=precision) if Path(name).is_dir() else None


def conv1d_to_linear(model: nn.Module) -> nn.Module:
    """Replace GPT-2's ``Conv1D`` (weight stored transposed) by ``nn.Linear`` so that dynamic int8
    quantisation, which only knows ``nn.Linear``, applies to the attention and MLP projections."""
    from transformers.pytorch_utils import Conv1D

    for parent in list(model.modules()):
        for child_name, child in list(parent.named_children()):
            if isinstance(child, Conv1D):
                linear = nn.Linear(child.weight.shape[0], child.weight.shape[1])
                linear.weight = nn.Parameter(child.weight.detach().t().contiguous())
                linear.bias = nn.Parameter(child.bias.detach().clone())
                setattr(parent, child_name, linear)
    return model


def _quantize_int8(model: nn.Module) -> nn.Module:
    from torch.ao.quantization import quantize_dynamic

    conv1d_to_linear(model)
    output = model.get_output_embeddings()  # type: ignore[operator]
    # The output projection is used at a few positions only and is often tied to the input embedding:
    # keep it in fp32 so that the label log-probabilities stay close to the fp32 model's.
    skip = {name for name, module in model.named_modules() if module is output}
    targets = {name for name, module in model.named_modules() if isinstance(module, nn.Linear) and name not in skip}
    # torch.ao's eager dynamic quantisation is deprecated in favour of torchao (not a dependency here) but
    # still ships and works in the pinned torch; its warnings would otherwise print in every worker.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", UserWarning)
        return quantize_dynamic(model, targets, dtype=torch.qint8)


_lock = threading.Lock()


def load_language_model(name: str, *, precision: str = "int8") -> LanguageModel:
    """The tokenizer and model named by a hub id or a local directory, loaded once per process.

    Raises ``ModelUnavailableError`` saying why and naming both ways out when it cannot be loaded.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}.")
    key = (os.fspath(name), precision)
    with _lock:
        failed = _hub_failures.get(key)
        if failed is not None and time.monotonic() - failed[0] < HUB_RETRY_SECONDS:
            raise ModelUnavailableError(failed[1])
        try:
            # a local directory rebuilt in place is loaded afresh: its fingerprint is part of the cache key
            return _load(*key, local_model_fingerprint(key[0], precision=precision))
        except ModelUnavailableError as error:
            if not _looks_local(key[0]):
                _hub_failures[key] = (time.monotonic(), str(error))
            raise


# A hub that cannot be reached costs about a minute of retries per attempt: a failed hub id is not asked
# again in this process for this long (a local directory is always looked at again).
HUB_RETRY_SECONDS = 600.0
_hub_failures: dict[tuple[str, str], tuple[float, str]] = {}


def _looks_local(name: str) -> bool:
    path = Path(name).expanduser()
    return path.exists() or path.is_absolute() or name.startswith((".", "~")) or name.count("/") > 1


@functools.lru_cache(maxsize=4)
def _load(name: str, precision: str, local_fingerprint: str | None = None) -> LanguageModel:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if not name:
        raise ModelUnavailableError(f"No language model is configured. {BUILD_HINT}")
    path = Path(name).expanduser()
    looks_local = _looks_local(name)
    if looks_local and not (path / "config.json").is_file():
        raise ModelUnavailableError(f"Could not load the language model {name!r}: no saved model there. {BUILD_HINT}")
    try:
        tokenizer = AutoTokenizer.from_pretrained(os.fspath(path) if looks_local else name)
        model = AutoModelForCausalLM.from_pretrained(os.fspath(path) if looks_local else name, dtype=torch.float32)
    except (OSError, ValueError, KeyError) as error:
        raise ModelUnavailableError(
            f"Could not load the language model {name!r}: {str(error).splitlines()[0]} {BUILD_HINT}"
        ) from error
    if len(tokenizer("mug")["input_ids"]) == 0:
        raise ModelUnavailableError(f"The tokenizer of {name!r} encodes text to nothing. {BUILD_HINT}")
    model.eval()
    if precision == "int8":
        model = _quantize_int8(model)  # type: ignore[assignment]
    elif precision == "bf16":
        model = model.to(torch.bfloat16)  # type: ignore[assignment,arg-type]
    revision = str(getattr(model.config, "_commit_hash", "") or "")
    return LanguageModel(
        name=name,
        tokenizer=tokenizer,
        model=model,
        precision=precision,
        fingerprint=model_fingerprint(name, precision=precision, revision=revision),
    )
