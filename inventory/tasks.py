"""Celery tasks of the inventory app: entry points that load rows by id and call one selector or service."""

import logging

from celery import shared_task

from inventory.models import Merchant
from inventory.selectors import stock_ledger_mismatches

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, soft_time_limit=300, time_limit=360)
def stock_ledger_audit_task(merchant_id: int) -> dict[str, object]:
    """Check that every stock level equals the sum of its ledger rows; read-only, so safe to repeat."""
    merchant = Merchant.objects.get(pk=merchant_id)
    mismatches = stock_ledger_mismatches(merchant=merchant)
    for mismatch in mismatches:
        logger.error("Ledger mismatch at %s: %s", merchant.slug, mismatch)
    return {
        "merchant": merchant.slug,
        "mismatches": [
            {"sku": m.product_sku, "warehouse": m.warehouse_code, "on_hand": m.on_hand, "ledger_sum": m.ledger_sum}
            for m in mismatches
        ],
    }
