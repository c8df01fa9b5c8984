import pytest

from inventory.models import Merchant, Warehouse
from tests.factories import MembershipFactory, MerchantFactory, ProductFactory


@pytest.fixture
def merchant(db: None) -> Merchant:
    return MerchantFactory(slug="acme", name="Acme Gifts")


@pytest.fixture
def warehouse(merchant: Merchant) -> Warehouse:
    return Warehouse.objects.get(merchant=merchant, code="MAIN")


@pytest.fixture
def product(merchant: Merchant):
    return ProductFactory(merchant=merchant, sku="MUG-1", name="Blue mug")


@pytest.fixture
def buyer(merchant: Merchant):
    return MembershipFactory(merchant=merchant, role="buyer", user__username="bob").user


@pytest.fixture
def viewer(merchant: Merchant):
    return MembershipFactory(merchant=merchant, role="viewer", user__username="vera").user
