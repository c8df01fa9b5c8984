"""Serializers of the forecasting API. Input serializers only validate; the views call the services.

Money is a decimal string in every response (``"2.5000"``); forecast figures are numbers (units per period).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from forecasting.models import JobRun, ProductForecast, ReplenishmentSuggestion
from integrations.api.common import StrictSerializer
from inventory.api.serializers import MAX_API_QUANTITY

# Forecasts


class ForecastSerializer(serializers.ModelSerializer):
    run = serializers.IntegerField(source="run_id", read_only=True, help_text="The published forecast run.")
    sku = serializers.CharField(source="product.sku", read_only=True)
    freq = serializers.CharField(
        source="run.freq", read_only=True, help_text="Length of a period: 'D' (days) or 'W-MON' (weeks from Monday)."
    )
    mean = serializers.ListField(
        child=serializers.FloatField(), read_only=True, help_text="Mean units per period, from start_date on."
    )
    quantiles = serializers.DictField(
        child=serializers.ListField(child=serializers.FloatField()),
        read_only=True,
        help_text='Units per period at each stored quantile, e.g. {"p10": [...], "p50": [...], "p90": [...]}.',
    )

    class Meta:
        model = ProductForecast
        fields = ["id", "run", "product", "sku", "start_date", "freq", "mean", "quantiles", "method", "segment"]
        read_only_fields = fields


# Suggestions


class SuggestionSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="product.sku", read_only=True)
    supplier_name = serializers.CharField(source="supplier.name", read_only=True)
    job = serializers.IntegerField(source="job_id", read_only=True, help_text="The pipeline run that suggested it.")
    value = serializers.DecimalField(
        max_digits=18, decimal_places=4, read_only=True, help_text="Quantity times unit cost."
    )
    decided_by: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username",
        read_only=True,
        allow_null=True,
        help_text="Who approved or rejected it (null while open, or when the system decided).",
    )

    class Meta:
        model = ReplenishmentSuggestion
        fields = [
            "id",
            "status",
            "job",
            "product",
            "sku",
            "supplier",
            "supplier_name",
            "suggested_quantity",
            "quantity",
            "unit_cost",
            "value",
            "explanation",
            "purchase_order",
            "reject_reason",
            "decided_by",
            "decided_at",
            "created_at",
        ]
        read_only_fields = fields


class SuggestionRejectSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=500, help_text="Why the line is not wanted; recorded on the order.")


class SuggestionQuantitySerializer(StrictSerializer):
    quantity = serializers.IntegerField(
        min_value=1,
        max_value=MAX_API_QUANTITY,
        help_text="Units to order: whole cases of the product's case pack, at least its MOQ.",
    )


# Pipeline runs


class JobStepSerializer(serializers.ModelSerializer):
    progress = serializers.FloatField(read_only=True, help_text="done / total, from 0 to 1.")

    class Meta:
        model = JobRun
        fields = ["id", "kind", "status", "done", "total", "progress", "detail", "error", "started_at", "finished_at"]
        read_only_fields = fields


class JobSerializer(serializers.ModelSerializer):
    progress = serializers.SerializerMethodField(
        help_text="Share of the run done, from 0 to 1: each step counts the same, a step by its done/total chunks."
    )
    requested_by: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True, help_text="Who started it (null for the nightly run)."
    )
    steps = JobStepSerializer(many=True, read_only=True)

    class Meta:
        model = JobRun
        fields = [
            "id",
            "kind",
            "trigger",
            "run_date",
            "status",
            "progress",
            "error",
            "requested_by",
            "created_at",
            "started_at",
            "finished_at",
            "steps",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.DOUBLE)
    def get_progress(self, job: JobRun) -> float:
        steps = list(job.steps.all())
        if not steps:
            return job.progress
        return round(sum(step.progress for step in steps) / len(steps), 4)
