"""Reads built on product representations: similar products for alternatives and for cold-start forecasts.

Similarities come from ``nlp.representations``: character n-gram TF-IDF of the merchant's product texts
(recomputed when the catalogue changes, cached per process) and, for pairs of products that both have a
current stored language-model vector (``ProductRepresentation`` for the configured model whose text still
matches), the weighted combination with the model's cosine (``DEFAULT_MODEL_WEIGHT``).
"""

from __future__ import annotations

import datetime
import itertools
import threading
from collections import OrderedDict
from dataclasses import dataclass
from decimal import Decimal
from functools import partial

import numpy as np
import pandas as pd
from django.conf import settings
from django.db.models import Count, Max
from django.utils import timezone
from scipy import sparse

from forecasting.coldstart import BlendedEstimate, ColdStartConfig, coldstart_forecast
from forecasting.coldstart.estimate import SimilarityBlock
from inventory.models import Merchant, Product
from inventory.selectors import demand_frame_for_merchant, product_list_for_merchant
from nlp.models import ProductRepresentation
from nlp.representations import (
    COLDSTART_MODEL_WEIGHT,
    DEFAULT_MODEL_WEIGHT,
    RepresentationKind,
    centred_unit_vectors,
    product_text,
    text_hash,
    tfidf_vectors,
    vector_from_bytes,
)

CACHE_SIZE = 8
# Products whose stock an alternatives lookup reads at a time, best-ranked first.
ALTERNATIVE_BATCH = 200


@dataclass(frozen=True)
class CatalogueRepresentations:
    """The merchant's products in id order with their TF-IDF rows and, where current, language-model vectors
    (``has_model_vector`` marks the rows that have one; the others are zero)."""

    product_ids: np.ndarray
    skus: list[str]
    prices: np.ndarray
    tfidf: sparse.csr_matrix
    model_vectors: np.ndarray | None
    has_model_vector: np.ndarray

    def position(self, product_id: int) -> int:
        return int(np.searchsorted(self.product_ids, product_id))

    def similarity(self, rows: np.ndarray, columns: np.ndarray, *, model_weight: float = DEFAULT_MODEL_WEIGHT):
        """Cosine similarities in [0, 1] between the products at ``rows`` and ``columns``: TF-IDF, combined
        with the language model for the pairs where both products have a current vector."""
        rows, columns = np.asarray(rows, dtype=int), np.asarray(columns, dtype=int)
        text_part = (self.tfidf[rows] @ self.tfidf[columns].T).toarray().astype(np.float32)
        if self.model_vectors is None or model_weight <= 0:
            return np.clip(text_part, 0.0, 1.0)
        model_part = self.model_vectors[rows] @ self.model_vectors[columns].T
        both = self.has_model_vector[rows][:, None] & self.has_model_vector[columns][None, :]
        combined = np.where(both, (1 - model_weight) * text_part + model_weight * model_part, text_part)
        return np.clip(combined.astype(np.float32), 0.0, 1.0)

    def coldstart_views(
        self, *, model_weight: float = COLDSTART_MODEL_WEIGHT
    ) -> tuple[list[SimilarityBlock], list[float]]:
        """The similarities a cold start estimates under, and the weights its estimates are averaged with:
        TF-IDF, and the language model (TF-IDF for the products without a current vector) when there is one."""
        views: list[SimilarityBlock] = [partial(self.similarity, model_weight=0.0)]
        if self.model_vectors is None or model_weight <= 0:
            return views, [1.0]
        views.append(partial(self.similarity, model_weight=1.0))
        return views, [1.0 - model_weight, model_weight]


_cache: OrderedDict[tuple[object, ...], CatalogueRepresentations] = OrderedDict()
_cache_lock = threading.Lock()


def _model_fingerprint(merchant: Merchant, model_name: str) -> str | None:
    return (
        ProductRepresentation.objects.filter(merchant=merchant, model_name=model_name)
        .order_by("-updated_at", "-id")
        .values_list("model_fingerprint", flat=True)
        .first()
    )


def catalogue_representations(*, merchant: Merchant, model_name: str | None = None) -> CatalogueRepresentations:
    """The merchant's catalogue as representations (see the module docstring), cached per process until a
    product or a stored representation changes."""
    name = model_name or settings.NLP_MODEL
    fingerprint = _model_fingerprint(merchant, name)
    products = Product.objects.filter(merchant=merchant)
    state = products.aggregate(count=Count("id"), changed=Max("updated_at"))
    stored = ProductRepresentation.objects.filter(merchant=merchant, model_fingerprint=fingerprint or "")
    stored_state = stored.aggregate(count=Count("id"), changed=Max("updated_at"))
    key = (
        merchant.pk,
        name,
        fingerprint,
        state["count"],
        state["changed"],
        stored_state["count"],
        stored_state["changed"],
    )
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    rows = list(products.order_by("id").values_list("id", "sku", "name", "description", "price"))
    texts = [product_text(title, description) for _, _, title, description, _ in rows]
    product_ids = np.array([row[0] for row in rows], dtype=np.int64)
    model_vectors, has_vector = None, np.zeros(len(rows), dtype=bool)
    if fingerprint is not None and rows:
        current = {
            product_id: vector_from_bytes(vector)
            for product_id, hashed, vector in stored.values_list("product_id", "text_hash", "vector")
            if (position := int(np.searchsorted(product_ids, product_id))) < len(rows)
            and product_ids[position] == product_id
            and hashed == text_hash(texts[position])
        }
        if current:
            dimensions = len(next(iter(current.values())))
            raw = np.zeros((len(rows), dimensions), dtype=np.float32)
            for product_id, vector in current.items():
                position = int(np.searchsorted(product_ids, product_id))
                if vector.shape[0] == dimensions:
                    raw[position], has_vector[position] = vector, True
            model_vectors = centred_unit_vectors(raw)
    catalogue = CatalogueRepresentations(
        product_ids=product_ids,
        skus=[row[1] for row in rows],
        prices=np.array([float(row[4]) for row in rows], dtype=float),
        tfidf=tfidf_vectors(texts),
        model_vectors=model_vectors,
        has_model_vector=has_vector,
    )
    with _cache_lock:
        _cache[key] = catalogue
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return catalogue


@dataclass(frozen=True)
class ProductAlternative:
    product_id: int
    sku: str
    name: str
    price: Decimal
    available: int
    similarity: float


@dataclass(frozen=True)
class ProductAlternatives:
    """In-stock products most like one product, most similar first, and the representation that ranked them."""

    representation: RepresentationKind
    alternatives: list[ProductAlternative]


def product_alternatives(*, merchant: Merchant, product: Product, limit: int = 10) -> ProductAlternatives:
    """The merchant's active products with stock available (on hand less allocated, over all warehouses),
    other than ``product``, ranked by similarity to it (ties by SKU); products with nothing in common with
    it (similarity 0) are left out.

    The whole catalogue is ranked in memory first; stock is then read for the best-ranked products only, a
    batch at a time, until ``limit`` are found, so a product page does not sum the stock of every product."""
    catalogue = catalogue_representations(merchant=merchant)
    query = catalogue.position(product.pk)
    representation = (
        RepresentationKind.COMBINED
        if catalogue.model_vectors is not None and catalogue.has_model_vector[query] and DEFAULT_MODEL_WEIGHT > 0
        else RepresentationKind.TFIDF
    )
    everything = np.arange(len(catalogue.skus))
    scores = catalogue.similarity(np.array([query]), everything)[0]
    candidates = np.flatnonzero(scores > 0)
    candidates = candidates[candidates != query]
    skus = np.array(catalogue.skus, dtype=object)[candidates]
    order = candidates[np.lexsort((skus, -scores[candidates]))]  # most similar first, ties by SKU
    found: list[ProductAlternative] = []
    batch = max(limit * 4, ALTERNATIVE_BATCH)
    for start in range(0, len(order), batch):
        block = [
            (float(scores[column]), catalogue.skus[column], int(catalogue.product_ids[column]))
            for column in order[start : start + batch]
        ]
        in_stock = {
            row.pk: row
            # available_total is an annotation of product_list_for_merchant, which django-stubs cannot see.
            for row in product_list_for_merchant(merchant=merchant, active_only=True).filter(
                pk__in=[pk for _, _, pk in block],
                available_total__gt=0,  # type: ignore[misc]
            )
        }
        found += [
            ProductAlternative(
                product_id=pk,
                sku=sku,
                name=in_stock[pk].name,
                price=in_stock[pk].price,
                available=int(in_stock[pk].available_total),  # type: ignore[attr-defined]
                similarity=round(score, 4),
            )
            for score, sku, pk in block
            if pk in in_stock
        ]
        if len(found) >= limit:
            break
    return ProductAlternatives(representation, found[:limit])


# Past this many products, a cold start reads the sales of a bounded set of references (see _reference_candidates).
MAX_REFERENCE_PRODUCTS = 20_000
SIMILAR_CANDIDATES = 50


@dataclass(frozen=True)
class ProductColdStart:
    """A cold-start estimate for one product: units over its first ``weeks`` weeks on sale (``estimate``) and
    the similar products it came from, for the forecast pipeline and the product page."""

    product_id: int
    estimate: BlendedEstimate
    similar_products: list[tuple[int, str, float]]  # (product id, SKU, similarity)


def coldstart_estimates_for_merchant(
    *,
    merchant: Merchant,
    weeks: int = 8,
    as_of: datetime.date | None = None,
    product_ids: list[int] | None = None,
    config: ColdStartConfig | None = None,
    max_reference_products: int = MAX_REFERENCE_PRODUCTS,
) -> list[ProductColdStart]:
    """Cold-start estimates for the merchant's products with fewer than ``config.min_history_weeks`` weeks of
    sales up to ``as_of`` (default today), or for ``product_ids``: see ``forecasting.coldstart.coldstart_forecast``.
    Each names the similar products used; ``estimate.weekly_units`` is the weekly rate to forecast with and
    ``estimate.own_weight`` the share that comes from the product's own sales so far.

    On a catalogue of more than ``max_reference_products`` products, with ``product_ids`` given, only the sales of
    the products most similar to them and of a fixed random sample (for the price elasticity) are read, so that a
    few new products in a large catalogue do not load its whole history."""
    config = config or ColdStartConfig(weeks=weeks)
    as_of = as_of or timezone.localdate()
    catalogue = catalogue_representations(merchant=merchant)
    if not catalogue.skus:
        return []
    history = demand_frame_for_merchant(
        merchant=merchant,
        until=as_of,
        product_ids=_reference_candidates(catalogue, product_ids, config=config, limit=max_reference_products),
    )
    if history.empty:
        history = pd.DataFrame({"item_id": [], "date": pd.to_datetime([]), "quantity": []})
    targets = None
    if product_ids is not None:
        targets = [catalogue.skus[catalogue.position(pk)] for pk in product_ids if pk in set(catalogue.product_ids)]
    views, view_weights = catalogue.coldstart_views()
    estimates = coldstart_forecast(
        history=history,
        item_ids=catalogue.skus,
        prices=catalogue.prices,
        similarity=views,
        view_weights=view_weights,
        config=config,
        as_of=pd.Timestamp(as_of),
        targets=targets,
    )
    position_of_sku = {sku: position for position, sku in enumerate(catalogue.skus)}
    results = []
    for estimate in estimates:
        cold = estimate.cold_start
        similar = [
            (int(catalogue.product_ids[position_of_sku[sku]]), sku, score)
            for sku, score in zip(cold.similar_items, cold.similarities, strict=True)
        ]
        results.append(
            ProductColdStart(
                product_id=int(catalogue.product_ids[position_of_sku[estimate.item_id]]),
                estimate=estimate,
                similar_products=similar,
            )
        )
    return results


def _reference_candidates(
    catalogue: CatalogueRepresentations, product_ids: list[int] | None, *, config: ColdStartConfig, limit: int
) -> list[int] | None:
    """The products whose sales a cold start reads (None: all): the targets, the ``SIMILAR_CANDIDATES`` most
    similar products of each under every view, and a fixed random sample of ``config.max_fit_references`` others."""
    if product_ids is None or len(catalogue.skus) <= limit:
        return None
    known = set(int(pk) for pk in catalogue.product_ids)
    targets = np.array([catalogue.position(pk) for pk in product_ids if pk in known], dtype=int)
    chosen = set(targets.tolist())
    everything = np.arange(len(catalogue.skus))
    views, _ = catalogue.coldstart_views()
    for view, start in itertools.product(views, range(0, len(targets), 256)):
        block = view(targets[start : start + 256], everything)
        keep = min(SIMILAR_CANDIDATES + 1, block.shape[1])
        chosen.update(np.argpartition(-block, keep - 1, axis=1)[:, :keep].ravel().tolist())
    size = min(config.max_fit_references, len(catalogue.skus))
    sample = np.random.default_rng(0).choice(len(catalogue.skus), size, replace=False)
    chosen.update(sample.tolist())
    return sorted(int(catalogue.product_ids[position]) for position in chosen)


def coldstart_estimate_for_product(*, merchant: Merchant, product: Product, weeks: int = 8) -> ProductColdStart | None:
    """The product page's cold-start estimate and similar products, or None when the product has enough
    history of its own (``ColdStartConfig.min_history_weeks``)."""
    config = ColdStartConfig(weeks=weeks)
    today = timezone.localdate()
    sold = demand_frame_for_merchant(merchant=merchant, product_ids=[product.pk], until=today)
    sold = sold[sold["quantity"] > 0]
    if not sold.empty:
        observed_days = (pd.Timestamp(today) - sold["date"].min()).days + 1
        if observed_days >= 7 * config.min_history_weeks:
            return None
    found = coldstart_estimates_for_merchant(merchant=merchant, as_of=today, product_ids=[product.pk], config=config)
    return found[0] if found else None
