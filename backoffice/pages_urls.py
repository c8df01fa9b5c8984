from django.contrib.auth import views as auth_views
from django.urls import include, path

from backoffice import views

merchant_patterns = [
    path("", views.dashboard, name="dashboard"),
    path("products/", views.product_list, name="product-list"),
    path("products/<int:product_id>/", views.product_detail, name="product-detail"),
    path("products/<int:product_id>/adjust/", views.product_stock_adjust, name="product-stock-adjust"),
    path("purchase-orders/", views.purchase_order_list, name="purchase-order-list"),
    path("purchase-orders/<int:order_id>/", views.purchase_order_detail, name="purchase-order-detail"),
    path(
        "purchase-orders/<int:order_id>/<str:action>/",
        views.purchase_order_action,
        name="purchase-order-action",
    ),
]

urlpatterns = [
    path("", views.merchant_choose, name="merchant-choose"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("m/<slug:merchant_slug>/", include(merchant_patterns)),
]
