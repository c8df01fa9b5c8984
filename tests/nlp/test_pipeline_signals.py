"""The pipeline's signals step and its new products: texts scored into the run, cold-start forecasts and policies."""

import datetime
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from django.urls import reverse
from django.utils import translation

from backoffice.templatetags.backoffice_tags import step_detail
from forecasting import services as forecasting_services
from forecasting.models import ForecastRun, JobRun, ProductForecast, ProductPolicy, ReplenishmentSuggestion
from forecasting.selectors import product_coldstart_published
from inventory import services
from inventory.models import Product
from inventory.services import product_update
from nlp.models import ProductRepresentation, TextSignal
from nlp.services import TextInput, texts_create
from nlp.signals.features import LEARNED_SIGNAL
from tests.factories import MembershipFactory, ProductFactory
from tests.forecasting.pipeline_data import QUICK_METHODS, TODAY, small_merchant

pytestmark = pytest.mark.django_db


@pytest.fixture
def quick(settings):
    settings.FORECAST_ENGINE_METHODS = QUICK_METHODS
    return settings


def _texts(merchant):
    written = [datetime.datetime(2026, 5, day, 10, tzinfo=datetime.UTC) for day in (3, 10, 17, 24)]
    return texts_create(
        merchant=merchant,
        texts=[
            TextInput("enquiry", "Could we order 40 more of these for our shop?", written[0], sku="P01"),
            TextInput("review", "Lovely, bought two and will buy again", written[1], sku="P02"),
            TextInput("review", "Arrived broken, returning it", written[2], sku="P02"),
            TextInput("message", "When is this back in stock? We need 30", written[3], sku="P04"),
        ],
    )


def _blue_mug(merchant, **fields) -> Product:
    """A product named like the merchant's P00 once P00 is the red enamel mug, from the same supplier."""
    return ProductFactory(
        merchant=merchant,
        sku="NEW-1",
        name="Blue Enamel Mug",
        description="A blue enamel mug.",
        supplier=merchant.products.get(sku="P00").supplier,
        **fields,
    )


def _run(merchant) -> JobRun:
    job = forecasting_services.pipeline_start(merchant=merchant, queue=False, run_date=TODAY)
    job = forecasting_services.pipeline_run_inline(job_id=job.pk)
    assert job.status == "succeeded", job.error
    return job


def test_the_signals_step_scores_new_texts_and_feeds_their_signal_to_the_forecasts(quick, nlp_settings):
    # given: a shop with four texts about three of its products
    merchant = small_merchant()
    texts = _texts(merchant)

    # when: the pipeline runs twice
    first = _run(merchant)
    second = _run(merchant)

    # then: the first run scored the texts once and carried their learned signal into its forecast run
    signals = first.steps.get(kind="signals")
    assert signals.status == "succeeded"
    assert signals.detail.startswith(f"4 new texts scored by {nlp_settings.NLP_MODEL}. ")
    assert signals.detail.endswith("The demand signal of 4 texts joins the forecasts.")
    assert (signals.done, signals.total) == (4, 4)
    assert TextSignal.objects.filter(merchant=merchant).count() == 4
    table = ForecastRun.objects.get(job=first).text_signals
    assert table["text_id"] == [str(text.pk) for text in texts]
    assert table["item_id"] == ["P01", "P02", "P02", "P04"]
    assert table["date"] == ["2026-05-03", "2026-05-10", "2026-05-17", "2026-05-24"]
    assert len(table[LEARNED_SIGNAL]) == 4
    # and: the second run found nothing new to score and used the same signal
    assert second.steps.get(kind="signals").detail == "The demand signal of 4 texts joins the forecasts."
    assert ForecastRun.objects.get(job=second).text_signals == table
    assert ProductForecast.objects.filter(run__job=second).count() == 6


def test_the_signals_step_represents_new_and_edited_product_descriptions_once(quick, nlp_settings):
    # given: a shop whose products the model has not represented yet
    merchant = small_merchant()
    products = Product.objects.filter(merchant=merchant).count()

    # when: the pipeline runs, runs again, and runs after one description is edited
    first = _run(merchant)
    second = _run(merchant)
    product_update(product=Product.objects.get(merchant=merchant, sku="P03"), description="Now in stoneware")
    third = _run(merchant)

    # then: every product is represented once, and an edited one again
    facts = [job.steps.get(kind="signals").facts["products_represented"] for job in (first, second, third)]
    assert facts == [products, 0, 1]
    assert "product descriptions represented by the model." in first.steps.get(kind="signals").detail
    assert ProductRepresentation.objects.filter(merchant=merchant).count() == products


def test_a_model_that_cannot_load_leaves_the_texts_unscored_and_the_run_succeeds(quick, settings, tmp_path):
    # given: texts, and a language model directory with nothing in it
    settings.NLP_MODEL = str(tmp_path / "no-model")
    merchant = small_merchant()
    _texts(merchant)

    # when
    job = _run(merchant)

    # then: the step says why, and the forecasts rest on sales alone
    detail = job.steps.get(kind="signals").detail
    assert detail.startswith(f"New texts were not scored: Could not load the language model '{settings.NLP_MODEL}'")
    assert detail.endswith("No scored texts about products with sales: forecasts rest on sales alone.")
    assert TextSignal.objects.count() == 0
    assert ForecastRun.objects.get(job=job).text_signals == {}
    assert ProductForecast.objects.filter(run__job=job).count() == 6


def test_a_new_product_is_forecast_and_planned_from_similar_products(quick, settings, client):
    # given: six products with sales (no descriptions alike) and a new one named like one of them
    settings.NLP_MODEL = ""  # similarity from TF-IDF alone
    merchant = small_merchant()
    for index, words in enumerate(("red enamel mug", "oak chopping board", "linen tea towel", "brass door knob")):
        merchant.products.filter(sku=f"P0{index}").update(name=words.title(), description=f"A {words}.")
    new = _blue_mug(merchant, unit_cost=Decimal("4.00"), price=Decimal("10.00"))

    # when
    job = _run(merchant)

    # then: it gets a flat cold-start forecast from the mug, and a policy and a suggestion like any product
    run = ForecastRun.objects.get(job=job)
    estimate = run.coldstart[str(new.pk)]
    assert estimate["similar"][0][0] == "P00"
    forecast = ProductForecast.objects.get(run=run, product=new)
    assert (forecast.method, forecast.segment, forecast.start_date) == ("cold start", "new", datetime.date(2026, 6, 1))
    daily = round(estimate["weekly_units"] / 7, 4)
    assert daily > 0
    assert forecast.mean == [daily] * run.horizon
    assert forecast.quantiles["p50"][0] <= forecast.quantiles["p90"][0] <= forecast.quantiles["p98"][0]
    policy = ProductPolicy.objects.get(job=job, product=new)
    assert (policy.on_hand, policy.on_order) == (0, 0)
    assert policy.order_quantity > 0
    assert job.steps.get(kind="forecast").detail == "6 products forecast from their sales, 1 new from similar products."
    # and: the product page's list of the similar products behind it, by id and name; none for a product that sold
    similar = product_coldstart_published(merchant=merchant, product=new)
    assert similar is not None
    assert (similar[0].sku, similar[0].name, similar[0].similarity) == (
        "P00",
        "Red Enamel Mug",
        estimate["similar"][0][1],
    )
    assert similar[0].product_id == merchant.products.get(sku="P00").pk
    assert [item.sku for item in similar] == [sku for sku, _ in estimate["similar"]]
    assert product_coldstart_published(merchant=merchant, product=merchant.products.get(sku="P00")) is None
    client.force_login(MembershipFactory(merchant=merchant, role="viewer").user)
    page = client.get(
        reverse("product-detail", kwargs={"merchant_slug": merchant.slug, "product_id": new.pk})
    ).content.decode()
    assert "Forecast from similar products" in page and "Red Enamel Mug" in page


def test_the_jobs_page_says_what_each_step_did_in_the_users_language(quick, settings):
    # given: a run over six products with sales and one new one, and no language model
    settings.NLP_MODEL = ""
    merchant = small_merchant()
    ProductFactory(merchant=merchant, sku="NEW-1", supplier=merchant.products.get(sku="P00").supplier)
    job = _run(merchant)
    signals, forecast = job.steps.get(kind="signals"), job.steps.get(kind="forecast")

    # then: the figures behind each step's detail are kept
    assert signals.facts == {"model": "", "texts_scored": 0, "texts_used": 0}
    assert forecast.facts == {"from_sales": 6, "new": 1}

    # and: rendered in English and in Chinese
    assert step_detail(signals) == "No scored texts about products with sales: forecasts rest on sales alone."
    assert step_detail(forecast) == (
        "6 products forecast from their sales. 1 new product forecast from similar products."
    )
    with translation.override("zh-hans"):
        assert step_detail(signals) == "没有关于有销量商品的已评分文本：预测仅基于销量。"
        assert step_detail(forecast) == "6 个商品根据其销量预测。 1 个新商品根据相似商品预测。"


def test_a_shop_with_no_sales_yet_runs_and_orders_nothing(quick, settings):
    # given: a new shop with two products and no sales at all
    settings.NLP_MODEL = ""
    merchant = ProductFactory(sku="A-1", name="Red enamel mug").merchant
    ProductFactory(merchant=merchant, sku="A-2", name="Blue enamel mug")

    # when
    job = _run(merchant)

    # then: the run succeeds; with nothing sold anywhere the new products' estimates are zero, and nothing is ordered
    assert job.steps.get(kind="forecast").facts == {"from_sales": 0, "new": 2}
    forecasts = ProductForecast.objects.filter(run__job=job)
    assert sorted(forecast.product.sku for forecast in forecasts) == ["A-1", "A-2"]
    assert all(set(forecast.mean) == {0.0} for forecast in forecasts)
    assert ReplenishmentSuggestion.objects.filter(merchant=merchant).count() == 0


def test_a_recently_launched_product_blends_similar_products_with_its_own_sales(quick, settings):
    # given: a mug first sold two weeks before the run (20 units a day since), named like an established mug
    settings.NLP_MODEL = ""
    merchant = small_merchant()
    merchant.products.filter(sku="P00").update(name="Red Enamel Mug", description="A red enamel mug.")
    launched = _blue_mug(merchant)
    days = [TODAY - datetime.timedelta(days=14 - day) for day in range(14)]
    rows = [(f"n{day:%d}", "NEW-1", f"{day}T12:00:00Z", 20, "10.00") for day in days]
    services.sales_history_import(
        merchant=merchant,
        rows=pd.DataFrame(rows, columns=["external_id", "sku", "ordered_at", "quantity", "unit_price"]),
    )

    # when
    job = _run(merchant)

    # then: its forecast is a cold start that leans on its own two weeks (weight 2 / (2 + 2)) and the mug
    run = ForecastRun.objects.get(job=job)
    estimate = run.coldstart[str(launched.pk)]
    assert estimate["similar"][0][0] == "P00"
    forecast = ProductForecast.objects.get(run=run, product=launched)
    assert (forecast.method, forecast.segment) == ("cold start", "new")
    # half of log(1 + its own 8-week run rate, 20 x 56), half of the similar products' estimate
    own = np.log1p(20 * 56)
    blended = np.log1p(estimate["weekly_units"] * 8)
    assert 0.5 * own < blended < own
    assert blended == pytest.approx(6.3945, abs=1e-3)
    assert job.steps.get(kind="forecast").facts == {"from_sales": 6, "new": 1}
