from pathlib import Path

import pytest
import torch

from nlp.signals.building import build_language_model
from nlp.signals.scenario import generate_scenario


@pytest.fixture(scope="session")
def scenario():
    return generate_scenario(items=12, days=150, seed=3)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory, scenario) -> Path:
    """A tiny GPT-2 and tokenizer trained for a few steps and saved with save_pretrained: the real
    from_pretrained path, never a mock."""
    torch.set_num_threads(1)
    output = tmp_path_factory.mktemp("tiny-gpt2")
    build_language_model(scenario.texts["text"].tolist(), output, size="tiny", seed=0)
    return output


@pytest.fixture
def nlp_settings(settings, tiny_model_dir: Path):
    settings.NLP_MODEL = str(tiny_model_dir)
    settings.NLP_TORCH_THREADS = 1
    settings.NLP_PRECISION = "int8"
    return settings
