"""Pipeline scale benchmark: N SKUs with two years of daily sales and texts, run with 1 and with 2 worker processes.

    .venv/bin/python bench/pipeline_scale.py --skus 100000 [--workers 1,2] [--chunk-size 500] [--freq D]

It creates a throw-away PostgreSQL database (``stockpilot_bench`` on the server of ``BENCH_DATABASE_URL``,
default postgres://postgres@127.0.0.1:5432/postgres) and uses Redis at ``BENCH_REDIS_URL`` (default
redis://127.0.0.1:6379/14), loads the generated merchant once, then for each worker count starts that many
``celery worker -Q forecasting --pool=solo`` processes, runs the pipeline and prints wall time, SKUs/s and the
peak memory of each worker. Reach: 100,000 SKUs forecast and planned in under 10 minutes on two cores, and
near-linear speed-up from one worker to two.
"""

from __future__ import annotations

import argparse
import datetime
import io
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pandas as pd
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def server_url() -> str:
    return os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")


def bench_url(name: str = "stockpilot_bench") -> str:
    parsed = urlparse(server_url())
    return parsed._replace(path=f"/{name}").geturl()


def recreate_database() -> None:
    import psycopg

    with psycopg.connect(server_url(), autocommit=True) as connection:
        connection.execute("DROP DATABASE IF EXISTS stockpilot_bench WITH (FORCE)")
        connection.execute("CREATE DATABASE stockpilot_bench")


def setup_django(redis_url: str) -> None:
    os.environ["DATABASE_URL"] = bench_url()
    os.environ["REDIS_URL"] = redis_url
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789-abcdefghijklmnop")
    os.environ["DJANGO_SETTINGS_MODULE"] = "backoffice.settings"
    import django

    django.setup()


def generate_sales(skus: int, days: int, seed: int = 1) -> pd.DataFrame:
    """Daily units for ``skus`` SKUs: a mix of smooth, seasonal and intermittent demand."""
    rng = np.random.default_rng(seed)
    level = rng.lognormal(mean=0.0, sigma=1.2, size=skus)
    weekly = 1 + 0.3 * np.sin(2 * np.pi * (np.arange(days) % 7) / 7)
    yearly = 1 + 0.4 * np.sin(2 * np.pi * np.arange(days) / 365.25)
    rate = level[:, None] * weekly[None, :] * yearly[None, :]
    units = rng.poisson(rate)
    sku_index, day_index = np.nonzero(units)
    end = datetime.date.today() - datetime.timedelta(days=1)
    start = end - datetime.timedelta(days=days - 1)
    return pd.DataFrame(
        {
            "sku_index": sku_index,
            "date": pd.Timestamp(start) + pd.to_timedelta(day_index, unit="D"),
            "quantity": units[sku_index, day_index],
        }
    )


def load_merchant(skus: int, days: int) -> int:
    """Create the bench merchant with ``skus`` products, their sales history, stock and a few texts."""
    from django.db import connection

    from inventory import services
    from inventory.models import Merchant, Product, SalesOrder, StockLevel, StockMovement, Supplier
    from nlp.models import TextDocument

    started = time.monotonic()
    merchant = services.merchant_create(slug="bench", name="Bench shop")
    warehouse = merchant.warehouses.get()
    suppliers = [
        Supplier.objects.create(merchant=merchant, name=f"Supplier {i}", lead_time_days=3 + 3 * i) for i in range(5)
    ]
    rng = np.random.default_rng(2)
    products = Product.objects.bulk_create(
        [
            Product(
                merchant=merchant,
                sku=f"SKU{i:06d}",
                name=f"Product {i}",
                unit_cost=round(float(rng.uniform(1, 30)), 2),
                price=round(float(rng.uniform(35, 60)), 2),
                supplier=suppliers[i % 5],
                case_pack=int(rng.choice([1, 6, 12])),
                moq=int(rng.choice([1, 12, 24])),
            )
            for i in range(skus)
        ],
        batch_size=5000,
    )
    sales = generate_sales(skus, days)
    product_ids = np.array([p.pk for p in products])
    # one historical order per day, lines copied straight into PostgreSQL
    dates = pd.date_range(sales["date"].min(), sales["date"].max(), freq="D")
    orders = SalesOrder.objects.bulk_create(
        [
            SalesOrder(
                merchant=merchant,
                channel="history",
                external_id=f"day-{day.date()}",
                warehouse=warehouse,
                ordered_at=day.to_pydatetime().replace(hour=12, tzinfo=datetime.UTC),
                is_historical=True,
            )
            for day in dates
        ],
        batch_size=1000,
    )
    order_by_date = pd.Series([o.pk for o in orders], index=dates)
    lines = pd.DataFrame(
        {
            "order_id": order_by_date.loc[sales["date"]].to_numpy(),
            "product_id": product_ids[sales["sku_index"].to_numpy()],
            "quantity": sales["quantity"].to_numpy(),
            "unit_price": "10.00",
        }
    )
    with (
        connection.cursor() as cursor,
        cursor.copy(  # type: ignore[attr-defined]
            "COPY inventory_salesorderline (order_id, product_id, quantity, unit_price) FROM STDIN WITH (FORMAT csv)"
        ) as copy,
    ):
        buffer = io.StringIO()
        for start in range(0, len(lines), 500_000):
            buffer.seek(0)
            buffer.truncate()
            lines.iloc[start : start + 500_000].to_csv(buffer, index=False, header=False)
            copy.write(buffer.getvalue())
    # starting stock: a few weeks of demand, written as one receipt per product through the ledger tables
    mean_daily = sales.groupby("sku_index")["quantity"].sum().reindex(range(skus), fill_value=0) / days
    cover = rng.integers(0, 60, size=skus)
    on_hand = np.round(mean_daily.to_numpy() * cover).astype(int)
    StockLevel.objects.bulk_create(
        [
            StockLevel(merchant=merchant, product_id=int(pid), warehouse=warehouse, on_hand=int(units))
            for pid, units in zip(product_ids, on_hand, strict=True)
        ],
        batch_size=5000,
    )
    StockMovement.objects.bulk_create(
        [
            StockMovement(
                merchant=merchant,
                product_id=int(pid),
                warehouse=warehouse,
                kind="receipt",
                quantity=int(units),
                balance_after=int(units),
                reference="bench opening stock",
            )
            for pid, units in zip(product_ids, on_hand, strict=True)
            if units
        ],
        batch_size=5000,
    )
    text_products = rng.choice(product_ids, size=min(skus, 2000), replace=False)
    TextDocument.objects.bulk_create(
        [
            TextDocument(
                merchant=merchant,
                source="review",
                text=f"Customer note number {i}: arrived quickly, would order again.",
                written_at=datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=int(i % 300)),
                product_id=int(pid),
                content_hash=f"bench-{i}",
            )
            for i, pid in enumerate(text_products)
        ],
        batch_size=5000,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # as autovacuum would after a bulk load; the planner needs the row counts
    print(
        f"loaded {skus:,} SKUs, {len(lines):,} sales lines over {days} days in {time.monotonic() - started:.0f} s",
        flush=True,
    )
    return Merchant.objects.get(slug="bench").pk


def loaded_merchant(skus: int, days: int, redis_url: str) -> int | None:
    """The bench merchant of an earlier run with the same size, or None (the database is then rebuilt)."""
    import psycopg

    try:
        with psycopg.connect(bench_url()) as connection:
            row = connection.execute(
                "SELECT m.id, (SELECT count(*) FROM inventory_product p WHERE p.merchant_id = m.id), "
                "(SELECT count(*) FROM inventory_salesorder o WHERE o.merchant_id = m.id AND o.channel = 'history') "
                "FROM inventory_merchant m WHERE m.slug = 'bench'"
            ).fetchone()
    except psycopg.Error:
        return None
    if row is None or row[1] != skus or row[2] != days:
        return None
    setup_django(redis_url)
    print(f"reusing the loaded bench database: {skus:,} SKUs over {days} days", flush=True)
    return int(row[0])


def build_text_model() -> str:
    """A tiny GPT-2 trained on the bench merchant's texts (hubs are often unreachable), so the signals step scores
    the texts as it would with a real model; built once, outside the timed runs."""
    from nlp.models import TextDocument
    from nlp.signals.building import build_language_model

    output = ROOT / "var" / "bench-nlp-model"
    if not (output / "config.json").is_file():
        texts = list(TextDocument.objects.values_list("text", flat=True)[:2000])
        build_language_model(texts, output, size="tiny", seed=0)
    return str(output)


def start_workers(count: int, redis_url: str, env: dict[str, str]) -> list[subprocess.Popen[bytes]]:
    workers = []
    for index in range(count):
        log = open(ROOT / "var" / f"bench-worker-{index}.log", "wb")  # noqa: SIM115 - closed with the process
        workers.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "backoffice",
                    "worker",
                    "--pool=solo",
                    "-Q",
                    "forecasting",
                    "-n",
                    f"bench{index}@%h",
                    "--without-gossip",
                    "--without-mingle",
                    "--loglevel=WARNING",
                ],
                cwd=ROOT,
                env=os.environ | env | {"DATABASE_URL": bench_url(), "REDIS_URL": redis_url, "OMP_NUM_THREADS": "1"},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
    return workers


def run_once(merchant_id: int, workers: int, redis_url: str, env: dict[str, str]) -> dict[str, float]:
    import redis as redis_client

    from forecasting.models import JobRun
    from forecasting.services import pipeline_start
    from inventory.models import Merchant
    from nlp.models import TextSignal

    redis_client.Redis.from_url(redis_url).flushdb()
    JobRun.objects.filter(merchant_id=merchant_id).delete()
    TextSignal.objects.filter(merchant_id=merchant_id).delete()  # every run scores the texts afresh
    processes = start_workers(workers, redis_url, env)
    peaks = [0.0] * workers
    try:
        time.sleep(5)
        started = time.monotonic()
        job = pipeline_start(merchant=Merchant.objects.get(pk=merchant_id), trigger="bench")
        while True:
            for index, process in enumerate(processes):
                try:
                    memory = psutil.Process(process.pid).memory_info().rss / 2**20
                    peaks[index] = max(peaks[index], memory)
                except psutil.NoSuchProcess:
                    pass
            job.refresh_from_db()
            if job.status not in ("queued", "running"):
                break
            time.sleep(0.5)
        wall = time.monotonic() - started
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=60)
    if job.status != "succeeded":
        raise SystemExit(f"run {job.pk} {job.status}: {job.error}")
    skus = job.policies.count()
    return {"workers": workers, "wall": wall, "skus": skus, "rate": skus / wall, "peak": max(peaks)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--skus", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--chunk-size", type=int, default=500)
    parser.add_argument("--freq", default="D", choices=["D", "W-MON"])
    parser.add_argument(
        "--reuse", action="store_true", help="keep the bench database when it already holds --skus products"
    )
    parser.add_argument("--methods", default="", help="FORECAST_ENGINE_METHODS for the workers (default: all)")
    args = parser.parse_args()
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
    merchant_id = loaded_merchant(args.skus, args.days, redis_url) if args.reuse else None
    if merchant_id is None:
        recreate_database()
        setup_django(redis_url)
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        merchant_id = load_merchant(args.skus, args.days)
    from forecasting.models import PolicySettings

    PolicySettings.objects.update_or_create(merchant_id=merchant_id, defaults={"planning_freq": args.freq})
    env = {"PIPELINE_CHUNK_SIZE": str(args.chunk_size), "NLP_MODEL": build_text_model(), "NLP_PRECISION": "int8"}
    if args.methods:
        env["FORECAST_ENGINE_METHODS"] = args.methods
    results = [run_once(merchant_id, int(n), redis_url, env) for n in args.workers.split(",")]
    print(f"\npipeline scale: {args.skus:,} SKUs x {args.days} days, freq {args.freq}, chunk {args.chunk_size}")
    print(f"{'workers':>8} {'wall s':>9} {'SKUs':>8} {'SKUs/s':>8} {'peak RSS/worker MiB':>20} {'speed-up':>9}")
    base = results[0]["wall"]
    for row in results:
        print(
            f"{row['workers']:>8.0f} {row['wall']:>9.1f} {row['skus']:>8.0f} {row['rate']:>8.1f} "
            f"{row['peak']:>20.0f} {base / row['wall']:>9.2f}"
        )


if __name__ == "__main__":
    main()
