from dataclasses import dataclass

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from integrations.services import api_key_issue
from inventory import services
from inventory.models import Membership, Merchant
from tests.factories import MembershipFactory, MerchantFactory, ProductFactory, SupplierFactory


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Users are made in every test; the production hasher would spend seconds on them."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_throttle_counters():
    """Throttle counters live in the (per-process) cache; each test starts from zero."""
    cache.clear()
    yield
    cache.clear()


def key_client(membership: Membership, scopes: list[str] | None = None) -> APIClient:
    client = APIClient()
    issued = api_key_issue(membership=membership, name="test", scopes=scopes)
    client.credentials(HTTP_AUTHORIZATION=f"Token {issued.key}")
    client.api_key = issued.api_key
    return client


@dataclass
class Shop:
    merchant: Merchant
    admin: Membership
    buyer: Membership
    viewer: Membership

    def client(self, role: str) -> APIClient:
        return key_client(getattr(self, role))


@pytest.fixture
def shop(db) -> Shop:
    merchant = MerchantFactory(slug="acme", name="Acme Gifts")
    return Shop(
        merchant=merchant,
        admin=MembershipFactory(merchant=merchant, role="admin", user__username="ada"),
        buyer=MembershipFactory(merchant=merchant, role="buyer", user__username="bob"),
        viewer=MembershipFactory(merchant=merchant, role="viewer", user__username="vera"),
    )


@pytest.fixture
def supplier(shop):
    return SupplierFactory(merchant=shop.merchant, name="Mugs Ltd", lead_time_days=10)


@pytest.fixture
def mug(shop, supplier):
    """A product with 20 units on hand in MAIN."""
    product = ProductFactory(merchant=shop.merchant, sku="MUG-1", name="Blue mug", supplier=supplier)
    services.stock_adjust(
        merchant=shop.merchant, product=product, warehouse=shop.merchant.warehouses.get(), quantity=20
    )
    return product


@pytest.fixture
def other_shop(db):
    """Another merchant, with an admin who is no member of acme."""
    merchant = MerchantFactory(slug="globex", name="Globex")
    admin = MembershipFactory(merchant=merchant, role="admin", user__username="otto")
    ProductFactory(merchant=merchant, sku="G-1")
    return Shop(merchant=merchant, admin=admin, buyer=admin, viewer=admin)
