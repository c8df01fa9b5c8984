"""The CSV-in, CSV-out cold start behind ``manage.py coldstart_csv``. Pure; no Django.

Contract: history ``item_id,date,quantity`` (daily; existing products), products
``item_id,name,description,price`` (every product), output ``item_id,expected_units,similar_items`` for each
product with no row in the history: its units over its first ``weeks`` weeks on sale and the ids of the
similar products used, separated by ``;``, most similar first. Products are represented by their text (name
and description) through ``nlp.representations``: TF-IDF and, when one is given and loads, the language
model, whose estimates are averaged (``model_weight`` for the language model's). Any problem raises
``InputError`` with one line, and nothing is written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from forecasting.coldstart.estimate import ColdStartConfig, coldstart_forecast
from forecasting.engine.csv_command import write_csv_atomically
from forecasting.engine.errors import InputError
from forecasting.engine.history import parse_numbers, read_csv_file, read_history_csv, require_columns
from nlp.representations import (
    COLDSTART_MODEL_WEIGHT,
    RepresentationKind,
    centred_unit_vectors,
    product_text,
    similarity_matrix,
    tfidf_vectors,
)

PRODUCT_COLUMNS = ("item_id", "name", "description", "price")
OUTPUT_COLUMNS = ["item_id", "expected_units", "similar_items"]
SEPARATOR = ";"


@dataclass(frozen=True)
class ColdStartCsvReport:
    output: pd.DataFrame
    representation: RepresentationKind
    references: int


def read_products_csv(path: str | Path) -> pd.DataFrame:
    """Read and check ``item_id,name,description,price``: ids present and unique, prices numbers >= 0."""
    label = f"products {path}"
    raw = read_csv_file(path, label="products")
    require_columns(raw, PRODUCT_COLUMNS, label=label)
    if raw.empty:
        raise InputError(f"{label}: no rows.")
    item_id = raw["item_id"].astype(str).str.strip()
    if (item_id == "").any():
        raise InputError(f"{label} row {int(np.flatnonzero((item_id == '').to_numpy())[0]) + 2}: item_id is empty.")
    duplicated = item_id.duplicated()
    if duplicated.any():
        position = int(np.flatnonzero(duplicated.to_numpy())[0])
        raise InputError(f"{label} row {position + 2}: item_id {item_id.iloc[position]} appears twice.")
    price = parse_numbers(raw["price"], label=label, column="price")
    if (price < 0).any():
        position = int(np.flatnonzero((price < 0).to_numpy())[0])
        raise InputError(f"{label} row {position + 2}: price {raw['price'].iloc[position]} is negative.")
    return pd.DataFrame(
        {"item_id": item_id, "name": raw["name"].astype(str), "description": raw["description"].astype(str)}
    ).assign(price=price)


def run_coldstart_csv(
    history_path: str | Path,
    products_path: str | Path,
    *,
    weeks: int,
    output_path: str | Path,
    model_vectors: Callable[[list[str]], np.ndarray] | None = None,
    model_weight: float = COLDSTART_MODEL_WEIGHT,
) -> ColdStartCsvReport:
    """Estimate every product of the products CSV that has no history and write the output CSV.

    ``model_vectors`` maps product texts to language-model vectors (``nlp.representations
    .language_model_vectors`` bound to a loaded model); without it the TF-IDF representation is used alone.
    With it, each product's estimate is the average, in log space, of its estimate from TF-IDF neighbours and
    the one from language-model neighbours, the latter weighted ``model_weight``.
    """
    if weeks < 1:
        raise InputError(f"--weeks {weeks}: must be at least 1.")
    directory = Path(output_path).parent
    if not directory.is_dir():
        raise InputError(f"--output {output_path}: directory {directory} does not exist.")
    history = read_history_csv(history_path, freq="D")
    products = read_products_csv(products_path)
    known = history["item_id"].isin(set(products["item_id"]))
    if not known.any():
        raise InputError(
            f"history {history_path}: none of its item_ids is in products {products_path}, so there is nothing "
            "to learn from."
        )
    history = history.loc[known, ["item_id", "date", "quantity"]]
    if history["quantity"].sum() <= 0:
        raise InputError(f"history {history_path}: no product of the products file has sold anything.")
    with_history = set(history["item_id"])
    targets = [item for item in products["item_id"] if item not in with_history]
    texts = [product_text(name, text) for name, text in zip(products["name"], products["description"], strict=True)]
    vectors = (
        centred_unit_vectors(model_vectors(texts))
        if model_vectors is not None and model_weight > 0 and targets
        else None
    )
    views = [
        similarity_matrix(tfidf=tfidf_vectors(texts), model_vectors=None)
        if targets
        else np.zeros((len(texts), len(texts)), dtype=np.float32)
    ]
    if vectors is not None:
        views.append(similarity_matrix(tfidf=None, model_vectors=vectors))
    estimates = coldstart_forecast(
        history=history,
        item_ids=products["item_id"].tolist(),
        prices=products["price"].to_numpy(),
        similarity=views,
        view_weights=[1.0 - model_weight, model_weight] if vectors is not None else [1.0],
        config=ColdStartConfig(weeks=weeks),
        as_of=history["date"].max(),
        targets=targets,
    )
    output = pd.DataFrame(
        {
            "item_id": [estimate.item_id for estimate in estimates],
            "expected_units": [round(estimate.expected_units, 2) for estimate in estimates],
            "similar_items": [SEPARATOR.join(estimate.similar_items) for estimate in estimates],
        },
        columns=OUTPUT_COLUMNS,
    )
    write_csv_atomically(output, output_path)
    representation = RepresentationKind.TFIDF
    if vectors is not None:
        representation = RepresentationKind.COMBINED if model_weight < 1 else RepresentationKind.LANGUAGE_MODEL
    return ColdStartCsvReport(output=output, representation=representation, references=len(with_history))
