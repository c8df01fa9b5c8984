import pytest
from django.db import connection

from inventory import services
from inventory.models import StockLevel
from inventory.tasks import stock_ledger_audit_task


@pytest.mark.django_db
def test_ledger_audit_in_process_finds_a_tampered_level(merchant, product, warehouse):
    services.stock_adjust(merchant=merchant, product=product, warehouse=warehouse, quantity=5)
    assert stock_ledger_audit_task(merchant.pk) == {"merchant": "acme", "mismatches": []}
    StockLevel.objects.filter(product=product).update(on_hand=7)  # a write that bypassed the services
    assert stock_ledger_audit_task(merchant.pk)["mismatches"] == [
        {"sku": "MUG-1", "warehouse": "MAIN", "on_hand": 7, "ledger_sum": 5}
    ]


@pytest.mark.worker
def test_ledger_audit_runs_in_a_real_worker_through_redis(celery_worker, merchant, product, warehouse):
    assert connection.vendor == "postgresql"
    services.stock_adjust(merchant=merchant, product=product, warehouse=warehouse, quantity=5)
    result = stock_ledger_audit_task.delay(merchant.pk)
    assert result.get(timeout=60) == {"merchant": "acme", "mismatches": []}
    line = f"Task inventory.tasks.stock_ledger_audit_task[{result.id}] succeeded"
    assert line in celery_worker.wait_for_log(line)
