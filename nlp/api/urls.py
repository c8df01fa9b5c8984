from rest_framework.routers import SimpleRouter

from nlp.api import views

router = SimpleRouter()
router.register("texts", views.TextViewSet, basename="api-text")

urlpatterns = router.urls
