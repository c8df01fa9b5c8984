from django.contrib.auth import views as auth_views
from django.urls import include, path

from backoffice import views

merchant_patterns = [
    path("", views.dashboard, name="dashboard"),
    path("products/", views.product_list, name="product-list"),
    path("products/<int:product_id>/", views.product_detail, name="product-detail"),
    path("products/<int:product_id>/adjust/", views.product_stock_adjust, name="product-stock-adjust"),
    path("products/<int:product_id>/forecast/", views.product_forecast_override, name="product-forecast-override"),
    path(
        "products/<int:product_id>/forecast/<int:override_id>/delete/",
        views.product_forecast_override_delete,
        name="product-forecast-override-delete",
    ),
    path("products/<int:product_id>/policy/", views.product_policy_settings, name="product-policy-settings"),
    path("suggestions/", views.suggestion_queue, name="suggestion-queue"),
    path("suggestions/<int:suggestion_id>/", views.suggestion_detail, name="suggestion-detail"),
    path("suggestions/<int:suggestion_id>/decide/", views.suggestion_decide, name="suggestion-decide"),
    path("suggestions/orders/<int:order_id>/approve/", views.suggestion_order_approve, name="suggestion-order-approve"),
    path("purchase-orders/", views.purchase_order_list, name="purchase-order-list"),
    path("purchase-orders/<int:order_id>/", views.purchase_order_detail, name="purchase-order-detail"),
    path(
        "purchase-orders/<int:order_id>/<str:action>/",
        views.purchase_order_action,
        name="purchase-order-action",
    ),
    path("jobs/", views.job_list, name="job-list"),
    path("jobs/start/", views.job_start, name="job-start"),
    path("jobs/<int:job_id>/", views.job_detail, name="job-detail"),
    path("jobs/<int:job_id>/cancel/", views.job_cancel, name="job-cancel"),
    path("settings/", views.settings_page, name="settings"),
    path("settings/suppliers/<int:supplier_id>/", views.settings_supplier, name="settings-supplier"),
    path("settings/members/", views.settings_member_add, name="settings-member-add"),
    path("settings/members/<int:membership_id>/", views.settings_member_role, name="settings-member-role"),
    path("settings/api-keys/", views.settings_api_key_issue, name="settings-api-key-issue"),
    path("settings/api-keys/<int:api_key_id>/revoke/", views.settings_api_key_revoke, name="settings-api-key-revoke"),
    path("settings/webhooks/", views.settings_webhook_create, name="settings-webhook-create"),
    path("settings/webhooks/<int:endpoint_id>/delete/", views.settings_webhook_delete, name="settings-webhook-delete"),
]

urlpatterns = [
    path("", views.merchant_choose, name="merchant-choose"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("language/", views.language_set, name="language-set"),
    path("m/<slug:merchant_slug>/", include(merchant_patterns)),
]
