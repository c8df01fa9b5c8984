from decimal import Decimal

import pytest
from django.urls import reverse

from inventory import services
from inventory.models import PurchaseOrder, StockLevel
from tests.factories import MembershipFactory, MerchantFactory, ProductFactory


def test_login_page_and_redirect_for_anonymous(client, merchant):
    assert client.get(reverse("login")).status_code == 200
    response = client.get(reverse("dashboard", kwargs={"merchant_slug": merchant.slug}))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_login_with_one_merchant_goes_to_its_dashboard(client, merchant, buyer):
    response = client.post(reverse("login"), {"username": "bob", "password": "secret-pass"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("dashboard", kwargs={"merchant_slug": "acme"})
    assert "Acme Gifts" in response.content.decode()


def test_user_with_several_merchants_chooses(client, merchant, buyer):
    MembershipFactory(user=buyer, merchant=MerchantFactory(slug="second", name="Second Shop"), role="viewer")
    client.force_login(buyer)
    page = client.get(reverse("merchant-choose")).content.decode()
    assert "Acme Gifts" in page and "Second Shop" in page


def test_dashboard_shows_real_figures(client, merchant, warehouse, buyer):
    in_stock = ProductFactory(merchant=merchant, unit_cost=Decimal("2.50"))
    ProductFactory(merchant=merchant)  # never stocked: a stockout
    services.stock_adjust(merchant=merchant, product=in_stock, warehouse=warehouse, quantity=4)
    order = services.purchase_order_create(
        merchant=merchant, supplier=in_stock.supplier, lines=[services.PurchaseLineInput(in_stock, 2)]
    )
    client.force_login(buyer)
    response = client.get(reverse("dashboard", kwargs={"merchant_slug": "acme"}))
    figures = response.context["figures"]
    assert (figures.sku_count, figures.stockout_count, figures.open_purchase_orders, figures.stock_value) == (
        2,
        1,
        1,
        Decimal("10.00"),
    )
    assert order.status == "draft"


def test_product_pages(client, merchant, product, warehouse, viewer):
    services.stock_adjust(merchant=merchant, product=product, warehouse=warehouse, quantity=9)
    client.force_login(viewer)
    listing = client.get(reverse("product-list", kwargs={"merchant_slug": "acme"}), {"search": "mug"})
    assert [p.sku for p in listing.context["page"]] == ["MUG-1"]
    assert listing.context["page"][0].available_total == 9
    detail = client.get(reverse("product-detail", kwargs={"merchant_slug": "acme", "product_id": product.pk}))
    assert detail.status_code == 200
    assert "Adjust stock" not in detail.content.decode()  # a viewer may not change stock


@pytest.fixture
def sent_order(merchant, product):
    order = services.purchase_order_create(
        merchant=merchant, supplier=product.supplier, lines=[services.PurchaseLineInput(product, 6)]
    )
    services.purchase_order_approve(order=order)
    return services.purchase_order_send(order=order)


def _action_url(order: PurchaseOrder, action: str) -> str:
    return reverse("purchase-order-action", kwargs={"merchant_slug": "acme", "order_id": order.pk, "action": action})


def test_viewer_cannot_receive(client, sent_order, viewer):
    client.force_login(viewer)
    line = sent_order.lines.get()
    assert client.post(_action_url(sent_order, "receive"), {f"line_{line.pk}": 6}).status_code == 403
    sent_order.refresh_from_db()
    assert sent_order.status == "sent"


def test_buyer_receives_in_part_and_stock_rises(client, sent_order, product, warehouse, buyer):
    client.force_login(buyer)
    line = sent_order.lines.get()
    response = client.post(_action_url(sent_order, "receive"), {f"line_{line.pk}": 4}, follow=True)
    assert response.status_code == 200
    sent_order.refresh_from_db()
    assert sent_order.status == "partially_received"
    assert StockLevel.objects.get(product=product, warehouse=warehouse).on_hand == 4
    assert sent_order.events.last().user == buyer


def test_receiving_too_much_shows_the_error_next_to_the_field(client, sent_order, buyer):
    client.force_login(buyer)
    line = sent_order.lines.get()
    response = client.post(_action_url(sent_order, "receive"), {f"line_{line.pk}": 7})
    assert response.status_code == 400
    assert response.context["receive_form"].errors == {
        f"line_{line.pk}": ["Ensure this value is less than or equal to 6."]
    }


def test_illegal_transition_is_a_message_not_an_error(client, sent_order, buyer):
    client.force_login(buyer)
    response = client.post(_action_url(sent_order, "approve"), follow=True)
    assert response.status_code == 200
    assert f"Purchase order {sent_order.pk} is sent; it cannot be approved." in response.content.decode()


def test_stock_adjust_form_validates_next_to_the_field(client, merchant, product, warehouse, buyer):
    client.force_login(buyer)
    url = reverse("product-stock-adjust", kwargs={"merchant_slug": "acme", "product_id": product.pk})
    response = client.post(url, {"warehouse": warehouse.pk, "quantity": -3, "note": "broken"})
    assert response.status_code == 400
    assert response.context["adjust_form"].errors == {
        "quantity": ["Not enough stock of MUG-1 in MAIN: 0 available, 3 requested."]
    }
    response = client.post(url, {"warehouse": warehouse.pk, "quantity": 5, "note": "found a box"})
    assert response.status_code == 302
    assert StockLevel.objects.get(product=product, warehouse=warehouse).on_hand == 5
