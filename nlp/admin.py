from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from inventory.admin import MerchantScopedAdmin, ReadOnlyAdmin
from inventory.services import actor_or_none
from nlp.models import TextDocument, TextSignal
from nlp.services import text_content_hash


@admin.register(TextDocument)
class TextDocumentAdmin(MerchantScopedAdmin):
    list_display = ("written_at", "merchant", "source", "product", "match_status", "match_confidence", "text")
    list_filter = ("source",)
    search_fields = ("text", "sku_given")
    readonly_fields = ("content_hash", "match_status", "created_by", "created_at")

    def save_model(self, request: HttpRequest, obj: TextDocument, form: Any, change: bool) -> None:
        obj.content_hash = text_content_hash(
            source=obj.source, sku=obj.sku_given, written_at=obj.written_at, text=obj.text
        )
        if not change:
            obj.created_by = actor_or_none(request.user)
        super().save_model(request, obj, form, change)


@admin.register(TextSignal)
class TextSignalAdmin(ReadOnlyAdmin):
    """Scores are written only by ``text_signals_score``; the admin shows them."""

    list_display = ("created_at", "merchant", "text", "status", "model_name", "token_count")
    list_filter = ("status", "model_name")
    exclude = ("embedding",)
