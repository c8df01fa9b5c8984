import pytest
from django.core.management import CommandError, call_command


@pytest.mark.django_db
def test_liveness_and_readiness(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ok", "checks": {"database": "ok", "broker": "in-process"}}


@pytest.mark.django_db
def test_readiness_names_an_unreachable_broker(client, settings, monkeypatch):
    from backoffice.celery import app

    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    monkeypatch.setattr(app.conf, "broker_url", "redis://127.0.0.1:1/0")
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["broker"].startswith("error: ")


@pytest.mark.worker
def test_check_workers_sees_a_live_worker(celery_worker, settings, capsys):
    settings.REDIS_URL = celery_worker.redis_url
    call_command("check_workers", "--timeout", "5")
    output = capsys.readouterr().out
    assert "default: test-" in output and "forecasting: test-" in output


@pytest.mark.django_db
def test_check_workers_fails_when_the_broker_is_unreachable(settings, monkeypatch):
    from backoffice.celery import app

    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    monkeypatch.setattr(app.conf, "broker_url", "redis://127.0.0.1:1/0")
    with pytest.raises(CommandError, match=r"Cannot reach the broker at redis://127\.0\.0\.1:1/0"):
        call_command("check_workers", "--timeout", "1")
