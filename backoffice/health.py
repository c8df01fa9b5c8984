"""Liveness and readiness for load balancers and orchestrators, and a check that workers answer."""

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

from backoffice.celery import app


@never_cache
def liveness(request: HttpRequest) -> JsonResponse:
    """The process serves requests."""
    return JsonResponse({"status": "ok"})


@never_cache
def readiness(request: HttpRequest) -> JsonResponse:
    """The database answers, and so does the broker when one is configured; 503 naming what does not."""
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as error:  # any failure means not ready; the message says which
        checks["database"] = f"error: {type(error).__name__}"
    if settings.REDIS_URL:
        try:
            with app.connection_for_write() as broker:
                broker.ensure_connection(max_retries=1, timeout=2)
            checks["broker"] = "ok"
        except Exception as error:
            checks["broker"] = f"error: {type(error).__name__}"
    else:
        checks["broker"] = "in-process"
    ready = all(value in ("ok", "in-process") for value in checks.values())
    return JsonResponse({"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503)


def workers_alive(timeout: float = 3.0) -> dict[str, list[str]]:
    """Queue name → the workers that answered a ping and consume it (empty without a broker)."""
    if not settings.REDIS_URL:
        return {}
    # A connection of its own to the configured broker: the app's pooled one may be to a broker set earlier.
    with app.connection_for_write(settings.REDIS_URL) as connection:
        replies = app.control.inspect(timeout=timeout, connection=connection).active_queues() or {}
    alive: dict[str, list[str]] = {}
    for worker, queues in sorted(replies.items()):
        for queue in queues:
            alive.setdefault(queue["name"], []).append(worker)
    return alive
