"""Settings are strict: bad environment values are a clear ImproperlyConfigured, never a silent default."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _python_with_settings(code: str, *, unset: set[str], **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter, without the variables in ``unset`` and with ``env`` added."""
    environment = {key: value for key, value in os.environ.items() if key not in unset}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60
    )


def _load_settings(**env: str) -> subprocess.CompletedProcess[str]:
    return _python_with_settings(
        "import backoffice.settings as s; print(s.DEBUG, s.CELERY_TASK_ALWAYS_EAGER)",
        unset={"SECRET_KEY", "DEBUG"},
        **env,
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DEBUG": "0"}, "SECRET_KEY is not set."),
        ({"DEBUG": "0", "SECRET_KEY": "short"}, "SECRET_KEY is too short or marked insecure"),
        ({"DEBUG": "maybe"}, "DEBUG='maybe' is not a boolean"),
        ({"DEBUG": "1", "DB_CONN_MAX_AGE": "ten"}, "DB_CONN_MAX_AGE='ten' is not an integer."),
        ({"DEBUG": "1", "DATABASE_URL": "nosuchdb://x"}, "DATABASE_URL cannot be parsed"),
        ({"DEBUG": "1", "CELERY_UNACKED_RESTORE_SECONDS": "0"}, "CELERY_UNACKED_RESTORE_SECONDS=0 must be at least 1."),
    ],
)
def test_bad_settings_fail_clearly(env, message):
    result = _load_settings(**env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and message in result.stderr


def test_embedded_default_without_variables():
    result = _python_with_settings(
        "import backoffice.settings as s; print(s.DATABASES['default']['ENGINE'], s.DEBUG, s.CELERY_TASK_ALWAYS_EAGER)",
        unset={"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG"},
    )
    assert result.stdout.split() == ["django.db.backends.sqlite3", "True", "True"]


def test_production_settings_are_hardened():
    result = _python_with_settings(
        "import backoffice.settings as s; print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
        "s.SECURE_CONTENT_TYPE_NOSNIFF, s.X_FRAME_OPTIONS, s.ALLOWED_HOSTS)",
        unset=set(),
        DEBUG="0",
        SECRET_KEY="x" * 50,
        SECURE_COOKIES="1",
        ALLOWED_HOSTS="shop.example",
    )
    assert result.stdout.strip() == "True True True DENY ['shop.example']"


@pytest.mark.parametrize(("given", "expected"), [(None, "PASSIVE"), ("ACTIVE", "ACTIVE")])
def test_openmp_threads_wait_passively_unless_told_otherwise(given, expected):
    result = _python_with_settings(
        "import os, backoffice.settings; print(os.environ['OMP_WAIT_POLICY'])",
        unset={"OMP_WAIT_POLICY"},
        **({} if given is None else {"OMP_WAIT_POLICY": given}),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({}, "2400 30 1 10"),
        ({"CELERY_UNACKED_RESTORE_SECONDS": "7"}, "2400 7 1 10"),
        ({"CELERY_UNACKED_SCAN_LOCK_SECONDS": "3"}, "2400 30 1 3"),
    ],
)
def test_a_dead_workers_tasks_are_looked_for_on_every_sweep(given, expected):
    result = _python_with_settings(
        "import backoffice.settings as s; o = s.CELERY_BROKER_TRANSPORT_OPTIONS; print(o['visibility_timeout'], "
        "o['unacked_restore_interval'], o['unacked_restore_throttle'], o['unacked_mutex_expire'])",
        unset={"CELERY_VISIBILITY_TIMEOUT", "CELERY_UNACKED_RESTORE_SECONDS", "CELERY_UNACKED_SCAN_LOCK_SECONDS"},
        **given,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected
