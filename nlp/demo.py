"""Customer texts for the demo shop.

UCI Online Retail has sales but no reviews or messages, so the demo's texts are generated from its real sales, in
the phrasings of ``nlp.signals.scenario``: a bulk enquiry a few days before some of a product's largest sales days,
now and then a complaint, and chatter that means nothing. Every generated text has an ``external_id`` starting with
``demo-generated-``. Deterministic, so loading the demo again stores nothing new.
"""

from __future__ import annotations

import datetime

import numpy as np
import pandas as pd

from inventory.models import Merchant, Product
from inventory.selectors import demand_frame_for_merchant
from nlp.models import TextDocument
from nlp.services import TextInput, texts_create
from nlp.signals.scenario import sample_text

DEMO_TEXT_PRODUCTS = 120
SPIKES_PER_PRODUCT = 2


def demo_texts_create(*, merchant: Merchant, seed: int = 0) -> list[TextDocument]:
    """Generate and store the demo shop's customer texts (see the module docstring); returns them."""
    history = demand_frame_for_merchant(merchant=merchant)
    if history.empty:
        return []
    names = dict(Product.objects.filter(merchant=merchant).values_list("sku", "name"))
    totals = history.groupby("item_id")["quantity"].sum().sort_values(ascending=False, kind="stable")
    chosen = sorted(totals.index[:DEMO_TEXT_PRODUCTS])
    rng = np.random.default_rng(seed)
    first, last = history["date"].min(), history["date"].max()
    inputs: list[TextInput] = []
    for sku in chosen:
        name = str(names.get(sku, sku)).lower()
        sales = history[history["item_id"] == sku].set_index("date")["quantity"]
        typical = float(sales.median())
        spikes = sales[sales > 4 * max(typical, 1.0)].sort_values(ascending=False, kind="stable")
        for day in spikes.index[:SPIKES_PER_PRODUCT]:
            written = day - pd.Timedelta(days=int(rng.integers(2, 7)))
            if written >= first:
                inputs.append(_input("enquiry", sample_text("bulk", name, "train", rng), written, sku, len(inputs)))
        for _ in range(int(rng.integers(1, 3))):
            written = first + pd.Timedelta(days=int(rng.integers(0, (last - first).days + 1)))
            inputs.append(_input("review", sample_text("chatter", name, "train", rng), written, sku, len(inputs)))
        if rng.random() < 0.15:
            written = first + pd.Timedelta(days=int(rng.integers(0, (last - first).days + 1)))
            inputs.append(_input("message", sample_text("drop", name, "train", rng), written, sku, len(inputs)))
    return texts_create(merchant=merchant, texts=inputs)


def _input(source: str, text: str, day: pd.Timestamp, sku: str, index: int) -> TextInput:
    written_at = datetime.datetime.combine(day.date(), datetime.time(10, 0), tzinfo=datetime.UTC)
    return TextInput(source, text, written_at, sku=sku, external_id=f"demo-generated-{index}")
