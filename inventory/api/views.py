"""Inventory endpoints. Each validates, calls one service (or selector) and serialises the result."""

from __future__ import annotations

from typing import Any, ClassVar

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from integrations.api.common import IdsFirstPagination, MerchantApi, MerchantViewSet
from integrations.services import idempotent_run, request_fingerprint
from inventory import selectors, services
from inventory.api import filters
from inventory.api.serializers import (
    EmptySerializer,
    ProductSerializer,
    PurchaseOrderCancelSerializer,
    PurchaseOrderReceiveSerializer,
    PurchaseOrderSendSerializer,
    PurchaseOrderSerializer,
    SalesOrderCancelSerializer,
    SalesOrderCreateSerializer,
    SalesOrderSerializer,
    StockAdjustmentSerializer,
    StockLevelSerializer,
    StockMovementSerializer,
    SupplierSerializer,
    WarehouseSerializer,
)
from inventory.models import Product, PurchaseOrder, Role, SalesOrder, StockLevel, Supplier, Warehouse

IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_PARAMETER = OpenApiParameter(
    IDEMPOTENCY_HEADER,
    str,
    OpenApiParameter.HEADER,
    description="Any unique string (a UUID) of at most 255 characters. A repeat with the same key and body "
    "returns the first response (with 'Idempotent-Replayed: true') and writes nothing; the same key "
    "with a different body is 409.",
)


def idempotent(request: Request, view: MerchantApi, operation: Any) -> Response:
    """Run ``operation`` (returning status and body) once per Idempotency-Key, when the request has one."""
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None:
        code, body = operation()
        return Response(body, status=code)
    result = idempotent_run(
        merchant=view.merchant,
        key=key,
        fingerprint=request_fingerprint(method=request.method or "", path=request.path, body=request.data),
        operation=operation,
    )
    headers = {"Idempotent-Replayed": "true"} if result.replayed else {}
    return Response(result.body, status=result.status, headers=headers)


# Catalogue


class ProductViewSet(
    IdsFirstPagination,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    MerchantViewSet,
):
    """Products with their stock summed over warehouses. Admins create and update; the SKU never changes."""

    serializer_class = ProductSerializer
    filterset_class = filters.ProductFilter
    ordering_fields = ["sku", "name", "price", "unit_cost", "created_at", "updated_at", "available_total"]
    ordering = ["sku"]
    queryset = Product.objects.none()

    def get_queryset(self) -> QuerySet[Product]:
        return selectors.product_list_with_stock_for_merchant(merchant=self.merchant)

    def perform_create(self, serializer: BaseSerializer[Product]) -> None:
        product = services.product_create(merchant=self.merchant, **serializer.validated_data)
        serializer.instance = self.get_queryset().get(pk=product.pk)

    def perform_update(self, serializer: BaseSerializer[Product]) -> None:
        assert serializer.instance is not None
        changes = {field: value for field, value in serializer.validated_data.items() if field != "sku"}
        services.product_update(product=serializer.instance, **changes)
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)


class SupplierViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin, MerchantViewSet
):
    serializer_class = SupplierSerializer
    filterset_class = filters.SupplierFilter
    ordering_fields = ["name", "lead_time_days", "id"]
    ordering = ["name"]
    queryset = Supplier.objects.none()

    def get_queryset(self) -> QuerySet[Supplier]:
        return selectors.supplier_list_for_merchant(merchant=self.merchant)

    def perform_create(self, serializer: BaseSerializer[Supplier]) -> None:
        serializer.instance = services.supplier_create(merchant=self.merchant, **serializer.validated_data)

    def perform_update(self, serializer: BaseSerializer[Supplier]) -> None:
        assert serializer.instance is not None
        serializer.instance = services.supplier_update(supplier=serializer.instance, **serializer.validated_data)


class WarehouseViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin, MerchantViewSet
):
    serializer_class = WarehouseSerializer
    filterset_class = filters.WarehouseFilter
    ordering_fields = ["code", "name", "id"]
    ordering = ["code"]
    queryset = Warehouse.objects.none()

    def get_queryset(self) -> QuerySet[Warehouse]:
        return selectors.warehouse_list_for_merchant(merchant=self.merchant)

    def perform_create(self, serializer: BaseSerializer[Warehouse]) -> None:
        serializer.instance = services.warehouse_create(merchant=self.merchant, **serializer.validated_data)

    def perform_update(self, serializer: BaseSerializer[Warehouse]) -> None:
        assert serializer.instance is not None
        serializer.instance = services.warehouse_update(warehouse=serializer.instance, **serializer.validated_data)


# Stock


class StockLevelViewSet(IdsFirstPagination, mixins.ListModelMixin, mixins.RetrieveModelMixin, MerchantViewSet):
    """On-hand and allocated units per product and warehouse; they change only through the ledger."""

    serializer_class = StockLevelSerializer
    filterset_class = filters.StockLevelFilter
    ordering_fields = ["product__sku", "warehouse__code", "on_hand", "allocated", "updated_at"]
    ordering = ["product__sku", "warehouse__code"]
    queryset = StockLevel.objects.none()

    def get_queryset(self) -> QuerySet[StockLevel]:
        return selectors.stock_level_list_for_merchant(merchant=self.merchant)


class StockAdjustmentApi(MerchantApi):
    """Change on-hand units by a signed quantity; one ledger row is written. Buyers and admins."""

    serializer_class = StockAdjustmentSerializer
    required_roles: ClassVar[dict[str, str]] = {"post": Role.BUYER}
    conflict_actions: ClassVar[dict[str, tuple[str, ...]]] = {"post": ("409",)}

    @extend_schema(
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={201: StockMovementSerializer},
        description="Writes one ledger row through the stock service. Taking more units than are on hand is 409.",
    )
    def post(self, request: Request) -> Response:
        def operation() -> tuple[int, Any]:
            serializer = self.get_serializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            data = serializer.validated_data
            movement = services.stock_adjust(
                merchant=self.merchant,
                product=data["product"],
                warehouse=data.get("warehouse") or selectors.warehouse_default_for_merchant(merchant=self.merchant),
                quantity=data["quantity"],
                kind=data["kind"],
                reference=data["reference"] or "api adjustment",
                note=data["note"],
                user=request.user,
            )
            return status.HTTP_201_CREATED, StockMovementSerializer(movement).data

        return idempotent(request, self, operation)


def _validated(serializer_class: type[BaseSerializer[Any]], request: Request) -> dict[str, Any]:
    """The validated body of an action (an empty body is an empty object)."""
    serializer = serializer_class(data=request.data if request.data is not None else {})
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


# Sales orders


@extend_schema_view(
    create=extend_schema(
        request=SalesOrderCreateSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={
            201: SalesOrderSerializer,
            200: OpenApiResponse(SalesOrderSerializer, description="The order was recorded before: the first one."),
        },
        description="Record a storefront order and take its units from stock, exactly once per channel and "
        "external id (a repeat returns the first order with 200). An order for more units than are available "
        "is refused whole with 409 (code insufficient_stock).",
    )
)
class SalesOrderViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, MerchantViewSet):
    serializer_class = SalesOrderSerializer
    filterset_class = filters.SalesOrderFilter
    ordering_fields = ["ordered_at", "created_at", "id"]
    ordering = ["-ordered_at", "-id"]
    queryset = SalesOrder.objects.none()
    required_roles: ClassVar[dict[str, str]] = {"create": Role.BUYER, "cancel": Role.BUYER}
    conflict_actions: ClassVar[dict[str, tuple[str, ...]]] = {"create": ("409",)}

    def get_queryset(self) -> QuerySet[SalesOrder]:
        return selectors.sales_order_list_for_merchant(merchant=self.merchant)

    @extend_schema(request=SalesOrderCancelSerializer, responses={200: SalesOrderSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        """Cancel an order: it stops counting as demand for forecasts and suggestions, and a live order's units go
        back to stock (one ``return`` ledger row per line). Cancelling again changes nothing and returns the order."""
        order = self.get_object()
        data = _validated(SalesOrderCancelSerializer, request)
        order, _ = services.sales_order_cancel(order=order, reason=data["reason"], user=request.user)
        return Response(SalesOrderSerializer(self.get_queryset().get(pk=order.pk)).data)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        def operation() -> tuple[int, Any]:
            serializer = SalesOrderCreateSerializer(data=request.data, context=self.get_serializer_context())
            serializer.is_valid(raise_exception=True)
            data = serializer.validated_data
            order, created = services.sales_order_record(
                merchant=self.merchant,
                external_id=data["external_id"],
                channel=data["channel"],
                warehouse=data.get("warehouse"),
                ordered_at=data.get("ordered_at"),
                lines=[
                    services.SalesLineInput(line["sku"], line["quantity"], line["unit_price"]) for line in data["lines"]
                ],
                user=request.user,
            )
            order = self.get_queryset().get(pk=order.pk)
            return (status.HTTP_201_CREATED if created else status.HTTP_200_OK), SalesOrderSerializer(order).data

        return idempotent(request, self, operation)


# Purchase orders

_ACTION_RESPONSES = {200: PurchaseOrderSerializer}


class PurchaseOrderViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, MerchantViewSet):
    """Purchase orders and their state machine: draft → approved → sent → (partially) received, or cancelled.

    A move the state machine does not allow is 409 with the reason. Buyers and admins move orders.
    """

    serializer_class = PurchaseOrderSerializer
    filterset_class = filters.PurchaseOrderFilter
    ordering_fields = ["created_at", "expected_at", "status", "id"]
    ordering = ["-created_at", "-id"]
    queryset = PurchaseOrder.objects.none()
    required_roles: ClassVar[dict[str, str]] = {
        "approve": Role.BUYER,
        "send": Role.BUYER,
        "receive": Role.BUYER,
        "cancel": Role.BUYER,
    }
    conflict_actions: ClassVar[dict[str, tuple[str, ...]]] = {
        "approve": ("409",),
        "send": ("409",),
        "receive": ("409",),
        "cancel": ("409",),
    }

    def get_queryset(self) -> QuerySet[PurchaseOrder]:
        return selectors.purchase_order_list_for_merchant(merchant=self.merchant).prefetch_related(
            "lines__product", "events__user"
        )

    def _respond(self, order: PurchaseOrder) -> Response:
        return Response(PurchaseOrderSerializer(self.get_queryset().get(pk=order.pk)).data)

    @extend_schema(request=EmptySerializer, responses=_ACTION_RESPONSES)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        """Approve a draft; the service announces ``purchase_order.approved`` to webhooks after commit."""
        order = self.get_object()
        _validated(EmptySerializer, request)
        order = services.purchase_order_approve(order=order, user=request.user)
        return self._respond(order)

    @extend_schema(request=PurchaseOrderSendSerializer, responses=_ACTION_RESPONSES)
    @action(detail=True, methods=["post"])
    def send(self, request: Request, pk: str | None = None) -> Response:
        """Mark an approved order as sent to the supplier."""
        order = self.get_object()
        data = _validated(PurchaseOrderSendSerializer, request)
        order = services.purchase_order_send(order=order, expected_at=data.get("expected_at"), user=request.user)
        return self._respond(order)

    @extend_schema(request=PurchaseOrderReceiveSerializer, responses=_ACTION_RESPONSES)
    @action(detail=True, methods=["post"])
    def receive(self, request: Request, pk: str | None = None) -> Response:
        """Receive units of a sent order, in part (``lines``) or everything outstanding (no ``lines``)."""
        order = self.get_object()
        data = _validated(PurchaseOrderReceiveSerializer, request)
        quantities = {line["line"]: line["quantity"] for line in data["lines"]} if "lines" in data else None
        order = services.purchase_order_receive(order=order, quantities=quantities, user=request.user)
        return self._respond(order)

    @extend_schema(request=PurchaseOrderCancelSerializer, responses=_ACTION_RESPONSES)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        """Cancel an order that has not started arriving."""
        order = self.get_object()
        data = _validated(PurchaseOrderCancelSerializer, request)
        order = services.purchase_order_cancel(order=order, reason=data["reason"], user=request.user)
        return self._respond(order)
