"""API load benchmark: gunicorn on PostgreSQL with 10,000 products and a year of sales, 50 concurrent clients.

    nice -n 10 .venv/bin/python bench/api_load.py [--clients 50] [--seconds 20] [--workers 4] [--threads 4] [--rate R]

Builds a fresh database (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/stockpilot_bench_api),
loads 10,000 products with stock and a year of sales history through the services, serves the API with
gunicorn (gthread) on 127.0.0.1, and drives each endpoint in turn from N concurrent keep-alive clients for a
bounded time: product list, product detail, stock-level list, sales-order push; closed loop by default (each client
sends again as soon as it is answered), or ``--rate`` requests/s on a fixed schedule. Prints requests/s and
p50/p95/p99 latency per endpoint, the errors, and whether every stock level still equals its ledger sum.
Only loopback is used. Throttling stays on, with a rate (API_THROTTLE_RATE) above what the run can reach.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/stockpilot_bench_api"
PRODUCTS = 10_000


def fresh_database(url: str) -> None:
    import dj_database_url
    import psycopg

    config = dj_database_url.parse(url)
    with psycopg.connect(
        host=config["HOST"] or "127.0.0.1",
        port=config["PORT"] or 5432,
        user=config["USER"] or "postgres",
        password=config["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    ) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{config["NAME"]}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{config["NAME"]}"')


def load_data(seed: int = 7) -> tuple[str, list[int], list[str]]:
    """10,000 products with 10,000 units each, a year of history (about 365k lines); returns a buyer's key."""
    import datetime
    from decimal import Decimal

    import numpy as np
    import pandas as pd
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from integrations.services import api_key_issue
    from inventory import services
    from inventory.models import Product

    call_command("migrate", verbosity=0)
    merchant = services.merchant_create(slug="load", name="Load shop")
    supplier = services.supplier_create(merchant=merchant, name="Main supplier")
    rng = np.random.default_rng(seed)
    services.products_upsert(
        merchant=merchant,
        products=[
            services.ProductInput(
                sku=f"SKU-{index:05d}",
                name=f"Product {index}",
                unit_cost=Decimal("2.5000"),
                price=Decimal(f"{rng.integers(100, 5000) / 100:.2f}"),
                supplier=supplier,
            )
            for index in range(PRODUCTS)
        ],
    )
    products = list(Product.objects.filter(merchant=merchant).order_by("pk"))
    warehouse = merchant.warehouses.get()
    services.stock_set_many(
        merchant=merchant, counts=[services.StockCount(product, warehouse, 10_000) for product in products]
    )
    days = 365
    orders = 120_000
    lines_per_order = rng.integers(1, 6, size=orders)
    order_index = np.repeat(np.arange(orders), lines_per_order)
    start = pd.Timestamp(datetime.date.today() - datetime.timedelta(days=days), tz="UTC")
    order_time = start + pd.to_timedelta(rng.integers(0, days * 86400, size=orders), unit="s")
    history = pd.DataFrame(
        {
            "external_id": [f"H-{index}" for index in order_index],
            "product_id": np.array([product.pk for product in products])[
                rng.integers(0, PRODUCTS, size=len(order_index))
            ],
            "ordered_at": order_time[order_index],
            "quantity": rng.integers(1, 5, size=len(order_index)),
            "unit_price": rng.integers(100, 5000, size=len(order_index)) / 100,
        }
    )
    services.sales_history_load(merchant=merchant, lines=history)
    user = get_user_model().objects.create_user(username="load-buyer", password="load-buyer-password")
    membership = services.membership_set(merchant=merchant, user=user, role="buyer")
    key = api_key_issue(membership=membership, name="load test").key
    print(f"loaded {len(products):,} products and {len(history):,} history lines over {days} days")
    return key, [product.pk for product in products], [product.sku for product in products]


def database_loaded(url: str) -> bool:
    import psycopg

    try:
        with psycopg.connect(url.replace("postgres://", "postgresql://", 1), connect_timeout=5) as connection:
            row = connection.execute("SELECT count(*) FROM inventory_product").fetchone()
            return bool(row and row[0] >= PRODUCTS)
    except psycopg.Error:
        return False


def reuse_data() -> tuple[str, list[int], list[str]]:
    from integrations.services import api_key_issue
    from inventory.models import Membership, Product

    membership = Membership.objects.get(user__username="load-buyer")
    products = list(Product.objects.filter(merchant=membership.merchant).order_by("pk").values_list("pk", "sku"))
    return api_key_issue(membership=membership).key, [pk for pk, _ in products], [sku for _, sku in products]


@dataclass
class Stats:
    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


class Connection:
    """One keep-alive HTTP/1.1 connection to the server."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(body)}\r\n"
        head += "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        self.writer.write(head.encode() + b"\r\n" + body)
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("closed")
        status = int(status_line.split()[1])
        length = 0
        keep_alive = True
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
            elif name.lower() == "connection" and value.strip().lower() == "close":
                keep_alive = False
        await self.reader.readexactly(length)
        if not keep_alive:
            await self.close()
        return status

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


Request = tuple[str, str, bytes, int]  # method, path, body, expected status


async def drive(
    port: int, key: str, make: Callable[[], Request], clients: int, seconds: float, rate: float = 0.0
) -> Stats:
    """Closed loop (``rate`` 0): each client sends its next request as soon as the last one is answered. Open loop
    (``rate`` requests/s over all clients): each client sends on a fixed schedule, and a request's latency counts
    from when it was due, so time spent waiting behind a slow answer is counted too."""
    stats = Stats()
    headers = {"Authorization": f"Token {key}", "Accept": "application/json", "Content-Type": "application/json"}
    deadline = time.perf_counter() + seconds

    async def client(offset: float) -> None:
        connection = Connection(port)
        interval = clients / rate if rate > 0 else 0.0
        due = time.perf_counter() + offset * interval
        while time.perf_counter() < deadline:
            if interval:
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
            method, path, body, expected = make()
            started = due if interval else time.perf_counter()
            due += interval
            try:
                status = await connection.request(method, path, headers, body)
            except (OSError, ConnectionError, asyncio.IncompleteReadError, ValueError) as error:
                stats.errors[type(error).__name__] = stats.errors.get(type(error).__name__, 0) + 1
                await connection.close()
                continue
            stats.latencies.append(time.perf_counter() - started)
            if status != expected:
                stats.errors[str(status)] = stats.errors.get(str(status), 0) + 1
        await connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(client(index / clients) for index in range(clients)))
    stats.seconds = time.perf_counter() - started
    return stats


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000 if ordered else float("nan")


def units_sold() -> int:
    from django.db.models import Sum

    from inventory.models import StockMovement

    total = StockMovement.objects.filter(merchant__slug="load", kind="sale").aggregate(total=Sum("quantity"))["total"]
    return -(total or 0)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(port: int, server: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("gunicorn exited")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("gunicorn did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20.0, help="per endpoint")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds per read endpoint before measuring")
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    parser.add_argument(
        "--rate", type=float, default=0.0, help="requests/s over all clients on a fixed schedule (default: closed loop)"
    )
    parser.add_argument("--reuse", action="store_true", help="keep the database of an earlier run if it has the data")
    args = parser.parse_args()
    port = args.port or free_port()

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # stop gunicorn too when told to stop
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    if not (args.reuse and database_loaded(url)):
        fresh_database(url)
    env = os.environ | {
        "DATABASE_URL": url,
        "DEBUG": "0",
        "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-only-secret-key-0123456789abcdefghijklmnop"),
        "ALLOWED_HOSTS": "127.0.0.1",
        "API_THROTTLE_RATE": "10000000/min",
        "LOG_LEVEL": "WARNING",
        "DB_CONN_MAX_AGE": "600",
    }
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "SECRET_KEY", "ALLOWED_HOSTS")})
    os.environ["DJANGO_SETTINGS_MODULE"] = "backoffice.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    started = time.perf_counter()
    if args.reuse and database_loaded(url):
        key, product_ids, skus = reuse_data()
    else:
        key, product_ids, skus = load_data()
    # A bulk load leaves the planner statistics of an empty database until autovacuum gets to the tables (it would
    # within a minute or so): without them PostgreSQL sorts the lists' joins by hash and bitmap plans sized for 100
    # rows. Measure the steady state a live shop is in.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    connection.close()
    print(f"data ready in {time.perf_counter() - started:.0f} s")

    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "backoffice.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--worker-class",
            "gthread",
            "--workers",
            str(args.workers),
            "--threads",
            str(args.threads),
            "--keep-alive",
            "30",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    try:
        wait_for(port, server)
        counter = iter(range(10**9))
        run = f"{int(time.time())}"
        pushed_units = 0
        sold_before = units_sold()

        def order() -> Request:
            nonlocal pushed_units
            lines = [
                {"sku": random.choice(skus), "quantity": 1, "unit_price": "9.99"} for _ in range(random.randint(1, 3))
            ]
            pushed_units += len(lines)
            body = json.dumps({"external_id": f"LOAD-{run}-{next(counter)}", "lines": lines}).encode()
            return "POST", "/api/v1/sales-orders/", body, 201

        # The first row is the ceiling measured in the same run: Django's liveness view answers a constant JSON
        # through the whole middleware stack with no authentication and no query, so no API endpoint can be faster.
        endpoints: list[tuple[str, Callable[[], Request], float | None]] = [
            ("GET healthz (ceiling)", lambda: ("GET", "/healthz", b"", 200), None),
            ("GET products/ (page)", lambda: ("GET", f"/api/v1/products/?page={random.randint(1, 200)}", b"", 200), 50),
            ("GET products/{id}/", lambda: ("GET", f"/api/v1/products/{random.choice(product_ids)}/", b"", 200), 50),
            (
                "GET stock-levels/ (page)",
                lambda: ("GET", f"/api/v1/stock-levels/?page={random.randint(1, 200)}", b"", 200),
                50,
            ),
            ("POST sales-orders/", order, 100),
        ]
        # Warm up: every worker imports the app on its first request and opens its database connection.
        for _, make, _ in endpoints[:4]:
            asyncio.run(drive(port, key, make, args.clients, args.warmup))
        rows = []
        for name, make, target in endpoints:
            stats = asyncio.run(drive(port, key, make, args.clients, args.seconds, args.rate))
            rows.append((name, stats, target))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)

    from django.db import connection

    from inventory.models import Merchant
    from inventory.selectors import stock_ledger_mismatches

    connection.close()
    mismatches = stock_ledger_mismatches(merchant=Merchant.objects.get(slug="load"))
    sold = units_sold() - sold_before

    load = f"{args.rate:g} requests/s offered" if args.rate else "closed loop"
    print(
        f"\n{args.clients} clients ({load}), {args.seconds:.0f} s per endpoint, "
        f"gunicorn gthread {args.workers}x{args.threads}"
    )
    print(
        f"{'endpoint':<26}{'requests':>9}{'errors':>8}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}  target p95"
    )
    for name, stats, target in rows:
        p95 = percentile(stats.latencies, 0.95)
        verdict = (
            "no target: a no-op view" if target is None else f"< {target} ms {'met' if p95 < target else 'NOT met'}"
        )
        print(
            f"{name:<26}{len(stats.latencies):>9}{sum(stats.errors.values()):>8}"
            f"{len(stats.latencies) / stats.seconds:>8.0f}{percentile(stats.latencies, 0.50):>9.1f}"
            f"{p95:>9.1f}{percentile(stats.latencies, 0.99):>9.1f}"
            f"  {verdict}" + (f"  errors: {stats.errors}" if stats.errors else "")
        )
    print(f"stock levels equal to their ledger sums: {not mismatches} ({len(mismatches)} mismatches)")
    print(f"units taken from stock by this run's orders: {sold:,} (units in the orders sent: {pushed_units:,})")


if __name__ == "__main__":
    main()
