from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User

from inventory.models import Membership, Merchant, Product, Role, Supplier, Warehouse


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("secret-pass")


class MerchantFactory(factory.django.DjangoModelFactory[Merchant]):
    class Meta:
        model = Merchant
        skip_postgeneration_save = True

    slug = factory.Sequence(lambda n: f"shop{n}")
    name = factory.LazyAttribute(lambda o: f"Shop {o.slug}")

    @factory.post_generation
    def warehouse(self, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            Warehouse.objects.create(merchant=self, code="MAIN", name="Main warehouse", is_default=True)


class MembershipFactory(factory.django.DjangoModelFactory[Membership]):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    merchant = factory.SubFactory(MerchantFactory)
    role = Role.BUYER


class SupplierFactory(factory.django.DjangoModelFactory[Supplier]):
    class Meta:
        model = Supplier

    merchant = factory.SubFactory(MerchantFactory)
    name = factory.Sequence(lambda n: f"Supplier {n}")
    lead_time_days = 7


class ProductFactory(factory.django.DjangoModelFactory[Product]):
    class Meta:
        model = Product

    merchant = factory.SubFactory(MerchantFactory)
    sku = factory.Sequence(lambda n: f"SKU-{n:04d}")
    name = factory.Sequence(lambda n: f"Product {n}")
    unit_cost = Decimal("2.5000")
    price = Decimal("5.00")
    supplier = factory.SubFactory(SupplierFactory, merchant=factory.SelfAttribute("..merchant"))
