from django.urls import path
from rest_framework.routers import SimpleRouter

from integrations.api import views

router = SimpleRouter()
router.register("imports", views.ImportViewSet, basename="api-import")
router.register("webhooks", views.WebhookViewSet, basename="api-webhook")

urlpatterns = [
    path("auth/token/", views.TokenApi.as_view(), name="api-token"),
    *router.urls,
]
