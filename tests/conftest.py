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


@pytest.fixture
def celery_worker(transactional_db):
    """A real worker process on Redis and the test database; tasks sent from the test go through Redis."""
    import os

    from tests.celery_support import Worker, broker

    redis_url = os.environ["TEST_REDIS_URL"]
    with broker(redis_url):
        worker = Worker(redis_url).start()
        try:
            yield worker
        finally:
            worker.stop()
