"""A real Celery worker process against Redis and the PostgreSQL test database, for task tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis
from django.conf import settings

from backoffice.celery import app

ROOT = Path(__file__).resolve().parent.parent


def test_database_url() -> str:
    database = settings.DATABASES["default"]
    user = database.get("USER") or "postgres"
    host = database.get("HOST") or "127.0.0.1"
    port = database.get("PORT") or 5432
    password = f":{database['PASSWORD']}" if database.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{host}:{port}/{database['NAME']}"


@contextmanager
def broker(redis_url: str) -> Iterator[None]:
    """Send tasks from this process to Redis instead of running them in-process."""
    redis.Redis.from_url(redis_url).flushdb()
    saved = {key: app.conf[key] for key in ("broker_url", "result_backend", "task_always_eager")}
    app.conf.update(broker_url=redis_url, result_backend=redis_url, task_always_eager=False)
    _forget_connections()
    try:
        yield
    finally:
        app.conf.update(saved)
        _forget_connections()


def _forget_connections() -> None:
    """Drop pooled connections and producers made for the previous broker, so the next send uses the new one."""
    app._pool = None
    app.amqp._producer_pool = None
    # the result backend is cached per thread: an eager test may already have made the in-memory one
    app._local.__dict__.pop("backend", None)
    app.__dict__.pop("backend", None)


class Worker:
    def __init__(
        self,
        redis_url: str,
        queues: str = "default,nlp,forecasting",
        name: str = "test",
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.redis_url = redis_url
        self.extra_env = extra_env or {}
        self.queues = queues
        self.name = name
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = ROOT / "var" / f"celery-worker-{name}.log"

    def start(self) -> Worker:
        env = (
            os.environ
            | {
                "DATABASE_URL": test_database_url(),
                "REDIS_URL": self.redis_url,
                "DB_CONN_MAX_AGE": "0",
                "OMP_NUM_THREADS": "1",
            }
            | self.extra_env
        )
        self.log_path.parent.mkdir(exist_ok=True)
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "backoffice",
                "worker",
                "--pool=solo",
                "--concurrency=1",
                "-Q",
                self.queues,
                "-n",
                f"{self.name}-{os.getpid()}@%h",
                "--without-gossip",
                "--without-mingle",
                "--loglevel=INFO",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Celery worker exited early; see {self.log_path}")
            if b"ready." in self.log_path.read_bytes():
                time.sleep(1)  # let the consumer finish declaring its queues before tests publish
                return self
            time.sleep(0.2)
        raise RuntimeError(f"Celery worker did not start in 60 s; see {self.log_path}")

    def wait_for_log(self, text: str, timeout: float = 20.0) -> str:
        """The worker's log once it contains ``text`` (the result of a task can arrive before its log line)."""
        deadline = time.monotonic() + timeout
        while True:
            log = self.log_path.read_text(errors="replace")
            if text in log or time.monotonic() > deadline:
                return log
            time.sleep(0.1)

    def kill(self) -> None:
        """Kill the worker abruptly, as a lost machine would."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
