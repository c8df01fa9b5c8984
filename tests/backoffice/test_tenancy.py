"""A member of merchant A gets 404 on every page and admin URL of merchant B's objects."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from inventory import services
from inventory.models import StockMovement
from tests.factories import MembershipFactory, MerchantFactory, ProductFactory


@pytest.fixture
def two_shops(db):
    shop_a, shop_b = MerchantFactory(slug="shop-a"), MerchantFactory(slug="shop-b")
    alice = MembershipFactory(merchant=shop_a, role="admin", user__username="alice").user
    alice.is_staff = True
    alice.save()
    alice.user_permissions.set(Permission.objects.filter(content_type__app_label="inventory"))
    product_b = ProductFactory(merchant=shop_b, sku="B-1")
    warehouse_b = shop_b.warehouses.get()
    services.stock_adjust(merchant=shop_b, product=product_b, warehouse=warehouse_b, quantity=5)
    order_b = services.purchase_order_create(
        merchant=shop_b, supplier=product_b.supplier, lines=[services.PurchaseLineInput(product_b, 3)]
    )
    sale_b, _ = services.sales_order_record(
        merchant=shop_b, external_id="b-1", lines=[services.SalesLineInput("B-1", 1, "5")]
    )
    return {
        "alice": alice,
        "shop_b": shop_b,
        "product": product_b,
        "order": order_b,
        "sale": sale_b,
        "warehouse": warehouse_b,
        "supplier": product_b.supplier,
        "movement": StockMovement.objects.filter(merchant=shop_b).first(),
        "level": product_b.stock_levels.get(),
        "membership": MembershipFactory(merchant=shop_b, role="viewer"),
    }


PAGE_URLS = [
    ("dashboard", lambda o: {}),
    ("product-list", lambda o: {}),
    ("product-detail", lambda o: {"product_id": o["product"].pk}),
    ("purchase-order-list", lambda o: {}),
    ("purchase-order-detail", lambda o: {"order_id": o["order"].pk}),
    ("suggestion-queue", lambda o: {}),
    ("job-list", lambda o: {}),
    ("settings", lambda o: {}),
]


@pytest.mark.parametrize(("name", "kwargs"), PAGE_URLS)
def test_pages_of_another_merchant_are_404(client, two_shops, name, kwargs):
    client.force_login(two_shops["alice"])
    url = reverse(name, kwargs={"merchant_slug": "shop-b", **kwargs(two_shops)})
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("action", ["approve", "send", "receive", "cancel"])
def test_actions_on_another_merchants_order_are_404_and_change_nothing(client, two_shops, action):
    client.force_login(two_shops["alice"])
    order = two_shops["order"]
    # the order id is real, but under alice's own merchant it does not exist either
    for slug in ("shop-b", "shop-a"):
        url = reverse("purchase-order-action", kwargs={"merchant_slug": slug, "order_id": order.pk, "action": action})
        assert client.post(url).status_code == 404
    order.refresh_from_db()
    assert order.status == "draft"


def test_stock_adjust_on_another_merchants_product_is_404(client, two_shops):
    client.force_login(two_shops["alice"])
    url = reverse("product-stock-adjust", kwargs={"merchant_slug": "shop-a", "product_id": two_shops["product"].pk})
    response = client.post(url, {"warehouse": two_shops["warehouse"].pk, "quantity": 5, "note": "x"})
    assert response.status_code == 404
    assert two_shops["level"].__class__.objects.get(pk=two_shops["level"].pk).on_hand == 4


ADMIN_OBJECTS = ["shop_b", "product", "order", "sale", "warehouse", "supplier", "movement", "level", "membership"]


@pytest.mark.parametrize("key", ADMIN_OBJECTS)
@pytest.mark.parametrize("view", ["change", "delete", "history"])
def test_admin_objects_of_another_merchant_are_404(client, two_shops, key, view):
    client.force_login(two_shops["alice"])
    obj = two_shops[key]
    url = reverse(f"admin:inventory_{obj._meta.model_name}_{view}", args=[obj.pk])
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("key", ADMIN_OBJECTS)
def test_admin_lists_show_only_own_merchants(client, two_shops, key):
    client.force_login(two_shops["alice"])
    model = two_shops[key]._meta.model
    response = client.get(reverse(f"admin:inventory_{model._meta.model_name}_changelist"))
    assert response.status_code == 200
    shop_a = two_shops["alice"].memberships.get().merchant
    visible_merchants = {getattr(obj, "merchant_id", obj.pk) for obj in response.context["cl"].result_list}
    assert visible_merchants <= {shop_a.pk}
    assert two_shops[key] not in response.context["cl"].result_list
