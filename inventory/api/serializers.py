"""Serializers of the inventory API. Input serializers only validate; the views call the services.

Money is a decimal string in every response (``"12.50"``); requests may send a string or a number.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from integrations.api.common import StrictModelSerializer, StrictSerializer
from inventory.models import (
    MovementKind,
    Product,
    PurchaseOrder,
    PurchaseOrderEvent,
    PurchaseOrderLine,
    SalesOrder,
    SalesOrderLine,
    StockLevel,
    StockMovement,
    Supplier,
    Warehouse,
)

MAX_API_QUANTITY = 1_000_000
MAX_ORDER_LINES = 500


class MerchantScopedPrimaryKeyField(serializers.PrimaryKeyRelatedField):
    """A primary key that must name a row of the caller's merchant (another merchant's id: 'does not exist')."""

    def get_queryset(self) -> Any:
        queryset = super().get_queryset()
        assert queryset is not None
        return queryset.filter(merchant=self.context["merchant"])


# Catalogue


class SupplierSerializer(StrictModelSerializer):
    class Meta:
        model = Supplier
        fields = ["id", "name", "lead_time_days", "lead_time_std_days", "currency", "min_order_value", "email"]
        extra_kwargs = {"lead_time_days": {"max_value": 3650}, "currency": {"min_length": 3}}

    def validate_name(self, value: str) -> str:
        others = Supplier.objects.filter(merchant=self.context["merchant"], name=value)
        if self.instance is not None:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise serializers.ValidationError("A supplier with this name already exists.")
        return value


class WarehouseSerializer(StrictModelSerializer):
    class Meta:
        model = Warehouse
        fields = ["id", "code", "name", "is_default"]
        read_only_fields = ["is_default"]

    def validate_code(self, value: str) -> str:
        others = Warehouse.objects.filter(merchant=self.context["merchant"], code=value)
        if self.instance is not None:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise serializers.ValidationError("A warehouse with this code already exists.")
        return value


class ProductSerializer(StrictModelSerializer):
    supplier = MerchantScopedPrimaryKeyField(queryset=Supplier.objects.all(), allow_null=True, required=False)
    lead_time_days = serializers.IntegerField(read_only=True)
    on_hand_total = serializers.IntegerField(read_only=True, help_text="Units on hand over all warehouses.")
    allocated_total = serializers.IntegerField(read_only=True)
    available_total = serializers.IntegerField(read_only=True, help_text="On hand less allocated.")

    class Meta:
        model = Product
        fields = [
            "id",
            "sku",
            "name",
            "description",
            "unit_cost",
            "price",
            "supplier",
            "case_pack",
            "moq",
            "lead_time_days_override",
            "lead_time_days",
            "is_active",
            "on_hand_total",
            "allocated_total",
            "available_total",
            "created_at",
            "updated_at",
        ]
        extra_kwargs = {
            "case_pack": {"max_value": MAX_API_QUANTITY},
            "moq": {"max_value": MAX_API_QUANTITY},
            "lead_time_days_override": {"max_value": 3650},
            "description": {"max_length": 10_000},
        }

    def validate_sku(self, value: str) -> str:
        if self.instance is not None:
            if value != self.instance.sku:
                raise serializers.ValidationError("The SKU of a product cannot be changed.")
            return value
        if Product.objects.filter(merchant=self.context["merchant"], sku=value).exists():
            raise serializers.ValidationError("A product with this SKU already exists.")
        return value


# Stock


class StockLevelSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="product.sku", read_only=True)
    warehouse_code = serializers.CharField(source="warehouse.code", read_only=True)
    available = serializers.IntegerField(read_only=True)

    class Meta:
        model = StockLevel
        fields = [
            "id",
            "product",
            "sku",
            "warehouse",
            "warehouse_code",
            "on_hand",
            "allocated",
            "available",
            "updated_at",
        ]
        read_only_fields = fields


class StockAdjustmentSerializer(StrictSerializer):
    product = MerchantScopedPrimaryKeyField(queryset=Product.objects.all())
    warehouse = MerchantScopedPrimaryKeyField(
        queryset=Warehouse.objects.all(), required=False, help_text="Defaults to the merchant's default warehouse."
    )
    quantity = serializers.IntegerField(
        min_value=-MAX_API_QUANTITY, max_value=MAX_API_QUANTITY, help_text="Signed change of on-hand units; not 0."
    )
    kind = serializers.ChoiceField(
        choices=[MovementKind.ADJUSTMENT, MovementKind.RETURN, MovementKind.RECEIPT], default=MovementKind.ADJUSTMENT
    )
    reference = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    note = serializers.CharField(max_length=500, required=False, default="", allow_blank=True)

    def validate_quantity(self, value: int) -> int:
        if value == 0:
            raise serializers.ValidationError("Quantity must not be zero.")
        return value


class StockMovementSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="product.sku", read_only=True)
    warehouse_code = serializers.CharField(source="warehouse.code", read_only=True)

    class Meta:
        model = StockMovement
        fields = [
            "id",
            "product",
            "sku",
            "warehouse",
            "warehouse_code",
            "kind",
            "quantity",
            "balance_after",
            "reference",
            "note",
            "created_at",
        ]
        read_only_fields = fields


# Sales orders


class SalesOrderLineInputSerializer(StrictSerializer):
    sku = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_API_QUANTITY)
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)


class SalesOrderCreateSerializer(StrictSerializer):
    external_id = serializers.CharField(max_length=128, help_text="The storefront's order id; unique per channel.")
    channel = serializers.CharField(max_length=64, default="web")
    warehouse = MerchantScopedPrimaryKeyField(
        queryset=Warehouse.objects.all(), required=False, help_text="Defaults to the merchant's default warehouse."
    )
    ordered_at = serializers.DateTimeField(required=False, help_text="Defaults to now.")
    lines = SalesOrderLineInputSerializer(many=True, allow_empty=False, max_length=MAX_ORDER_LINES)  # type: ignore[call-arg]


class SalesOrderLineSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="product.sku", read_only=True)

    class Meta:
        model = SalesOrderLine
        fields = ["id", "product", "sku", "quantity", "unit_price"]
        read_only_fields = fields


class SalesOrderSerializer(serializers.ModelSerializer):
    lines = SalesOrderLineSerializer(many=True, read_only=True)

    class Meta:
        model = SalesOrder
        fields = [
            "id",
            "external_id",
            "channel",
            "warehouse",
            "ordered_at",
            "is_historical",
            "cancelled_at",
            "cancel_reason",
            "created_at",
            "lines",
        ]
        read_only_fields = fields


class SalesOrderCancelSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=500, required=False, default="", allow_blank=True)


# Purchase orders


class PurchaseOrderLineSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="product.sku", read_only=True)
    quantity_outstanding = serializers.IntegerField(read_only=True)

    class Meta:
        model = PurchaseOrderLine
        fields = ["id", "product", "sku", "quantity", "quantity_received", "quantity_outstanding", "unit_cost"]
        read_only_fields = fields


class PurchaseOrderEventSerializer(serializers.ModelSerializer):
    user: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = PurchaseOrderEvent
        fields = ["action", "from_status", "to_status", "note", "user", "created_at"]
        read_only_fields = fields


class PurchaseOrderSerializer(serializers.ModelSerializer):
    total_value = serializers.DecimalField(max_digits=18, decimal_places=4, read_only=True)
    total_units = serializers.IntegerField(read_only=True)
    lines = PurchaseOrderLineSerializer(many=True, read_only=True)
    events = PurchaseOrderEventSerializer(many=True, read_only=True)

    class Meta:
        model = PurchaseOrder
        fields = [
            "id",
            "supplier",
            "warehouse",
            "status",
            "note",
            "expected_at",
            "total_value",
            "total_units",
            "created_at",
            "approved_at",
            "sent_at",
            "received_at",
            "cancelled_at",
            "lines",
            "events",
        ]
        read_only_fields = fields


class EmptySerializer(StrictSerializer):
    """No fields: the body must be empty or ``{}``."""


class PurchaseOrderSendSerializer(StrictSerializer):
    expected_at = serializers.DateField(required=False, help_text="Defaults to today plus the lead time.")


class PurchaseOrderReceiveLineSerializer(StrictSerializer):
    line = serializers.IntegerField(min_value=1, help_text="The id of a line of this order.")
    quantity = serializers.IntegerField(min_value=0, max_value=MAX_API_QUANTITY)


class PurchaseOrderReceiveSerializer(StrictSerializer):
    lines = PurchaseOrderReceiveLineSerializer(
        many=True, required=False, allow_empty=False, help_text="Units received now per line; omit to receive all."
    )

    def validate_lines(self, value: list[dict[str, int]]) -> list[dict[str, int]]:
        ids = [line["line"] for line in value]
        if len(set(ids)) != len(ids):
            raise serializers.ValidationError("A line appears more than once.")
        return value


class PurchaseOrderCancelSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=500, required=False, default="", allow_blank=True)
