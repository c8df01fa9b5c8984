"""Stockpilot settings, read from environment variables.

With no variables set this is the embedded default: a SQLite file under ``var/`` and
Celery tasks executed in-process. ``DATABASE_URL`` switches to PostgreSQL and
``REDIS_URL`` to a real Celery broker. Every helper below is strict: a value that
cannot be parsed raises ``ImproperlyConfigured`` naming the variable instead of
falling back to a default silently.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean; use one of 1/0, true/false, yes/no, on/off.")


def env_int(name: str, default: int, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer.") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={value} must be at least {minimum}.")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


# The embedded default is a local development install; production sets DEBUG=0 and a real SECRET_KEY.
DEBUG = env_bool("DEBUG", default=True)

_INSECURE_KEY_PREFIX = "django-insecure-"
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set SECRET_KEY to a long random value "
            "(python -c 'import secrets; print(secrets.token_urlsafe(50))') when DEBUG is off."
        )
    SECRET_KEY = _INSECURE_KEY_PREFIX + "local-development-only"
elif not DEBUG and (SECRET_KEY.startswith(_INSECURE_KEY_PREFIX) or len(SECRET_KEY) < 32):
    raise ImproperlyConfigured("SECRET_KEY is too short or marked insecure; use at least 32 random characters.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if not DEBUG else ["*"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "inventory",
    "forecasting",
    "nlp",
    "integrations",
    "backoffice",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The signed-in user's saved language wins over the cookie and the browser's (LocaleMiddleware, above).
    "backoffice.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "backoffice.urls"
WSGI_APPLICATION = "backoffice.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Database: embedded SQLite under var/ unless DATABASE_URL names another database.
VAR_DIR = Path(env_str("STOCKPILOT_VAR_DIR", str(BASE_DIR / "var")))
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    try:
        DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))}
    except (ValueError, dj_database_url.UnknownSchemeError) as error:
        raise ImproperlyConfigured(f"DATABASE_URL cannot be parsed: {error}") from None
    if env_str("DATABASE_TEST_NAME"):
        DATABASES["default"]["TEST"] = {"NAME": env_str("DATABASE_TEST_NAME")}
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(VAR_DIR / "stockpilot.sqlite3"),
            "OPTIONS": {"timeout": 30, "transaction_mode": "IMMEDIATE"},
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "merchant-choose"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]

# Celery: a real broker when REDIS_URL is set; otherwise tasks run in-process.
REDIS_URL = env_str("REDIS_URL")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 1800, minimum=1)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 2100, minimum=1)
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# A task taken by a worker that dies is handed to another worker after this many seconds; it must be longer
# than the longest task (CELERY_TASK_TIME_LIMIT). Workers look for such tasks every CELERY_UNACKED_RESTORE_SECONDS:
# kombu's own default sweeps every 10 s but scans Redis on one sweep in ten, so a dead worker's task waited up to
# 100 s more; a scan is one ZRANGE on the unacked index. A scan holds a lock in Redis that expires after
# CELERY_UNACKED_SCAN_LOCK_SECONDS: a worker killed mid-scan (say by the OOM killer, or just after a task, when a
# solo worker runs its overdue sweep) stops every other worker's scans until then, and kombu's default is 300 s.
# Each task is handed back in its own Redis transaction, so two scans at once cannot hand one back twice.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 2400, minimum=1),
    "unacked_restore_interval": env_int("CELERY_UNACKED_RESTORE_SECONDS", 30, minimum=1),
    "unacked_restore_throttle": 1,
    "unacked_mutex_expire": env_int("CELERY_UNACKED_SCAN_LOCK_SECONDS", 10, minimum=1),
}
CELERY_RESULT_EXPIRES = 24 * 3600
CELERY_TIMEZONE = TIME_ZONE

# Forecasting: the engine's candidate methods (all by default; a short list makes small installs and tests quick)
# and the number of products per pipeline chunk (one Celery task each).
FORECAST_ENGINE_METHODS = tuple(
    env_list(
        "FORECAST_ENGINE_METHODS",
        ["naive", "seasonal_naive", "ets", "croston_sba", "tsb", "adida", "gbm", "gbm_tweedie"],
    )
)
PIPELINE_CHUNK_SIZE = env_int("PIPELINE_CHUNK_SIZE", 500, minimum=1)
# The policy search scores every candidate (s, S) on PLAN_PATHS sampled demand paths per product; a run of
# PLAN_LARGE_JOB_PRODUCTS products or more uses PLAN_LARGE_JOB_PATHS, about half the time for about 0.2% more
# expected cost (measured on fresh paths; see docs/scaling.md).
PLAN_PATHS = env_int("PLAN_PATHS", 200, minimum=10)
PLAN_LARGE_JOB_PATHS = env_int("PLAN_LARGE_JOB_PATHS", 100, minimum=10)
PLAN_LARGE_JOB_PRODUCTS = env_int("PLAN_LARGE_JOB_PRODUCTS", 5000, minimum=1)

# NLP: the causal language model (a hub id or a local directory; `make run` builds one from the demo shop's own
# texts into var/nlp-model with `manage.py nlp_build_model`, used when NLP_MODEL is not set; else gpt2); torch's
# intra-op threads in each process that scores texts (on shared cores, more threads than free cores collapses
# throughput, so this is set deliberately: the cores the nlp worker may use, 1 by default); the inference
# precision (int8: dynamic quantisation of the linear layers, scores within 0.1 nats of fp32; fp32; bf16);
# and the number of texts per scoring task.
BUILT_NLP_MODEL = BASE_DIR / "var" / "nlp-model"
NLP_MODEL = env_str("NLP_MODEL", str(BUILT_NLP_MODEL) if (BUILT_NLP_MODEL / "config.json").is_file() else "gpt2")
NLP_TORCH_THREADS = env_int("NLP_TORCH_THREADS", 1, minimum=1)
NLP_PRECISION = env_str("NLP_PRECISION", "int8")
if NLP_PRECISION not in {"int8", "fp32", "bf16"}:
    raise ImproperlyConfigured(f"NLP_PRECISION={NLP_PRECISION!r} must be one of int8, fp32, bf16.")
NLP_CHUNK_SIZE = env_int("NLP_CHUNK_SIZE", 256, minimum=1)

# OpenMP threads (LightGBM, torch) sleep between parallel regions unless OMP_WAIT_POLICY says otherwise: spinning
# threads starve every other process on the cores. Two `forecast_csv` runs of a 40-item daily history side by side
# on 2 cores took 300 s each (14 s alone); with passive waiting, 25 s each (23 s alone). The OpenMP runtime reads
# it when LightGBM or torch is first imported, which every entry point (manage.py, Celery, WSGI) does after this.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    # Per API key (or session user, or anonymous address); "auth" limits password attempts at /api/v1/auth/token/.
    "DEFAULT_THROTTLE_CLASSES": ["integrations.api.throttling.ApiRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "api": env_str("API_THROTTLE_RATE", "1200/min"),
        "auth": env_str("API_AUTH_THROTTLE_RATE", "20/min"),
    },
}

# Throttle counters live in the cache: Redis when REDIS_URL is set (shared by all workers), else per process.
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Stockpilot API",
    "DESCRIPTION": "Stock, sales orders, purchase orders and replenishment suggestions for one merchant.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI from the drf-spectacular-sidecar package: /api/docs/ loads no asset from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "integrations.api.common.add_error_components",
    ],
    "ENUM_NAME_OVERRIDES": {
        "PurchaseOrderStatusEnum": "inventory.models.PurchaseOrderStatus",
        "MovementKindEnum": "inventory.models.MovementKind",
        "ImportKindEnum": "integrations.models.ImportKind",
        "WebhookEventEnum": "integrations.models.WebhookEvent",
        "JobStatusEnum": "forecasting.models.JobStatus",
        "SuggestionStatusEnum": "forecasting.models.SuggestionStatus",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}

if not DEBUG:
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"
    X_FRAME_OPTIONS = "DENY"
    SESSION_COOKIE_HTTPONLY = True
    CSRF_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", default=True)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=False)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0, minimum=0)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
