"""Stored product representations and the selectors built on them, against PostgreSQL and a real tiny LM."""

import datetime

import numpy as np
import pandas as pd
import pytest
from django.utils import timezone

from inventory import services
from nlp.models import ProductRepresentation
from nlp.representation_selectors import (
    catalogue_representations,
    coldstart_estimate_for_product,
    coldstart_estimates_for_merchant,
    product_alternatives,
)
from nlp.representation_services import product_representations_refresh
from nlp.representations import RepresentationKind
from tests.factories import MerchantFactory, ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue(merchant):
    texts = {
        "MUG-R": ("Red mug", "red ceramic coffee mug"),
        "MUG-B": ("Blue mug", "blue ceramic coffee mug"),
        "MUG-G": ("Green mug", "green ceramic coffee mug"),
        "FRAME-S": ("Small frame", "wooden picture frame small"),
        "FRAME-L": ("Large frame", "wooden picture frame large"),
    }
    return {
        sku: ProductFactory(merchant=merchant, sku=sku, name=name, description=description)
        for sku, (name, description) in texts.items()
    }


def sell(merchant, sku: str, days: int, units: int, *, last_day: datetime.date) -> None:
    rows = pd.DataFrame(
        {
            "external_id": [f"{sku}-{day}" for day in range(days)],
            "sku": sku,
            "ordered_at": [
                datetime.datetime.combine(last_day - datetime.timedelta(days=day), datetime.time(12), datetime.UTC)
                for day in range(days)
            ],
            "quantity": units,
            "unit_price": "5.00",
        }
    )
    services.sales_history_import(merchant=merchant, rows=rows)


def test_refresh_stores_vectors_once_and_recomputes_only_changed_texts(merchant, catalogue, model_settings):
    # when
    first = product_representations_refresh(merchant=merchant)
    again = product_representations_refresh(merchant=merchant)
    # then: every product once, nothing the second time
    assert (first.computed, first.unchanged) == (5, 0)
    assert (again.computed, again.unchanged) == (0, 5)
    rows = ProductRepresentation.objects.filter(merchant=merchant)
    assert rows.count() == 5
    stored = rows.get(product=catalogue["MUG-R"])
    assert stored.dimensions == len(np.frombuffer(bytes(stored.vector), dtype=np.float32)) == 32
    # a changed description is recomputed, alone, and the stale vector is not used meanwhile
    services.product_update(product=catalogue["MUG-R"], description="red enamel camping mug")
    before = catalogue_representations(merchant=merchant)
    assert before.has_model_vector.tolist() == [False, True, True, True, True]
    changed = product_representations_refresh(merchant=merchant)
    assert (changed.computed, changed.unchanged) == (1, 4)
    assert ProductRepresentation.objects.get(product=catalogue["MUG-R"]).pk != stored.pk
    assert catalogue_representations(merchant=merchant).has_model_vector.all()


def test_alternatives_are_in_stock_active_same_merchant_and_ranked(merchant, warehouse, catalogue, model_settings):
    # given: stock for every product but the blue mug; the green mug is inactive; another shop's mug in stock
    for sku in ("MUG-R", "MUG-G", "FRAME-S", "FRAME-L"):
        services.stock_adjust(merchant=merchant, product=catalogue[sku], warehouse=warehouse, quantity=3)
    services.product_update(product=catalogue["MUG-G"], is_active=False)
    other = MerchantFactory(slug="other")
    ProductFactory(merchant=other, sku="MUG-X", name="Red mug", description="red ceramic coffee mug")
    product_representations_refresh(merchant=merchant)
    # when
    found = product_alternatives(merchant=merchant, product=catalogue["MUG-B"])
    # then
    assert found.representation == RepresentationKind.TFIDF or found.representation == RepresentationKind.COMBINED
    assert [alternative.sku for alternative in found.alternatives][:1] == ["MUG-R"]
    assert {alternative.sku for alternative in found.alternatives} <= {"MUG-R", "FRAME-S", "FRAME-L"}
    scores = [alternative.similarity for alternative in found.alternatives]
    assert scores == sorted(scores, reverse=True)
    assert all(0 < score <= 1 for score in scores)
    assert found.alternatives[0].available == 3


def test_coldstart_estimates_name_similar_products_and_blend(merchant, catalogue):
    # given: red and blue mugs and the small frame sold daily for 10 weeks; the green mug for 5 days
    today = timezone.localdate()
    sell(merchant, "MUG-R", 70, 10, last_day=today)
    sell(merchant, "MUG-B", 70, 12, last_day=today)
    sell(merchant, "FRAME-S", 70, 1, last_day=today)
    sell(merchant, "MUG-G", 5, 20, last_day=today)
    # when
    estimates = {
        result.estimate.item_id: result for result in coldstart_estimates_for_merchant(merchant=merchant, weeks=8)
    }
    # then: the green mug (short history) and the large frame (none) are estimated, from their likes
    assert sorted(estimates) == ["FRAME-L", "MUG-G"]
    frame = estimates["FRAME-L"]
    assert frame.similar_products[0][:2] == (catalogue["FRAME-S"].pk, "FRAME-S")
    assert frame.estimate.own_weight == 0.0
    mug = estimates["MUG-G"]
    assert {sku for _, sku, _ in mug.similar_products[:2]} == {"MUG-R", "MUG-B"}
    assert 0 < mug.estimate.own_weight < 1
    assert mug.estimate.weekly_units == pytest.approx(mug.estimate.expected_units / 8)
    # the product page: an estimate for the new frame, none for the established red mug
    page = coldstart_estimate_for_product(merchant=merchant, product=catalogue["FRAME-L"])
    assert page is not None
    assert page.similar_products == frame.similar_products
    assert coldstart_estimate_for_product(merchant=merchant, product=catalogue["MUG-R"]) is None


def test_a_large_catalogue_reads_only_the_sales_of_similar_products_and_a_sample(merchant, catalogue, monkeypatch):
    from forecasting.coldstart import ColdStartConfig
    from nlp import representation_selectors

    # given: the mugs and the small frame with ten weeks of sales
    today = timezone.localdate()
    for sku, units in (("MUG-R", 10), ("MUG-B", 12), ("FRAME-S", 1)):
        sell(merchant, sku, 70, units, last_day=today)
    new = [catalogue["FRAME-L"].pk]
    read: list[list[int] | None] = []
    real = representation_selectors.demand_frame_for_merchant

    def spy(**options):
        read.append(options.get("product_ids"))
        return real(**options)

    monkeypatch.setattr(representation_selectors, "demand_frame_for_merchant", spy)

    # when: estimated with the whole history, then as a catalogue over the limit (here 2 products)
    full = coldstart_estimates_for_merchant(merchant=merchant, product_ids=new)
    bounded = coldstart_estimates_for_merchant(merchant=merchant, product_ids=new, max_reference_products=2)
    monkeypatch.setattr(representation_selectors, "SIMILAR_CANDIDATES", 1)
    tight = coldstart_estimates_for_merchant(
        merchant=merchant, product_ids=new, max_reference_products=2, config=ColdStartConfig(max_fit_references=1)
    )

    # then: the same estimate when the candidates cover the references; a bounded read either way
    assert read[0] is None
    assert sorted(read[1] or []) == sorted(product.pk for product in catalogue.values())
    assert (bounded[0].estimate, bounded[0].similar_products) == (full[0].estimate, full[0].similar_products)
    assert catalogue["FRAME-L"].pk in (read[2] or []) and catalogue["FRAME-S"].pk in (read[2] or [])
    assert len(read[2] or []) <= 4
    assert tight[0].similar_products[0][1] == "FRAME-S"
