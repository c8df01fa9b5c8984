"""API throttling, kept apart from the views: DRF imports it while defining ``APIView``."""

from typing import Any

from rest_framework.request import Request
from rest_framework.throttling import UserRateThrottle


class ApiRateThrottle(UserRateThrottle):
    """Requests per API key (or session user, or address when anonymous); the rate is ``API_THROTTLE_RATE``."""

    scope = "api"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        from integrations.models import ApiKey

        if isinstance(request.auth, ApiKey):
            return self.cache_format % {"scope": self.scope, "ident": f"key-{request.auth.pk}"}
        return super().get_cache_key(request, view)
