from django.core.management.base import BaseCommand

from inventory.demo import demo_load


class Command(BaseCommand):
    help = "Create the demo merchant (user demo / password demo) from real UCI Online Retail sales. Idempotent."

    def handle(self, *args: object, **options: object) -> None:
        result = demo_load()
        self.stdout.write(
            f"Demo merchant '{result.merchant.slug}': {result.products_created} products, "
            f"{result.sales_lines_created} sales lines, {result.stock_movements_created} stock movements and "
            f"{result.purchase_orders_created} purchase orders created. Log in as demo / demo."
        )
