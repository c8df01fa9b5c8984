"""Reads for customer texts and their signals, always scoped to one merchant."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.conf import settings

from inventory.models import Merchant, Product
from inventory.selectors import demand_frame_for_merchant
from nlp.models import SignalStatus, TextSignal
from nlp.signals.features import LEARNED_SIGNAL, TextFeatures, text_features
from nlp.signals.head import fit_head_on_history, head_features
from nlp.signals.labels import SIGNAL_NAMES

USABLE = (SignalStatus.SCORED, SignalStatus.TRUNCATED)


@dataclass(frozen=True)
class TextEvidence:
    """One text behind a product's signals, for the product page and the suggestions' evidence links."""

    text_id: int
    written_at: datetime.datetime
    source: str
    text: str
    status: str
    scores: dict[str, float]


def text_signal_model_fingerprint(*, merchant: Merchant, model_name: str | None = None) -> str | None:
    """The fingerprint of the newest scores the merchant has from the configured model, if any."""
    name = model_name or settings.NLP_MODEL
    latest = (
        TextSignal.objects.filter(merchant=merchant, model_name=name)
        .order_by("-created_at", "-id")
        .values_list("model_fingerprint", flat=True)
        .first()
    )
    return latest


def _signals(merchant: Merchant, fingerprint: str) -> list[TextSignal]:
    return list(
        TextSignal.objects.filter(merchant=merchant, model_fingerprint=fingerprint, text__product__isnull=False)
        .select_related("text__product")
        .order_by("text__written_at", "text_id")
    )


def text_evidence_for_product(
    *, merchant: Merchant, product: Product, since: datetime.date | None = None, limit: int = 200
) -> list[TextEvidence]:
    """The product's texts with their scores from the configured model, newest first."""
    fingerprint = text_signal_model_fingerprint(merchant=merchant)
    rows = TextSignal.objects.filter(merchant=merchant, model_fingerprint=fingerprint, text__product=product)
    if since is not None:
        rows = rows.filter(text__written_at__date__gte=since)
    rows = rows.select_related("text").order_by("-text__written_at", "-text_id")[:limit]
    return [
        TextEvidence(
            text_id=row.text_id,
            written_at=row.text.written_at,
            source=row.text.source,
            text=row.text.text,
            status=row.status,
            scores={name: float(row.scores.get(name, 0.0)) for name in SIGNAL_NAMES},
        )
        for row in rows
    ]


def text_signals_over_time(*, merchant: Merchant, product: Product, freq: str = "W") -> pd.DataFrame:
    """date, texts, and the mean of each named score per period, for the product page's chart."""
    evidence = text_evidence_for_product(merchant=merchant, product=product, limit=10_000)
    columns = ["date", "texts", *SIGNAL_NAMES]
    if not evidence:
        return pd.DataFrame(columns=columns)
    frame = pd.DataFrame(
        [{"date": e.written_at, **e.scores} for e in evidence if e.status in USABLE],
        columns=["date", *SIGNAL_NAMES],
    )
    if frame.empty:
        return pd.DataFrame(columns=columns)
    frame["date"] = pd.to_datetime(frame["date"]).dt.tz_localize(None)
    grouped = frame.set_index("date").resample(freq)
    result = grouped.mean()
    result.insert(0, "texts", grouped.size())
    return result.reset_index()[columns]


def text_signal_table_for_merchant(
    *,
    merchant: Merchant,
    model_name: str | None = None,
    until: datetime.date | None = None,
    demand: pd.DataFrame | None = None,
) -> pd.DataFrame | None:
    """One row per scored text linked to a product: ``text_id``, ``item_id`` (SKU), ``date`` (day written) and
    the learned demand signal (``LEARNED_SIGNAL``), for ``nlp.signals.features.text_features``.

    The head is trained on ``demand`` (default: the stored sales up to ``until`` of the products the texts
    are about), from the stored scores and embeddings; nothing is re-scored. None when the merchant has no
    usable scored texts linked to products, or no sales for them.
    """
    fingerprint = text_signal_model_fingerprint(merchant=merchant, model_name=model_name)
    if fingerprint is None:
        return None
    signals = [row for row in _signals(merchant, fingerprint) if row.status in USABLE and row.embedding]
    if until is not None:
        signals = [row for row in signals if row.text.written_at.date() <= until]
    if not signals:
        return None
    if demand is None:
        product_ids = sorted({row.text.product_id for row in signals if row.text.product_id is not None})
        demand = demand_frame_for_merchant(merchant=merchant, product_ids=product_ids, until=until)
    if demand.empty:
        return None
    table = pd.DataFrame(
        {
            "text_id": [str(row.text_id) for row in signals],
            "item_id": [row.text.product.sku for row in signals if row.text.product is not None],
            "date": pd.to_datetime([row.text.written_at for row in signals], utc=True).tz_localize(None).normalize(),
        }
    )
    scores = np.array([[float(row.scores.get(name, 0.0)) for name in SIGNAL_NAMES] for row in signals])
    embeddings = np.vstack([np.frombuffer(bytes(row.embedding or b""), dtype=np.float32) for row in signals])
    # the stored sales are daily: a day without a sale is a day of zero demand
    fit = fit_head_on_history(head_features(embeddings, scores), demand, table["item_id"], table["date"], freq="D")
    table[LEARNED_SIGNAL] = fit.predictions
    return table


def text_features_for_merchant(
    *, merchant: Merchant, history: pd.DataFrame | None = None, model_name: str | None = None
) -> TextFeatures | None:
    """The learned text signal per product (SKU) and day, for the forecasting engine's ``text_features``,
    on the grid of ``history`` (default: ``demand_frame_for_merchant``). None when the merchant has no scored
    texts linked to products (see ``text_signal_table_for_merchant``)."""
    demand = history if history is not None else demand_frame_for_merchant(merchant=merchant)
    table = text_signal_table_for_merchant(merchant=merchant, model_name=model_name, demand=demand)
    if table is None:
        return None
    return text_features(table, demand, freq="D")
