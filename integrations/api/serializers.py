"""Serializers of the auth, import and webhook endpoints."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from integrations.api.common import StrictModelSerializer, StrictSerializer
from integrations.models import (
    ApiKey,
    ApiScope,
    ImportJob,
    ImportKind,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)

MAX_IMPORT_BYTES = 20 * 1024 * 1024


class TokenRequestSerializer(StrictSerializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, trim_whitespace=False, style={"input_type": "password"})
    merchant = serializers.SlugField(
        max_length=64, required=False, help_text="The merchant's slug; needed when you belong to several."
    )
    name = serializers.CharField(max_length=100, required=False, default="", allow_blank=True)
    scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=ApiScope.choices),
        required=False,
        allow_empty=False,
        max_length=len(ApiScope.values),
        help_text="Defaults to read and write. A read-only key cannot change anything, whatever your role.",
    )


class TokenSerializer(serializers.ModelSerializer):
    key = serializers.CharField(read_only=True, help_text="The secret, shown only now.")
    merchant = serializers.CharField(source="membership.merchant.slug", read_only=True)
    role = serializers.CharField(source="membership.role", read_only=True)
    scopes = serializers.ListField(child=serializers.ChoiceField(choices=ApiScope.choices), read_only=True)

    class Meta:
        model = ApiKey
        fields = ["id", "key", "name", "prefix", "merchant", "role", "scopes", "created_at"]
        read_only_fields = fields

    def to_representation(self, instance: Any) -> Any:
        data = super().to_representation(instance)
        data["key"] = self.context.get("key", "")
        return data


class ImportCreateSerializer(StrictSerializer):
    kind = serializers.ChoiceField(choices=ImportKind.choices)
    file = serializers.FileField(
        help_text=f"A UTF-8 CSV file with a header row, at most {MAX_IMPORT_BYTES // (1024 * 1024)} MB; larger "
        "files go through 'manage.py import_csv'."
    )

    def validate_file(self, value: Any) -> Any:
        if value.size > MAX_IMPORT_BYTES:
            raise serializers.ValidationError(f"The file is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MB.")
        return value


class ImportErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(allow_null=True, help_text="1 = the first data row; null: the whole file.")
    column = serializers.CharField()
    message = serializers.CharField()


class ImportJobSerializer(serializers.ModelSerializer):
    errors = ImportErrorSerializer(many=True, read_only=True)  # type: ignore[assignment]

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "kind",
            "filename",
            "status",
            "row_count",
            "written_count",
            "error_count",
            "errors",
            "duration_ms",
            "created_at",
        ]
        read_only_fields = fields


class WebhookEndpointSerializer(StrictModelSerializer):
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=WebhookEvent.choices), allow_empty=False, max_length=10
    )
    secret = serializers.CharField(read_only=True, help_text="Signs each delivery (see X-Stockpilot-Signature).")

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "url", "events", "description", "is_active", "secret", "created_at"]
        read_only_fields = ["secret", "created_at"]

    def validate_url(self, value: str) -> str:
        if not value.lower().startswith(("http://", "https://")):
            raise serializers.ValidationError("Use an http or https URL.")
        return value


class WebhookAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = ["number", "status_code", "error", "duration_ms", "created_at"]
        read_only_fields = fields


class WebhookDeliverySerializer(serializers.ModelSerializer):
    attempts = WebhookAttemptSerializer(many=True, read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event_id",
            "event",
            "payload",
            "status",
            "attempt_count",
            "created_at",
            "delivered_at",
            "attempts",
        ]
        read_only_fields = fields
