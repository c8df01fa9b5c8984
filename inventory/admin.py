"""Django admin for staff. Every list, form choice and object is limited to the merchants the user belongs to.

Stock levels and the ledger are read-only here: stock changes only through the services.
"""

from typing import Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse

from inventory.models import (
    Membership,
    Merchant,
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
from inventory.selectors import merchant_ids_for_user


class MerchantScopedAdmin(admin.ModelAdmin):
    """Limits rows and foreign-key choices to the user's merchants (superusers see every merchant)."""

    merchant_path = "merchant"

    def _merchant_ids(self, request: HttpRequest) -> list[int] | None:
        if request.user.is_superuser:
            return None
        return merchant_ids_for_user(user=request.user)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)
        merchant_ids = self._merchant_ids(request)
        if merchant_ids is None:
            return queryset
        return queryset.filter(**{f"{self.merchant_path}__in": merchant_ids})

    def _require_visible(self, request: HttpRequest, object_id: str | None) -> None:
        # Django's admin redirects for an object it cannot find; another merchant's object is a plain 404.
        if object_id is not None and self.get_object(request, object_id) is None:
            raise Http404("No such object.")

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        self._require_visible(request, object_id)
        return super().change_view(request, object_id, form_url, extra_context)

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        self._require_visible(request, object_id)
        return super().delete_view(request, object_id, extra_context)

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        self._require_visible(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        merchant_ids = self._merchant_ids(request)
        if merchant_ids is not None:
            related = db_field.related_model
            if related is Merchant:
                kwargs["queryset"] = Merchant.objects.filter(pk__in=merchant_ids)
            elif related is get_user_model():
                kwargs["queryset"] = related.objects.filter(memberships__merchant__in=merchant_ids).distinct()
            elif any(field.name == "merchant" for field in related._meta.get_fields()):
                kwargs["queryset"] = related.objects.filter(merchant__in=merchant_ids)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ReadOnlyAdmin(MerchantScopedAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(Merchant)
class MerchantAdmin(MerchantScopedAdmin):
    merchant_path = "pk"
    list_display = ("slug", "name", "currency", "is_active")
    search_fields = ("slug", "name")


@admin.register(Membership)
class MembershipAdmin(MerchantScopedAdmin):
    list_display = ("user", "merchant", "role")
    list_filter = ("role",)


@admin.register(Supplier)
class SupplierAdmin(MerchantScopedAdmin):
    list_display = ("name", "merchant", "lead_time_days", "lead_time_std_days", "min_order_value", "currency")
    search_fields = ("name",)


@admin.register(Warehouse)
class WarehouseAdmin(MerchantScopedAdmin):
    list_display = ("code", "name", "merchant", "is_default")


@admin.register(Product)
class ProductAdmin(MerchantScopedAdmin):
    list_display = ("sku", "name", "merchant", "supplier", "unit_cost", "price", "case_pack", "moq", "is_active")
    list_filter = ("is_active",)
    search_fields = ("sku", "name")


@admin.register(StockLevel)
class StockLevelAdmin(ReadOnlyAdmin):
    list_display = ("product", "warehouse", "on_hand", "allocated")
    search_fields = ("product__sku",)


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "product", "warehouse", "kind", "quantity", "balance_after", "reference")
    list_filter = ("kind",)
    search_fields = ("product__sku", "reference")


class SalesOrderLineInline(admin.TabularInline):
    model = SalesOrderLine
    extra = 0
    can_delete = False
    readonly_fields = ("product", "quantity", "unit_price")

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(SalesOrder)
class SalesOrderAdmin(ReadOnlyAdmin):
    list_display = ("external_id", "channel", "merchant", "ordered_at", "is_historical", "cancelled_at")
    list_filter = ("channel", "is_historical", ("cancelled_at", admin.EmptyFieldListFilter))
    search_fields = ("external_id",)
    inlines = [SalesOrderLineInline]


class PurchaseOrderLineInline(admin.TabularInline):
    model = PurchaseOrderLine
    extra = 0
    can_delete = False
    readonly_fields = ("product", "quantity", "quantity_received", "unit_cost")

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class PurchaseOrderEventInline(admin.TabularInline):
    model = PurchaseOrderEvent
    extra = 0
    can_delete = False
    readonly_fields = ("action", "from_status", "to_status", "note", "user", "created_at")

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(PurchaseOrder)
class PurchaseOrderAdmin(ReadOnlyAdmin):
    """Purchase orders move through the state machine on the merchant pages and the API, not here."""

    list_display = ("pk", "supplier", "merchant", "status", "expected_at", "created_at")
    list_filter = ("status",)
    inlines = [PurchaseOrderLineInline, PurchaseOrderEventInline]
