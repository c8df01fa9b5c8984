"""Loaded by pytest before Django (``-p tests._env``): test defaults for the environment.

Tests run on the real PostgreSQL at 127.0.0.1:5432 unless DATABASE_URL says otherwise.
"""

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
# A test database of this run's own, so that two suites on one machine never drop each other's database.
os.environ.setdefault("DATABASE_TEST_NAME", f"test_stockpilot_{os.getpid()}")
os.environ.setdefault("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("SECRET_KEY", "tests-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz")
os.environ.setdefault("SECURE_COOKIES", "0")
# the same model name whether or not this checkout has built var/nlp-model; the hub is never asked
os.environ.setdefault("NLP_MODEL", "gpt2")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings")
