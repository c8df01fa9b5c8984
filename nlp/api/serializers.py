"""Serializers of the texts endpoint."""

from rest_framework import serializers

from integrations.api.common import StrictSerializer
from nlp.models import TextDocument, TextSource
from nlp.services import MAX_TEXT_CHARS

MAX_TEXTS_PER_REQUEST = 1000


class TextCreateSerializer(StrictSerializer):
    source = serializers.ChoiceField(choices=TextSource.choices)  # type: ignore[assignment]
    text = serializers.CharField(max_length=MAX_TEXT_CHARS, trim_whitespace=False)
    written_at = serializers.DateTimeField(required=False, help_text="Defaults to now.")
    sku = serializers.CharField(max_length=64, required=False, default="", allow_blank=True)
    language = serializers.CharField(max_length=16, required=False, default="", allow_blank=True)
    external_id = serializers.CharField(max_length=128, required=False, default="", allow_blank=True)

    def validate_text(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("A text must not be empty.")
        return value


class TextDocumentSerializer(serializers.ModelSerializer):
    class Meta:
        model = TextDocument
        fields = [
            "id",
            "source",
            "text",
            "language",
            "written_at",
            "external_id",
            "sku_given",
            "product",
            "match_confidence",
            "created_at",
        ]
        read_only_fields = fields
