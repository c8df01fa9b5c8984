import pytest

from nlp.models import TextSignal
from nlp.services import TextInput, texts_create
from nlp.tasks import text_signals_score_task


@pytest.fixture
def nlp_worker_env(monkeypatch, tiny_model_dir):
    """The worker process reads its model and threads from the environment, like a deployed nlp worker."""
    monkeypatch.setenv("NLP_MODEL", str(tiny_model_dir))
    monkeypatch.setenv("NLP_TORCH_THREADS", "1")


@pytest.mark.worker
def test_scoring_runs_on_the_nlp_queue_in_a_real_worker(nlp_worker_env, celery_worker, merchant, product):
    texts = texts_create(
        merchant=merchant,
        texts=[TextInput("enquiry", "Could we order 200 blue mugs for a wedding?", sku="MUG-1")],
    )
    result = text_signals_score_task.delay(merchant.pk, [texts[0].pk])
    assert result.get(timeout=120)["scored"] == 1
    assert TextSignal.objects.filter(text=texts[0]).count() == 1
    line = f"Task nlp.tasks.text_signals_score_task[{result.id}] succeeded"
    assert line in celery_worker.wait_for_log(line)
