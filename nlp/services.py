"""Writes for customer texts."""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from inventory.models import Merchant, Product
from inventory.services import Actor, actor_or_none
from nlp.models import MatchStatus, SignalStatus, TextDocument, TextSignal, TextSource

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
                    "match_status": MatchStatus.SKU if product else "",
                    "created_by": actor_or_none(user),
                },
            )
            documents.append(document)
    return documents


@dataclass(frozen=True)
class ScoreOutcome:
    """What ``text_signals_score`` did: texts scored now, already scored by this model before, and the
    outcome of each scored text (``scored``, ``truncated``, ``empty``, ``unfamiliar_language``), plus
    product links found (``matched``) or not (``unmatched``)."""

    model_name: str
    model_fingerprint: str
    scored: int
    already_scored: int
    statuses: dict[str, int] = field(default_factory=dict)
    matched: int = 0
    unmatched: int = 0


def texts_match_products(*, merchant: Merchant, texts: Sequence[TextDocument]) -> tuple[int, int]:
    """Link texts that have no product yet to the catalogue by their words (names and descriptions).

    A text linked by SKU is left alone; one whose best match is below the threshold gets
    ``match_status=unmatched`` and no product. Returns (matched, unmatched).
    """
    from nlp.signals.matching import match_products

    pending = [text for text in texts if text.product_id is None and not text.match_status]
    if not pending:
        return 0, 0
    products = list(Product.objects.filter(merchant=merchant, is_active=True).order_by("pk"))
    matches = match_products(
        [text.text for text in pending], [p.name for p in products], [p.description for p in products]
    )
    matched = 0
    for text, match in zip(pending, matches, strict=True):
        text.match_confidence = match.confidence
        if match.index is None:
            text.product = None
            text.match_status = MatchStatus.UNMATCHED
        else:
            text.product = products[match.index]
            text.match_status = MatchStatus.MATCHED
            matched += 1
    TextDocument.objects.bulk_update(pending, ["product", "match_confidence", "match_status"])
    return matched, len(pending) - matched


def text_signals_score(*, merchant: Merchant, text_ids: Sequence[int], model_name: str | None = None) -> ScoreOutcome:
    """Match the texts to products, then score those not yet scored by the configured model and store
    one ``TextSignal`` each. Idempotent: texts already scored by the same model (same fingerprint) are
    skipped, and a concurrent run that stored the same row first wins without error.

    Raises ``nlp.signals.loading.ModelUnavailableError`` (naming both ways out) when the model cannot be loaded.
    """
    from nlp.signals.features import score_unique, text_statuses
    from nlp.signals.loading import load_language_model, set_torch_threads

    texts = list(TextDocument.objects.filter(merchant=merchant, pk__in=list(text_ids)).order_by("pk"))
    matched, unmatched = texts_match_products(merchant=merchant, texts=texts)
    name = model_name or settings.NLP_MODEL
    set_torch_threads(settings.NLP_TORCH_THREADS)
    lm = load_language_model(name, precision=settings.NLP_PRECISION)
    done = set(
        TextSignal.objects.filter(text__in=texts, model_fingerprint=lm.fingerprint).values_list("text_id", flat=True)
    )
    todo = [text for text in texts if text.pk not in done]
    statuses: dict[str, int] = {}
    if todo:
        words = [text.text for text in todo]
        scored = score_unique(lm, words)
        status = text_statuses(words, scored)
        rows = []
        for index, text in enumerate(todo):
            usable = status[index] in (SignalStatus.SCORED, SignalStatus.TRUNCATED)
            rows.append(
                TextSignal(
                    merchant=merchant,
                    text=text,
                    model_name=name[:255],
                    model_fingerprint=lm.fingerprint,
                    status=status[index],
                    scores=dict(zip(scored.signal_names, map(float, scored.scores[index]), strict=True)),
                    embedding=scored.embeddings[index].astype(np.float32).tobytes() if usable else None,
                    token_count=int(scored.token_counts[index]),
                )
            )
            statuses[str(status[index])] = statuses.get(str(status[index]), 0) + 1
        TextSignal.objects.bulk_create(rows, ignore_conflicts=True)
    return ScoreOutcome(
        model_name=name,
        model_fingerprint=lm.fingerprint,
        scored=len(todo),
        already_scored=len(done),
        statuses=statuses,
        matched=matched,
        unmatched=unmatched,
    )


def texts_pending_scores(*, merchant: Merchant, model_name: str | None = None) -> list[int]:
    """Ids of the merchant's texts that the configured model has not scored yet, oldest first.

    A model in a local directory is known by its fingerprint, so rebuilding it in place (``nlp_build_model``
    again) makes every text pending for the new weights; a hub id is known by its name.
    """
    from nlp.signals.loading import local_model_fingerprint

    name = model_name or settings.NLP_MODEL
    fingerprint = local_model_fingerprint(name, precision=settings.NLP_PRECISION)
    signals = TextSignal.objects.filter(merchant=merchant)
    signals = signals.filter(model_fingerprint=fingerprint) if fingerprint else signals.filter(model_name=name[:255])
    scored = signals.values("text_id")
    pending = TextDocument.objects.filter(merchant=merchant).exclude(pk__in=scored).order_by("pk")
    return list(pending.values_list("pk", flat=True))


def text_signals_score_pending(
    *, merchant: Merchant, model_name: str | None = None, on_chunk: Callable[[int, int], None] | None = None
) -> int:
    """Score every text the configured model has not scored yet, in chunks of ``NLP_CHUNK_SIZE``; returns how
    many were scored. ``on_chunk(done, total)`` is called after each chunk. Raises ``ModelUnavailableError``
    when there is something to score and the model cannot be loaded (no score is written then)."""
    pending = texts_pending_scores(merchant=merchant, model_name=model_name)
    size = settings.NLP_CHUNK_SIZE
    scored = 0
    for start in range(0, len(pending), size):
        outcome = text_signals_score(merchant=merchant, text_ids=pending[start : start + size], model_name=model_name)
        scored += outcome.scored
        if on_chunk is not None:
            on_chunk(min(start + size, len(pending)), len(pending))
    return scored


def text_signals_schedule(*, merchant: Merchant, text_ids: Sequence[int]) -> int:
    """Queue scoring of the texts on the ``nlp`` queue in chunks of ``NLP_CHUNK_SIZE``, once the current
    transaction commits. Returns the number of chunks queued."""
    from nlp.tasks import text_signals_score_task

    ids = sorted(int(text_id) for text_id in text_ids)
    size = settings.NLP_CHUNK_SIZE
    chunks = [ids[start : start + size] for start in range(0, len(ids), size)]
    for chunk in chunks:
        transaction.on_commit(lambda chunk=chunk: text_signals_score_task.delay(merchant.pk, chunk))  # type: ignore[misc]
    return len(chunks)
