"""API keys, merchant selection, session auth, throttling; pagination, filtering and ordering of lists."""

import pytest
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from integrations.models import ApiKey
from inventory import services
from tests.api.conftest import key_client
from tests.factories import MembershipFactory, ProductFactory


def test_token_for_a_user_of_several_merchants_names_the_merchant(shop, other_shop):
    MembershipFactory(merchant=other_shop.merchant, user=shop.buyer.user, role="viewer")
    client = APIClient()
    ambiguous = client.post("/api/v1/auth/token/", {"username": "bob", "password": "secret-pass"}, format="json")
    assert ambiguous.status_code == 400
    assert set(ambiguous.json()) == {"merchant"}
    response = client.post(
        "/api/v1/auth/token/",
        {"username": "bob", "password": "secret-pass", "merchant": "globex", "scopes": ["read"]},
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["merchant"], body["role"], body["scopes"]) == ("globex", "viewer", ["read"])
    assert body["key"].startswith(f"sp_{body['prefix']}_")
    assert ApiKey.objects.get(pk=body["id"]).secret_digest not in body["key"]
    key = APIClient()
    key.credentials(HTTP_AUTHORIZATION=f"Bearer {body['key']}")
    assert [p["sku"] for p in key.get("/api/v1/products/").json()["results"]] == ["G-1"]


def test_wrong_password_is_400(shop):
    response = APIClient().post("/api/v1/auth/token/", {"username": "bob", "password": "nope"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["Unable to log in with those credentials."]}


def test_read_only_key_cannot_write_whatever_the_role(shop, mug):
    client = key_client(shop.admin, scopes=["read"])
    assert client.get("/api/v1/products/").status_code == 200
    response = client.post("/api/v1/stock-adjustments/", {"product": mug.pk, "quantity": 1}, format="json")
    assert response.status_code == 403
    assert response.json() == {"detail": "This API key lacks the write scope."}


def test_revoked_or_forged_key_is_401(shop):
    client = shop.client("viewer")
    assert client.delete("/api/v1/auth/token/").status_code == 204
    assert client.get("/api/v1/products/").status_code == 401
    forged = APIClient()
    forged.credentials(HTTP_AUTHORIZATION="Token sp_abc_def")
    assert forged.get("/api/v1/products/").status_code == 401


def test_role_changes_apply_to_existing_keys(shop, mug):
    client = shop.client("buyer")
    services.membership_set(merchant=shop.merchant, user=shop.buyer.user, role="viewer")
    response = client.post("/api/v1/stock-adjustments/", {"product": mug.pk, "quantity": 1}, format="json")
    assert response.status_code == 403


def test_key_with_another_merchants_header_is_404(shop, other_shop):
    response = shop.client("viewer").get("/api/v1/products/", HTTP_X_MERCHANT="globex")
    assert response.status_code == 404


def test_session_user_picks_the_merchant_with_a_header(shop, mug, other_shop):
    MembershipFactory(merchant=other_shop.merchant, user=shop.viewer.user, role="viewer")
    client = APIClient()
    client.force_login(shop.viewer.user)
    assert set(client.get("/api/v1/products/").json()) == {"X-Merchant"}
    acme = client.get("/api/v1/products/", HTTP_X_MERCHANT="acme").json()
    assert [p["sku"] for p in acme["results"]] == ["MUG-1"]
    assert client.get("/api/v1/products/", HTTP_X_MERCHANT="initech").status_code == 404


def test_session_writes_need_csrf(shop, mug):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(shop.buyer.user)
    response = client.post("/api/v1/stock-adjustments/", {"product": mug.pk, "quantity": 1}, format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


def test_browsable_api_renders_for_a_session_user(shop, mug):
    client = APIClient()
    client.force_login(shop.viewer.user)
    response = client.get("/api/v1/products/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert b"MUG-1" in response.content


def test_throttling_answers_429_with_retry_after(shop, monkeypatch):
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"api": "3/min", "auth": "2/min"})
    client = shop.client("viewer")
    statuses = [client.get("/api/v1/warehouses/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert int(client.get("/api/v1/warehouses/").headers["Retry-After"]) > 0
    login = [
        APIClient().post("/api/v1/auth/token/", {"username": "x", "password": "y"}, format="json").status_code
        for _ in range(3)
    ]
    assert login == [400, 400, 429]


@pytest.fixture
def catalogue(shop, supplier):
    for sku, name, price in [
        ("CUP-1", "Red cup", "3.00"),
        ("MUG-2", "Green mug", "7.00"),
        ("PLATE-1", "Plate", "9.00"),
    ]:
        ProductFactory(merchant=shop.merchant, sku=sku, name=name, price=price, supplier=supplier)
    ProductFactory(merchant=shop.merchant, sku="OLD-1", name="Old mug", is_active=False)


def test_product_list_filters_orders_and_paginates(shop, catalogue):
    client = shop.client("viewer")
    page = client.get("/api/v1/products/?search=mug&is_active=true&ordering=-price&page_size=1").json()
    assert page["count"] == 1
    assert [p["sku"] for p in page["results"]] == ["MUG-2"]
    everything = client.get("/api/v1/products/?ordering=-sku&page_size=2").json()
    assert everything["count"] == 4
    assert [p["sku"] for p in everything["results"]] == ["PLATE-1", "OLD-1"]
    assert everything["next"].endswith("ordering=-sku&page=2&page_size=2")


def test_stock_level_list_filters_by_sku_and_quantity(shop, mug, catalogue):
    client = shop.client("viewer")
    rows = client.get("/api/v1/stock-levels/?on_hand_min=1").json()["results"]
    assert [(row["sku"], row["on_hand"], row["available"]) for row in rows] == [("MUG-1", 20, 20)]
    assert client.get("/api/v1/stock-levels/?sku=CUP-1").json()["count"] == 0


def test_purchase_order_list_filters_by_several_statuses(shop, mug):
    orders = [
        services.purchase_order_create(
            merchant=shop.merchant, supplier=mug.supplier, lines=[services.PurchaseLineInput(mug, 1)]
        )
        for _ in range(3)
    ]
    services.purchase_order_approve(order=orders[0])
    services.purchase_order_cancel(order=orders[1])
    response = shop.client("viewer").get("/api/v1/purchase-orders/?status=approved&status=cancelled&ordering=id")
    assert [row["id"] for row in response.json()["results"]] == [orders[0].pk, orders[1].pk]
    assert response.json()["results"][0]["total_value"] == "2.5000"
