"""Writes for product representations: the configured language model's vector of each product's text."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from inventory.models import Merchant, Product
from nlp.models import ProductRepresentation
from nlp.representations import (
    language_model_vectors,
    product_text,
    representation_fingerprint,
    text_hash,
    vector_to_bytes,
)
from nlp.signals.loading import load_language_model, set_torch_threads

# Products represented and written per transaction: bounds memory and the size of each query on a large catalogue.
REFRESH_BATCH = 2000


@dataclass(frozen=True)
class RepresentationRefreshReport:
    model_name: str
    model_fingerprint: str
    computed: int
    unchanged: int


def product_representations_refresh(
    *, merchant: Merchant, product_ids: Iterable[int] | None = None, model_name: str | None = None
) -> RepresentationRefreshReport:
    """Compute the language-model representation of each of the merchant's products (or of ``product_ids``)
    that has none from the configured model (``NLP_MODEL``) or whose name or description changed since.

    Idempotent: a second run computes nothing. The pipeline's signals step calls it on every run, so a new
    product or an edited text is represented by the next run (until then a changed product's old row is not
    used, and its similarities rest on TF-IDF). Raises ``ModelUnavailableError`` when the model
    cannot be loaded; the similarities then rest on TF-IDF alone.
    """
    name = model_name or settings.NLP_MODEL
    set_torch_threads(settings.NLP_TORCH_THREADS)
    lm = load_language_model(name, precision=settings.NLP_PRECISION)
    fingerprint = representation_fingerprint(lm.fingerprint)
    products = Product.objects.filter(merchant=merchant).order_by("id")
    if product_ids is not None:
        products = products.filter(pk__in=list(product_ids))
    texts = {
        pk: product_text(title, description)
        for pk, title, description in products.values_list("pk", "name", "description")
    }
    stored_rows = ProductRepresentation.objects.filter(merchant=merchant, model_fingerprint=fingerprint)
    if product_ids is not None:
        stored_rows = stored_rows.filter(product_id__in=list(texts))
    stored = dict(stored_rows.values_list("product_id", "text_hash"))
    stale = [pk for pk, text in texts.items() if stored.get(pk) != text_hash(text)]
    for start in range(0, len(stale), REFRESH_BATCH):
        batch = stale[start : start + REFRESH_BATCH]
        vectors = language_model_vectors(lm, [texts[pk] for pk in batch])
        with transaction.atomic():
            ProductRepresentation.objects.filter(model_fingerprint=fingerprint, product_id__in=batch).delete()
            ProductRepresentation.objects.bulk_create(
                ProductRepresentation(
                    merchant=merchant,
                    product_id=pk,
                    model_name=name,
                    model_fingerprint=fingerprint,
                    text_hash=text_hash(texts[pk]),
                    vector=vector_to_bytes(vector),
                    dimensions=int(vector.shape[0]),
                )
                for pk, vector in zip(batch, vectors, strict=True)
            )
    return RepresentationRefreshReport(
        model_name=name, model_fingerprint=fingerprint, computed=len(stale), unchanged=len(texts) - len(stale)
    )
