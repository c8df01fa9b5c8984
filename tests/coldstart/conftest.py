from pathlib import Path

import pytest
import torch

from nlp.signals.building import build_language_model

CATALOGUE_TEXTS = [
    "red ceramic coffee mug",
    "blue ceramic coffee mug",
    "green ceramic tea mug",
    "white ceramic mug with heart",
    "wooden picture frame small",
    "wooden picture frame large",
    "silver photo frame",
    "christmas bauble glass red",
    "christmas bauble glass gold",
    "christmas tree star decoration",
    "paper napkins pack of twenty",
    "party paper cups pack",
]


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny GPT-2 and byte-level BPE tokenizer trained for a few steps on catalogue texts and saved with
    save_pretrained: loaded through the real from_pretrained path, never a mock."""
    torch.set_num_threads(1)
    output = tmp_path_factory.mktemp("coldstart-tiny-gpt2")
    build_language_model(CATALOGUE_TEXTS * 3, output, size="tiny", seed=0)
    return output


@pytest.fixture
def model_settings(settings, tiny_model_dir: Path):
    settings.NLP_MODEL = str(tiny_model_dir)
    settings.NLP_TORCH_THREADS = 1
    settings.NLP_PRECISION = "fp32"
    return settings
