"""What every Stockpilot API endpoint shares: authentication, merchant selection, roles, errors, schema.

Authentication: ``Authorization: Token <key>`` (or ``Bearer <key>``) with a key from
``POST /api/v1/auth/token/``, or the Django session (browsable API). A key acts as one member
at one merchant. A session user picks the merchant with the ``X-Merchant: <slug>`` header, which
may be left out when the user belongs to exactly one merchant. A merchant the caller does not
belong to is a 404, the same answer as for one that does not exist.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django_filters.fields import IsoDateTimeField
from django_filters.filters import IsoDateTimeFilter
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions, serializers, status
from rest_framework.authentication import BaseAuthentication, SessionAuthentication, get_authorization_header
from rest_framework.generics import GenericAPIView
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView, exception_handler
from rest_framework.viewsets import ViewSetMixin

from integrations.models import ApiKey, ApiScope
from integrations.services import api_key_authenticate
from inventory.models import Membership, Merchant, Role
from inventory.selectors import memberships_for_user

MERCHANT_HEADER = "X-Merchant"
ROLE_RANK = {Role.VIEWER: 0, Role.BUYER: 1, Role.ADMIN: 2}

# Authentication


class ApiKeyAuthentication(BaseAuthentication):
    """``Authorization: Token sp_...`` or ``Authorization: Bearer sp_...``; ``request.auth`` is the ``ApiKey``."""

    keywords = (b"token", b"bearer")

    def authenticate(self, request: Request) -> tuple[Any, ApiKey] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() not in self.keywords:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Send the key as 'Authorization: Token <key>'.")
        try:
            key = parts[1].decode()
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid API key.") from None
        api_key = api_key_authenticate(key=key)
        if api_key is None or not api_key.membership.user.is_active:
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.")
        return api_key.membership.user, api_key

    def authenticate_header(self, request: Request) -> str:
        return 'Token realm="api"'


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = ApiKeyAuthentication
    name = "ApiKey"

    def get_security_definition(self, auto_schema: AutoSchema) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A key from POST /api/v1/auth/token/, sent as 'Authorization: Token <key>' "
            "or 'Authorization: Bearer <key>'. It acts as one member at one merchant.",
        }


# Merchant selection and roles


def request_membership(request: Request) -> Membership:
    """The membership the request acts as (cached on the request); 404 for a merchant that is not the caller's."""
    cached = getattr(request, "_stockpilot_membership", None)
    if cached is not None:
        return cached
    slug = request.headers.get(MERCHANT_HEADER, "").strip()
    if isinstance(request.auth, ApiKey):
        membership = request.auth.membership
        if slug and slug != membership.merchant.slug:
            raise exceptions.NotFound("No such merchant.")
    else:
        memberships = memberships_for_user(user=request.user)
        if slug:
            found = memberships.filter(merchant__slug=slug).first()
            if found is None:
                raise exceptions.NotFound("No such merchant.")
            membership = found
        else:
            candidates = list(memberships[:2])
            if len(candidates) != 1:
                raise exceptions.ValidationError(
                    {MERCHANT_HEADER: ["You belong to several merchants (or none): name one in the X-Merchant header."]}
                )
            membership = candidates[0]
    request._stockpilot_membership = membership  # type: ignore[attr-defined]
    return membership


class MerchantRolePermission(BasePermission):
    """The caller's role at the merchant must reach the view's ``required_roles`` for the action.

    Reads need ``viewer`` unless the view says otherwise; writes need what ``required_roles``
    names (``admin`` by default). A key also needs the ``read`` or ``write`` scope.
    """

    def has_permission(self, request: Request, view: APIView) -> bool:
        if not request.user or not request.user.is_authenticated:
            raise exceptions.NotAuthenticated()
        membership = request_membership(request)
        safe = request.method in ("GET", "HEAD", "OPTIONS")
        if isinstance(request.auth, ApiKey) and not request.auth.allows(ApiScope.READ if safe else ApiScope.WRITE):
            self.message = f"This API key lacks the {'read' if safe else 'write'} scope."
            return False
        action = getattr(view, "action", None) or (request.method or "").lower()
        required_roles: Mapping[str, str] = getattr(view, "required_roles", {})
        needed = required_roles.get(action, Role.VIEWER if safe else Role.ADMIN)
        if ROLE_RANK[Role(membership.role)] < ROLE_RANK[Role(needed)]:
            self.message = f"Your role ({membership.role}) may not do this; it needs {needed}."
            return False
        return True


# Errors


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, plus the services' errors: a ``ValidationError`` is 400 keyed by field, an illegal
    transition, an oversell, a reused idempotency key or a second pipeline run is 409, a too-large body 413.
    A service error is a conflict when its class names a ``conflict_code``."""
    code = getattr(exc, "conflict_code", None)
    if isinstance(exc, DjangoValidationError) and code:
        return Response(
            {"detail": " ".join(_messages(exc)), "code": code, "errors": _field_errors(exc)},
            status=status.HTTP_409_CONFLICT,
        )
    if isinstance(exc, DjangoValidationError):
        return Response(_field_errors(exc), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, RequestDataTooBig):
        return Response({"detail": "The request body is too large."}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    return exception_handler(exc, context)


def _field_errors(exc: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {
            ("non_field_errors" if field == "__all__" else field): list(messages)
            for field, messages in exc.message_dict.items()
        }
    return {"non_field_errors": list(exc.messages)}


def _messages(exc: DjangoValidationError) -> list[str]:
    return [message for messages in _field_errors(exc).values() for message in messages]


# Serializers


class StrictSerializerMixin:
    """Reject fields the serializer does not know (400 naming each); read-only fields sent back are ignored."""

    fields: Any
    initial_data: Any

    def to_internal_value(self, data: Any) -> Any:
        unknown: dict[str, list[str]] = {}
        if isinstance(data, Mapping):
            unknown = {str(name): ["Unknown field."] for name in data if name not in self.fields}
        try:
            value = super().to_internal_value(data)  # type: ignore[misc]
        except serializers.ValidationError as error:
            if unknown and isinstance(error.detail, dict):
                raise serializers.ValidationError({**error.detail, **unknown}) from None
            raise
        if unknown:
            raise serializers.ValidationError(unknown)
        return value


class StrictSerializer(StrictSerializerMixin, serializers.Serializer):
    pass


class StrictModelSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    pass


class ApiPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


# Schema


_ERROR = {"$ref": "#/components/schemas/Error"}
_VALIDATION_ERROR = {"$ref": "#/components/schemas/ValidationError"}
_CONFLICT = {"$ref": "#/components/schemas/Conflict"}

ERROR_COMPONENTS = {
    "Error": {
        "type": "object",
        "properties": {"detail": {"type": "string"}},
        "required": ["detail"],
        "description": "Authentication, permission, not found, throttling and other errors.",
    },
    "ValidationError": {
        "type": "object",
        "description": "Field-level errors: each key is a field of the request (or 'non_field_errors', or a "
        "header name), each value a list of messages; nested fields (such as order lines) nest the same way.",
        "additionalProperties": {
            "anyOf": [
                {"type": "string"},
                {"type": "array", "items": {"type": "string"}},
                {"type": "array", "items": {"type": "object"}},
                {"type": "object"},
            ]
        },
    },
    "Conflict": {
        "type": "object",
        "properties": {
            "detail": {"type": "string"},
            "code": {
                "type": "string",
                "enum": [
                    "illegal_transition",
                    "insufficient_stock",
                    "idempotency_key_reused",
                    "pipeline_already_running",
                ],
            },
            "errors": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
        },
        "required": ["detail", "code"],
    },
}


class ApiAutoSchema(AutoSchema):
    """Adds the X-Merchant header and the error responses every endpoint may give."""

    def get_override_parameters(self) -> list[Any]:
        parameters = list(super().get_override_parameters())
        if getattr(self.view, "merchant_scoped", True):
            parameters.append(
                OpenApiParameter(
                    MERCHANT_HEADER,
                    str,
                    OpenApiParameter.HEADER,
                    description="The merchant's slug. Optional with an API key (it must then match the key's "
                    "merchant); needed with a session when the user belongs to several merchants.",
                )
            )
        return parameters

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses = dict(super()._get_response_bodies(direction))
        errors: dict[str, tuple[dict[str, str], str]] = {
            "400": (_VALIDATION_ERROR, "Invalid input: messages keyed by field."),
            "401": (_ERROR, "No or invalid credentials."),
            "403": (_ERROR, "Your role or the key's scopes do not allow this."),
            "404": (_ERROR, "No such object at this merchant (or no such merchant)."),
            "429": (_ERROR, "Too many requests; retry after the number of seconds in Retry-After."),
        }
        if not getattr(self.view, "merchant_scoped", True):
            errors.pop("404")
            errors.pop("403")
        if self.method in ("POST", "PUT", "PATCH"):
            errors["413"] = (_ERROR, "The request body is too large.")
        action = getattr(self.view, "action", None) or self.method.lower()
        for code in getattr(self.view, "conflict_actions", {}).get(action, ()):
            errors[code] = (_CONFLICT, "Conflicts with the current state; see 'code' and 'detail'.")
        for code, (schema, description) in errors.items():
            responses.setdefault(
                code, {"content": {"application/json": {"schema": schema}}, "description": description}
            )
        return responses


class MerchantApi(GenericAPIView):  # type: ignore[type-arg]
    """Base of every merchant-scoped endpoint: ``self.merchant``/``self.membership`` are the caller's."""

    authentication_classes = [ApiKeyAuthentication, SessionAuthentication]
    permission_classes = [MerchantRolePermission]
    pagination_class = ApiPagination
    schema = ApiAutoSchema()
    required_roles: ClassVar[Mapping[str, str]] = {}
    conflict_actions: ClassVar[Mapping[str, tuple[str, ...]]] = {}

    def get_exception_handler(self) -> Any:
        return api_exception_handler

    def get_serializer_context(self) -> dict[str, Any]:
        context = dict(super().get_serializer_context())
        if getattr(self, "swagger_fake_view", False):
            return context
        return {**context, "merchant": self.merchant}

    @property
    def membership(self) -> Membership:
        return request_membership(self.request)

    @property
    def merchant(self) -> Merchant:
        return self.membership.merchant


class MerchantViewSet(ViewSetMixin, MerchantApi):
    """A viewset of merchant-scoped endpoints (add the list/retrieve/create/update mixins)."""


class IdsFirstPagination:
    """For lists whose rows carry per-row subqueries or wide joins: the page is chosen on ids alone (PostgreSQL
    computes a row's select list even for the rows an OFFSET skips), then only the page's rows are loaded whole,
    in the page's order."""

    def paginate_queryset(self, queryset: QuerySet[Any, Any] | Sequence[Any]) -> list[Any] | None:
        assert isinstance(queryset, QuerySet)
        ids = super().paginate_queryset(queryset.values_list("pk", flat=True))  # type: ignore[misc]
        if ids is None:
            return None
        ids = list(ids)
        rows = {row.pk: row for row in queryset.order_by().filter(pk__in=ids)}
        return [rows[pk] for pk in ids]


# The name nlp/api/alternatives.py imports (an earlier name of MerchantApi).
MerchantApiMixin = MerchantApi


def add_error_components(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """Spectacular post-processing hook: the error shapes the responses above refer to."""
    result.setdefault("components", {}).setdefault("schemas", {}).update(ERROR_COMPONENTS)
    return result


# Filters


class UtcDateTimeField(IsoDateTimeField):
    """An ISO 8601 date and time, converted to UTC; offsets or years the database cannot hold are a 400."""

    def to_python(self, value: Any) -> datetime.datetime | None:
        parsed = super().to_python(value)
        try:
            return parsed.astimezone(datetime.UTC) if parsed is not None and parsed.tzinfo is not None else parsed
        except OverflowError:
            raise DjangoValidationError("The date and time is out of range.", code="invalid") from None


class UtcDateTimeFilter(IsoDateTimeFilter):
    field_class = UtcDateTimeField
