"""Sales-history import speed: the real UCI Online Retail lines, repeated to 1,000,000, into PostgreSQL.

    nice -n 10 .venv/bin/python bench/import_speed.py [--lines 1000000] [--keep]

Builds a fresh database (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/stockpilot_bench_import),
imports the UCI products, writes a sales CSV of N lines (UCI's valid sale lines, repeated with new invoice
numbers) and times ``import_csv sales`` end to end: reading with pandas, checking every row, writing.
Prints rows/s. The target is 1,000,000 lines in at most 60 s.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "uci_online_retail" / "online_retail.csv.gz"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/stockpilot_bench_import"


def fresh_database(url: str) -> None:
    import dj_database_url
    import psycopg

    config = dj_database_url.parse(url)
    admin = psycopg.connect(
        host=config["HOST"] or "127.0.0.1",
        port=config["PORT"] or 5432,
        user=config["USER"] or "postgres",
        password=config["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )
    with admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{config["NAME"]}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{config["NAME"]}"')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args()

    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    fresh_database(url)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    import pandas as pd
    from django.core.management import call_command

    from integrations.services import csv_import_run
    from inventory.services import merchant_create

    call_command("migrate", verbosity=0)
    merchant = merchant_create(slug="bench", name="Bench")

    raw = pd.read_csv(args.data, dtype={"InvoiceNo": str, "StockCode": str}, encoding="latin-1")
    sales = raw[(raw["Quantity"] > 0) & (raw["UnitPrice"] >= 0) & raw["StockCode"].notna()].copy()
    sales["StockCode"] = sales["StockCode"].str.strip().str.upper()
    products = sales.groupby("StockCode").agg(name=("Description", "first"), price=("UnitPrice", "median"))
    products["name"] = products["name"].fillna(products.index.to_series()).astype(str).str.strip().str[:255]
    products.loc[products["name"] == "", "name"] = products.index[products["name"] == ""]
    catalogue = pd.DataFrame(
        {
            "sku": products.index,
            "name": products["name"].to_numpy(),
            "unit_cost": (products["price"] * 0.6).map("{:.4f}".format).to_numpy(),
            "price": products["price"].map("{:.2f}".format).to_numpy(),
        }
    )
    repeats = -(-args.lines // len(sales))
    frames = []
    for repeat in range(repeats):
        frames.append(
            pd.DataFrame(
                {
                    "external_id": sales["InvoiceNo"].to_numpy() + f"-{repeat}",
                    "sku": sales["StockCode"].to_numpy(),
                    "ordered_at": sales["InvoiceDate"].to_numpy(),
                    "quantity": sales["Quantity"].to_numpy(),
                    "unit_price": sales["UnitPrice"].map("{:.2f}".format).to_numpy(),
                }
            )
        )
    lines = pd.concat(frames, ignore_index=True).iloc[: args.lines]

    with tempfile.TemporaryDirectory() as directory:
        catalogue_path = Path(directory) / "products.csv"
        sales_path = Path(directory) / "sales.csv"
        catalogue.to_csv(catalogue_path, index=False)
        lines.to_csv(sales_path, index=False)
        started = time.perf_counter()
        product_outcome = csv_import_run(merchant=merchant, kind="products", source=str(catalogue_path))
        product_seconds = time.perf_counter() - started
        if product_outcome.errors:
            raise SystemExit(f"products import failed: {product_outcome.errors[:5]}")
        size_mb = sales_path.stat().st_size / 1e6
        started = time.perf_counter()
        outcome = csv_import_run(merchant=merchant, kind="sales", source=str(sales_path))
        seconds = time.perf_counter() - started
    if outcome.errors:
        raise SystemExit(f"sales import failed: {outcome.errors[:5]}")
    job = outcome.job
    print(f"products: {product_outcome.job.written_count} SKUs in {product_seconds:.1f} s")
    print(
        f"sales: {job.written_count:,} lines ({size_mb:.0f} MB CSV, {repeats} x UCI) in {seconds:.1f} s "
        f"= {job.written_count / seconds:,.0f} rows/s  (target: 1,000,000 in <= 60 s: "
        f"{'met' if seconds <= 60 and job.written_count >= 1_000_000 else 'NOT met'})"
    )


if __name__ == "__main__":
    main()
