from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from backoffice import health

api_v1 = [
    path("", include("nlp.api.alternatives")),
    path("", include("inventory.api.urls")),
    path("", include("forecasting.api.urls")),
    path("", include("nlp.api.urls")),
    path("", include("integrations.api.urls")),
]

urlpatterns = [
    path("healthz", health.liveness, name="healthz"),
    path("readyz", health.readiness, name="readyz"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("backoffice.pages_urls")),
]
