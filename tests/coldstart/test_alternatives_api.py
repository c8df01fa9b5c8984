"""GET /api/v1/products/{id}/alternatives/ through APIClient."""

import pytest
from rest_framework.test import APIClient

from inventory import services
from inventory.models import Warehouse
from tests.factories import MembershipFactory, MerchantFactory, ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.NLP_MODEL = ""  # no stored model vectors: TF-IDF


@pytest.fixture
def shop(merchant, warehouse):
    products = {
        sku: ProductFactory(merchant=merchant, sku=sku, name=name, description=description)
        for sku, name, description in [
            ("MUG-R", "Red mug", "red ceramic coffee mug"),
            ("MUG-B", "Blue mug", "blue ceramic coffee mug"),
            ("MUG-G", "Green mug", "green ceramic coffee mug"),
            ("MUG-W", "White mug", "white ceramic coffee mug"),
            ("FRAME", "Frame", "wooden picture frame"),
        ]
    }
    for sku in ("MUG-R", "MUG-G", "MUG-W", "FRAME"):
        services.stock_adjust(merchant=merchant, product=products[sku], warehouse=warehouse, quantity=4)
    services.stock_allocate(merchant=merchant, product=products["MUG-W"], warehouse=warehouse, quantity=4)
    services.product_update(product=products["MUG-G"], is_active=False)
    return products


def client_for(user, merchant_slug: str | None = None) -> APIClient:
    client = APIClient()
    client.force_login(user)
    if merchant_slug:
        client.credentials(HTTP_X_MERCHANT=merchant_slug)
    return client


def url(product_id: int, query: str = "") -> str:
    return f"/api/v1/products/{product_id}/alternatives/{query}"


def test_lists_in_stock_active_alternatives_ranked_with_scores(shop, viewer):
    response = client_for(viewer).get(url(shop["MUG-B"].pk))
    assert response.status_code == 200
    body = response.json()
    assert body["product"] == shop["MUG-B"].pk
    assert body["representation"] == "tfidf"
    # the green mug is inactive, the white one fully allocated, the blue one itself
    skus = [result["sku"] for result in body["results"]]
    assert skus[0] == "MUG-R"
    assert set(skus) <= {"MUG-R", "FRAME"}
    first = body["results"][0]
    assert first == {
        "id": shop["MUG-R"].pk,
        "sku": "MUG-R",
        "name": "Red mug",
        "price": "5.00",
        "available": 4,
        "similarity": first["similarity"],
    }
    assert 0 < first["similarity"] <= 1
    scores = [result["similarity"] for result in body["results"]]
    assert scores == sorted(scores, reverse=True)


def test_limit_is_checked(shop, viewer):
    client = client_for(viewer)
    assert len(client.get(url(shop["MUG-B"].pk, "?limit=1")).json()["results"]) == 1
    bad = client.get(url(shop["MUG-B"].pk, "?limit=0"))
    assert bad.status_code == 400
    assert "limit" in bad.json()
    assert client.get(url(shop["MUG-B"].pk, "?colour=red")).status_code == 400


def test_another_merchants_product_is_404(shop, viewer):
    other = MerchantFactory(slug="other")
    foreign = ProductFactory(merchant=other, sku="MUG-X", name="Red mug")
    stock = Warehouse.objects.get(merchant=other, code="MAIN")
    services.stock_adjust(merchant=other, product=foreign, warehouse=stock, quantity=5)
    assert client_for(viewer).get(url(foreign.pk)).status_code == 404
    assert client_for(viewer).get(url(999_999)).status_code == 404
    # a member of the other shop only sees its own products as alternatives
    outsider = MembershipFactory(merchant=other, role="viewer", user__username="olga").user
    assert client_for(outsider).get(url(shop["MUG-B"].pk)).status_code == 404
    assert client_for(outsider).get(url(foreign.pk)).json()["results"] == []


def test_needs_credentials_and_membership(shop, merchant):
    assert APIClient().get(url(shop["MUG-B"].pk)).status_code in (401, 403)
    stranger = MembershipFactory(merchant=MerchantFactory(slug="elsewhere"), role="viewer").user
    assert client_for(stranger, "acme").get(url(shop["MUG-B"].pk)).status_code == 404
