"""Score a CSV of texts with the language model and write their signals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from nlp.signals.features import TextInputError, extract_signals
from nlp.signals.loading import ModelUnavailableError, load_language_model, set_torch_threads


def read_csv(path: Path, label: str) -> pd.DataFrame:
    try:
        return pd.read_csv(path, dtype={"text_id": str, "item_id": str}, keep_default_na=False)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise CommandError(f"{label}: cannot read {path}: {error}") from error


def read_history(path: Path) -> pd.DataFrame:
    history = read_csv(path, "--history")
    missing = [column for column in ("item_id", "date", "quantity") if column not in history.columns]
    if missing:
        raise CommandError(f"--history: missing column(s) {', '.join(missing)}; expected item_id,date,quantity.")
    history["date"] = pd.to_datetime(history["date"], errors="coerce")
    history["quantity"] = pd.to_numeric(history["quantity"], errors="coerce")
    if history["date"].isna().any() or history["quantity"].isna().any():
        raise CommandError("--history: every row needs a readable date and a numeric quantity.")
    return history


class Command(BaseCommand):
    help = (
        "Write text_id,item_id,date,<signal columns> for a text_id,item_id,date,text CSV. The columns are the "
        "language model's named scores (nats of label-continuation likelihood over the prompt alone); with "
        "--history (item_id,date,quantity) a head is trained on that history and demand_change is added."
    )
    # CSV in, CSV out: no database, so neither the system checks nor the migration check need to run.
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--texts", required=True, type=Path)
        parser.add_argument("--output", required=True, type=Path)
        parser.add_argument("--history", type=Path, default=None)
        parser.add_argument("--model", default=None, help="hub id or local directory (default: NLP_MODEL)")

    def handle(self, *args: Any, **options: Any) -> None:
        set_torch_threads(settings.NLP_TORCH_THREADS)
        texts = read_csv(options["texts"], "--texts")
        history = read_history(options["history"]) if options["history"] is not None else None
        try:
            lm = load_language_model(options["model"] or settings.NLP_MODEL, precision=settings.NLP_PRECISION)
            extraction = extract_signals(texts, lm, history=history)
        except (ModelUnavailableError, TextInputError) as error:
            raise CommandError(str(error)) from error
        output = extraction.signals.copy()
        output["date"] = output["date"].dt.strftime("%Y-%m-%d")
        output.to_csv(options["output"], index=False, float_format="%.5g")
        counts = ", ".join(f"{count} {status}" for status, count in sorted(extraction.counts.items()))
        self.stderr.write(f"{len(output)} texts ({counts or 'none'}) with {lm.name} [{lm.precision}].")
        if history is not None:
            self.stderr.write(
                f"demand_change head: trained on {extraction.head_trained_on} texts, "
                f"out-of-fold R2 {extraction.head_r2:.3f}."
            )
        self.stdout.write(f"Wrote {options['output']}")
