"""Writes for customer texts."""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from inventory.models import Merchant, Product
from inventory.services import Actor, actor_or_none
from nlp.models import TextDocument, TextSource

MAX_TEXT_CHARS = 100_000


@dataclass(frozen=True)
class TextInput:
    source: str
    text: str
    written_at: datetime.datetime | None = None
    sku: str = ""
    language: str = ""
    external_id: str = ""


def text_content_hash(*, source: str, sku: str, written_at: datetime.datetime, text: str) -> str:
    key = "\x1f".join([source, sku, written_at.isoformat(), " ".join(text.split())])
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def texts_create(*, merchant: Merchant, texts: Sequence[TextInput], user: Actor = None) -> list[TextDocument]:
    """Store texts, once each: a text already stored (same content hash) is returned, not stored again.

    Every text is checked first; a bad one raises ``ValidationError`` naming its index and
    field, and nothing is written. A SKU that is not in the catalogue is kept in
    ``sku_given`` with no product: matching it to the catalogue is the signal pipeline's job.
    """
    errors: dict[str, list[str]] = {}
    prepared = []
    skus = {text.sku for text in texts if text.sku}
    products = {p.sku: p for p in Product.objects.filter(merchant=merchant, sku__in=skus)}
    now = timezone.now()
    for index, item in enumerate(texts):
        if item.source not in TextSource.values:
            errors[f"texts[{index}].source"] = [
                f"Unknown source {item.source!r}; use one of {', '.join(TextSource.values)}."
            ]
        if not isinstance(item.text, str) or not item.text.strip():
            errors[f"texts[{index}].text"] = ["A text must not be empty."]
        elif len(item.text) > MAX_TEXT_CHARS:
            errors[f"texts[{index}].text"] = [f"A text may have at most {MAX_TEXT_CHARS} characters."]
        written_at = item.written_at or now
        if timezone.is_naive(written_at):
            written_at = timezone.make_aware(written_at, datetime.UTC)
        prepared.append((item, written_at))
    if errors:
        raise ValidationError(errors)
    documents = []
    with transaction.atomic():
        for item, written_at in prepared:
            content_hash = text_content_hash(source=item.source, sku=item.sku, written_at=written_at, text=item.text)
            product = products.get(item.sku)
            document, _ = TextDocument.objects.get_or_create(
                merchant=merchant,
                content_hash=content_hash,
                defaults={
                    "source": item.source,
                    "text": item.text,
                    "language": item.language,
                    "written_at": written_at,
                    "external_id": item.external_id,
                    "sku_given": item.sku,
                    "product": product,
                    "match_confidence": 1.0 if product else None,
                    "created_by": actor_or_none(user),
                },
            )
            documents.append(document)
    return documents
