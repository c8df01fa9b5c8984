from rest_framework.routers import SimpleRouter

from forecasting.api import views

router = SimpleRouter()
router.register("forecasts", views.ForecastViewSet, basename="api-forecast")
router.register("suggestions", views.SuggestionViewSet, basename="api-suggestion")
router.register("jobs", views.JobViewSet, basename="api-job")

urlpatterns = router.urls
