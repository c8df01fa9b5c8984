"""Derive the demo data shipped in inventory/demo_data/ from the UCI Online Retail file.

Usage: python scripts/build_demo_data.py ../shared/data/uci_online_retail/online_retail.csv.gz

Keeps real product lines only (no cancellations, returns, non-product codes or zero
prices), picks the 300 SKUs sold on the most days, and writes their daily units and
their catalogue entries (most common description, median price).
"""

import re
import sys
from pathlib import Path

import pandas as pd

OUT = Path(__file__).resolve().parent.parent / "inventory" / "demo_data"
TOP = 300
PRODUCT_CODE = re.compile(r"^\d{5}[A-Za-z]{0,2}$")


def main(source: str) -> None:
    raw = pd.read_csv(source, dtype={"InvoiceNo": str, "StockCode": str, "CustomerID": str})
    lines = raw[
        ~raw["InvoiceNo"].str.startswith("C")
        & (raw["Quantity"] > 0)
        & (raw["UnitPrice"] > 0)
        & raw["StockCode"].str.match(PRODUCT_CODE)
    ].copy()
    lines["StockCode"] = lines["StockCode"].str.upper()
    lines["date"] = pd.to_datetime(lines["InvoiceDate"]).dt.normalize()
    days_sold = lines.groupby("StockCode")["date"].nunique().sort_values(ascending=False, kind="stable")
    top = days_sold.index[:TOP]
    lines = lines[lines["StockCode"].isin(top)]
    daily = (
        lines.groupby(["StockCode", "date"], as_index=False)["Quantity"]
        .sum()
        .rename(columns={"StockCode": "sku", "Quantity": "quantity"})
    )
    daily["date"] = daily["date"].dt.strftime("%Y-%m-%d")
    daily.sort_values(["sku", "date"]).to_csv(OUT / "uci_daily_sales.csv.gz", index=False)
    described = lines.dropna(subset=["Description"])
    products = (
        described.groupby("StockCode")
        .agg(
            name=("Description", lambda values: values.str.strip().value_counts().index[0]),
            price=("UnitPrice", "median"),
        )
        .reset_index()
        .rename(columns={"StockCode": "sku"})
    )
    products["price"] = products["price"].round(2)
    products.sort_values("sku").to_csv(OUT / "uci_products.csv", index=False)
    print(f"{len(daily)} daily rows, {len(products)} products written to {OUT}")


if __name__ == "__main__":
    main(sys.argv[1])
