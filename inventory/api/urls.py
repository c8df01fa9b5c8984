from django.urls import path
from rest_framework.routers import SimpleRouter

from inventory.api import views

router = SimpleRouter()
router.register("products", views.ProductViewSet, basename="api-product")
router.register("suppliers", views.SupplierViewSet, basename="api-supplier")
router.register("warehouses", views.WarehouseViewSet, basename="api-warehouse")
router.register("stock-levels", views.StockLevelViewSet, basename="api-stock-level")
router.register("sales-orders", views.SalesOrderViewSet, basename="api-sales-order")
router.register("purchase-orders", views.PurchaseOrderViewSet, basename="api-purchase-order")

urlpatterns = [
    path("stock-adjustments/", views.StockAdjustmentApi.as_view(), name="api-stock-adjustment"),
    *router.urls,
]
