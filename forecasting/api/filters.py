"""Query filters of the forecasting API (django-filter)."""

from django_filters import rest_framework as filters

from forecasting.models import JobRun, JobStatus, ProductForecast, ReplenishmentSuggestion, SuggestionStatus


class ForecastFilter(filters.FilterSet):
    product = filters.NumberFilter(field_name="product_id")
    sku = filters.CharFilter(field_name="product__sku", max_length=64)
    method = filters.CharFilter(max_length=64, help_text="The forecasting method the engine chose, e.g. 'ets'.")
    segment = filters.CharFilter(
        max_length=32, help_text="The demand segment: 'smooth', 'erratic', 'intermittent', 'lumpy'..."
    )

    class Meta:
        model = ProductForecast
        fields = ["product", "sku", "method", "segment"]


class SuggestionFilter(filters.FilterSet):
    status = filters.MultipleChoiceFilter(choices=SuggestionStatus.choices)
    supplier = filters.NumberFilter(field_name="supplier_id")
    product = filters.NumberFilter(field_name="product_id")
    sku = filters.CharFilter(field_name="product__sku", max_length=64)
    job = filters.NumberFilter(field_name="job_id", help_text="The pipeline run that suggested them.")
    purchase_order = filters.NumberFilter(field_name="purchase_order_id")

    class Meta:
        model = ReplenishmentSuggestion
        fields = ["status", "supplier", "product", "sku", "job", "purchase_order"]


class JobFilter(filters.FilterSet):
    status = filters.MultipleChoiceFilter(choices=JobStatus.choices)
    trigger = filters.CharFilter(max_length=16, help_text="'manual', 'nightly', 'api'...")

    class Meta:
        model = JobRun
        fields = ["status", "trigger"]
