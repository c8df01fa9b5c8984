"""The demo shop: the catalogue, sales and stock (inventory) and its customer texts (nlp), in one command."""

from django.core.management.base import BaseCommand

from inventory.demo import demo_load
from nlp.demo import demo_texts_create


class Command(BaseCommand):
    help = (
        "Create the demo merchant (user demo / password demo) from real UCI Online Retail sales, with customer "
        "texts generated from them. Idempotent."
    )

    def handle(self, *args: object, **options: object) -> None:
        result = demo_load()
        texts = demo_texts_create(merchant=result.merchant)
        self.stdout.write(
            f"Demo merchant '{result.merchant.slug}': {result.products_created} products, "
            f"{result.sales_lines_created} sales lines, {result.stock_movements_created} stock movements and "
            f"{result.purchase_orders_created} purchase orders created; it has {len(texts)} customer texts "
            "(generated from its sales: UCI has none). Log in as demo / demo."
        )
