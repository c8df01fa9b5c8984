"""A published run with suggestions in draft purchase orders, built directly (no forecasting): for page tests."""

import datetime
from decimal import Decimal

from django.utils import timezone

from forecasting.models import ForecastRun, JobRun, ProductPolicy, ReplenishmentSuggestion
from inventory import services
from inventory.models import Merchant, Product, PurchaseOrder
from tests.factories import SupplierFactory


def published_queue(merchant: Merchant, *, lines: int, suppliers: int = 2) -> list[PurchaseOrder]:
    """``lines`` suggestions over ``suppliers`` suppliers of ``merchant``, each supplier's in one draft order.

    Products are ``Q0000``, ``Q0001``...; every quantity is 12, in cases of 6 with a minimum of 6.
    """
    job = JobRun.objects.create(
        merchant=merchant,
        kind="pipeline",
        status="succeeded",
        run_date=datetime.date(2026, 6, 1),
        started_at=timezone.now(),
        finished_at=timezone.now(),
    )
    ForecastRun.objects.create(
        merchant=merchant, job=job, freq="D", horizon=28, quantiles=[0.1, 0.5, 0.9], is_published=True
    )
    made_suppliers = [SupplierFactory(merchant=merchant, name=f"Vendor {index}") for index in range(suppliers)]
    products = Product.objects.bulk_create(
        [
            Product(
                merchant=merchant,
                sku=f"Q{index:04d}",
                name=f"Queue product {index}",
                unit_cost=Decimal("2.5000"),
                price=Decimal("6.00"),
                supplier=made_suppliers[index % suppliers],
                case_pack=6,
                moq=6,
            )
            for index in range(lines)
        ]
    )
    policies = ProductPolicy.objects.bulk_create(
        [
            ProductPolicy(
                job=job,
                product=product,
                abc_xyz="AX",
                reorder_point=10.0,
                order_up_to=22.0,
                order_quantity=12,
                unrounded_quantity=10.4,
                expected_demand=14.2,
                safety_stock=3.1,
                service_level=0.95,
                fill_rate=0.98,
                on_hand=8,
                on_order=0,
                explanation=f"Cover demand 14.2 plus safety stock 3.1 for {product.sku}.",
            )
            for product in products
        ]
    )
    orders = []
    for supplier in made_suppliers:
        mine = [
            (product, policy)
            for product, policy in zip(products, policies, strict=True)
            if product.supplier_id == supplier.pk
        ]
        order = services.purchase_order_create(
            merchant=merchant,
            supplier=supplier,
            lines=[services.PurchaseLineInput(product, 12) for product, _policy in mine],
            note=f"Suggested by pipeline run {job.pk}.",
        )
        order_lines = {line.product_id: line for line in order.lines.all()}
        ReplenishmentSuggestion.objects.bulk_create(
            [
                ReplenishmentSuggestion(
                    merchant=merchant,
                    job=job,
                    policy=policy,
                    product=product,
                    supplier=supplier,
                    purchase_order=order,
                    purchase_order_line=order_lines[product.pk],
                    suggested_quantity=12,
                    quantity=12,
                    unit_cost=product.unit_cost,
                    explanation=policy.explanation,
                )
                for product, policy in mine
            ]
        )
        orders.append(order)
    return orders
