"""Query filters of the inventory API (django-filter)."""

from django.db.models import Q, QuerySet
from django_filters import rest_framework as filters

from integrations.api.common import UtcDateTimeFilter
from inventory.models import Product, PurchaseOrder, PurchaseOrderStatus, SalesOrder, StockLevel, Supplier, Warehouse


class ProductFilter(filters.FilterSet):
    search = filters.CharFilter(method="filter_search", max_length=100, help_text="Part of the SKU or the name.")
    sku = filters.CharFilter(max_length=64)
    supplier = filters.NumberFilter(field_name="supplier_id")
    is_active = filters.BooleanFilter()
    updated_since = UtcDateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = Product
        fields = ["search", "sku", "supplier", "is_active", "updated_since"]

    def filter_search(self, queryset: QuerySet[Product], name: str, value: str) -> QuerySet[Product]:
        return queryset.filter(Q(sku__icontains=value) | Q(name__icontains=value))


class SupplierFilter(filters.FilterSet):
    name = filters.CharFilter(lookup_expr="icontains", max_length=200)

    class Meta:
        model = Supplier
        fields = ["name"]


class WarehouseFilter(filters.FilterSet):
    code = filters.CharFilter(max_length=32)

    class Meta:
        model = Warehouse
        fields = ["code"]


class StockLevelFilter(filters.FilterSet):
    product = filters.NumberFilter(field_name="product_id")
    sku = filters.CharFilter(field_name="product__sku", max_length=64)
    warehouse = filters.NumberFilter(field_name="warehouse_id")
    warehouse_code = filters.CharFilter(field_name="warehouse__code", max_length=32)
    on_hand_max = filters.NumberFilter(field_name="on_hand", lookup_expr="lte")
    on_hand_min = filters.NumberFilter(field_name="on_hand", lookup_expr="gte")

    class Meta:
        model = StockLevel
        fields = ["product", "sku", "warehouse", "warehouse_code", "on_hand_max", "on_hand_min"]


class SalesOrderFilter(filters.FilterSet):
    channel = filters.CharFilter(max_length=64)
    external_id = filters.CharFilter(max_length=128)
    is_historical = filters.BooleanFilter()
    cancelled = filters.BooleanFilter(field_name="cancelled_at", lookup_expr="isnull", exclude=True)
    ordered_after = UtcDateTimeFilter(field_name="ordered_at", lookup_expr="gte")
    ordered_before = UtcDateTimeFilter(field_name="ordered_at", lookup_expr="lt")

    class Meta:
        model = SalesOrder
        fields = ["channel", "external_id", "is_historical", "cancelled", "ordered_after", "ordered_before"]


class PurchaseOrderFilter(filters.FilterSet):
    status = filters.MultipleChoiceFilter(choices=PurchaseOrderStatus.choices)
    supplier = filters.NumberFilter(field_name="supplier_id")
    warehouse = filters.NumberFilter(field_name="warehouse_id")
    created_after = UtcDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UtcDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = PurchaseOrder
        fields = ["status", "supplier", "warehouse", "created_after", "created_before"]
