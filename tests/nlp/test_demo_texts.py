"""The demo shop's customer texts, generated from its real sales."""

import pandas as pd
import pytest
from django.core.management import call_command

from inventory.models import Merchant
from inventory.selectors import demand_frame_for_merchant
from nlp.models import TextDocument

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def test_load_demo_adds_texts_generated_from_the_sales_once(capsys):
    # when: the demo is loaded twice
    call_command("load_demo")
    call_command("load_demo")

    # then: the texts were stored once, each about a product of the demo and marked as generated
    assert capsys.readouterr().out.count("it has 430 customer texts (generated from its sales: UCI has none)") == 2
    merchant = Merchant.objects.get(slug="demo")
    texts = list(TextDocument.objects.filter(merchant=merchant).select_related("product"))
    assert len(texts) == 430
    assert {text.source for text in texts} == {"enquiry", "review", "message"}
    assert sum(text.source == "enquiry" for text in texts) == 233
    assert all(text.product is not None and text.product.sku == text.sku_given for text in texts)
    assert all(text.external_id.startswith("demo-generated-") for text in texts)

    # and: every bulk enquiry comes two to six days before one of the product's big sales days
    sales = demand_frame_for_merchant(merchant=merchant)
    for text in (text for text in texts if text.source == "enquiry"):
        own = sales[sales["item_id"] == text.sku_given].set_index("date")["quantity"]
        written = pd.Timestamp(text.written_at.date())
        ahead = own[(own.index >= written + pd.Timedelta(days=2)) & (own.index <= written + pd.Timedelta(days=6))]
        assert (ahead > 4 * max(float(own.median()), 1.0)).any(), text.text
