"""Auth tokens, CSV imports and webhook endpoints."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth import authenticate
from django.db.models import QuerySet
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from integrations import services
from integrations.api.common import ApiAutoSchema, ApiKeyAuthentication, MerchantViewSet, api_exception_handler
from integrations.api.serializers import (
    ImportCreateSerializer,
    ImportJobSerializer,
    TokenRequestSerializer,
    TokenSerializer,
    WebhookDeliverySerializer,
    WebhookEndpointSerializer,
)
from integrations.models import ApiKey, ImportJob, ImportKind, ImportStatus, WebhookDelivery, WebhookEndpoint
from inventory.models import Role
from inventory.selectors import memberships_for_user


class TokenApi(APIView):
    """Exchange a username and password for an API key bound to one of your merchants."""

    authentication_classes = [ApiKeyAuthentication]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"
    schema = ApiAutoSchema()
    merchant_scoped = False

    def get_permissions(self) -> list[BasePermission]:
        return [AllowAny()]

    def get_exception_handler(self) -> Any:
        return api_exception_handler

    @extend_schema(
        request=TokenRequestSerializer,
        responses={201: TokenSerializer},
        auth=[],
        description="Returns a new key (shown once) acting as your membership at the merchant, with your role "
        "there. Send it as 'Authorization: Token <key>'. Wrong credentials are 400.",
    )
    def post(self, request: Request) -> Response:
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        user = authenticate(request, username=data["username"], password=data["password"])
        if user is None or not user.is_active:
            raise serializers.ValidationError({"non_field_errors": ["Unable to log in with those credentials."]})
        memberships = memberships_for_user(user=user)
        if "merchant" in data:
            memberships = memberships.filter(merchant__slug=data["merchant"])
        candidates = list(memberships[:2])
        if not candidates:
            raise serializers.ValidationError({"merchant": ["You are not a member of that merchant."]})
        if len(candidates) > 1:
            raise serializers.ValidationError({"merchant": ["You belong to several merchants: name one."]})
        issued = services.api_key_issue(membership=candidates[0], name=data["name"], scopes=data.get("scopes"))
        return Response(
            TokenSerializer(issued.api_key, context={"key": issued.key}).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(responses={204: None}, description="Revoke the key this request is authenticated with.")
    def delete(self, request: Request) -> Response:
        if not isinstance(request.auth, ApiKey):
            raise exceptions.NotAuthenticated("Authenticate with the key to revoke.")
        services.api_key_revoke(api_key=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)


# Imports


class ImportJobFilter(filters.FilterSet):
    kind = filters.ChoiceFilter(choices=ImportKind.choices)
    status = filters.ChoiceFilter(choices=ImportStatus.choices)

    class Meta:
        model = ImportJob
        fields = ["kind", "status"]


@extend_schema_view(
    create=extend_schema(
        request={"multipart/form-data": ImportCreateSerializer},
        responses={
            201: ImportJobSerializer,
            422: OpenApiResponse(
                ImportJobSerializer,
                description="The file has bad rows: nothing was written; 'errors' lists each row and column.",
            ),
        },
        description="Import products, sales history or a stock snapshot from a CSV file, all or nothing. "
        "Columns: products: sku,name,unit_cost,price[,description,supplier,case_pack,moq,"
        "lead_time_days_override,is_active]; sales: external_id,sku,ordered_at,quantity,unit_price; "
        "stock: sku,on_hand[,warehouse].",
    )
)
class ImportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, MerchantViewSet):
    serializer_class = ImportJobSerializer
    parser_classes = [MultiPartParser, FormParser]
    filterset_class = ImportJobFilter
    ordering_fields = ["created_at", "id"]
    ordering = ["-created_at", "-id"]
    queryset = ImportJob.objects.none()
    required_roles: ClassVar[dict[str, str]] = {"create": Role.ADMIN}

    def get_queryset(self) -> QuerySet[ImportJob]:
        return ImportJob.objects.filter(merchant=self.merchant).order_by("-created_at", "-id")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = ImportCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["file"]
        outcome = services.csv_import_run(
            merchant=self.merchant,
            kind=serializer.validated_data["kind"],
            source=upload,
            filename=upload.name or "",
            user=request.user,
        )
        code = status.HTTP_422_UNPROCESSABLE_ENTITY if outcome.errors else status.HTTP_201_CREATED
        return Response(ImportJobSerializer(outcome.job).data, status=code)


# Webhooks


@extend_schema_view(
    create=extend_schema(description="Register a URL for events. The response's 'secret' signs the deliveries."),
)
class WebhookViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    MerchantViewSet,
):
    """Webhook endpoints of the merchant (admins only).

    Each delivery is a POST of JSON ``{id, event, created_at, merchant, data}`` with headers
    ``X-Stockpilot-Event``, ``X-Stockpilot-Delivery`` and ``X-Stockpilot-Signature: t=<unix time>,v1=<hex>``,
    where v1 is HMAC-SHA256 of ``"<t>.<body>"`` keyed with the endpoint's secret. Network errors,
    429 and 5xx answers are retried with exponential backoff (8 attempts in all).
    """

    serializer_class = WebhookEndpointSerializer
    ordering_fields = ["id", "created_at"]
    ordering = ["id"]
    filterset_fields: ClassVar[list[str]] = ["is_active"]
    queryset = WebhookEndpoint.objects.none()
    required_roles: ClassVar[dict[str, str]] = {"list": Role.ADMIN, "retrieve": Role.ADMIN, "deliveries": Role.ADMIN}

    def get_queryset(self) -> QuerySet[WebhookEndpoint]:
        return WebhookEndpoint.objects.filter(merchant=self.merchant).order_by("id")

    def perform_create(self, serializer: BaseSerializer[WebhookEndpoint]) -> None:
        serializer.instance = services.webhook_endpoint_create(merchant=self.merchant, **serializer.validated_data)

    def perform_update(self, serializer: BaseSerializer[WebhookEndpoint]) -> None:
        assert serializer.instance is not None
        serializer.instance = services.webhook_endpoint_update(
            endpoint=serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance: WebhookEndpoint) -> None:
        services.webhook_endpoint_delete(endpoint=instance)

    @extend_schema(responses={200: WebhookDeliverySerializer(many=True)}, filters=False)
    @action(detail=True, methods=["get"], serializer_class=WebhookDeliverySerializer)
    def deliveries(self, request: Request, pk: str | None = None) -> Response:
        """The endpoint's deliveries, newest first, each with its attempts (status code, error, duration)."""
        endpoint = self.get_object()
        deliveries = (
            WebhookDelivery.objects.filter(endpoint=endpoint)
            .prefetch_related("attempts")
            .order_by("-created_at", "-id")
        )
        page = self.paginate_queryset(deliveries)
        return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)
