"""Build a small GPT-2 (byte-level BPE tokenizer and model) from a merchant's own texts, offline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from inventory.models import Merchant, Product
from nlp.models import TextDocument
from nlp.signals.building import SIZES, build_language_model
from nlp.signals.loading import set_torch_threads


class Command(BaseCommand):
    help = (
        "Train a small GPT-2 on the merchant's product names, descriptions and texts (or on the text column of "
        "a CSV) and save it with save_pretrained; point NLP_MODEL at the output directory to use it."
    )

    # Training needs no system checks; skipping them keeps an offline build independent of the web layer.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", required=True, type=Path, help="directory to save the model in")
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--merchant", help="slug of the merchant whose catalogue and texts to learn from")
        source.add_argument("--texts", type=Path, help="CSV with a text column (text_id,item_id,date,text)")
        parser.add_argument("--size", choices=sorted(SIZES), default="small", help="model size (default small)")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--max-seconds", type=float, default=None, help="stop training after this long")

    def handle(self, *args: Any, **options: Any) -> None:
        set_torch_threads(settings.NLP_TORCH_THREADS)
        corpus = self._corpus(options)
        if len(corpus) < 2:
            raise CommandError("Fewer than two texts to learn from: add product descriptions or customer texts.")
        self.stderr.write(f"Training a {options['size']} GPT-2 on {len(corpus)} texts...")
        report = build_language_model(
            corpus,
            options["output"],
            size=options["size"],
            seed=options["seed"],
            max_seconds=options["max_seconds"],
            progress=lambda step, loss: self.stderr.write(f"  step {step}: loss {loss:.3f}"),
        )
        self.stdout.write(
            f"Saved to {report.output}: {report.parameters:,} parameters, vocabulary {report.vocab}, "
            f"{report.steps} steps on {report.tokens:,} tokens, loss {report.first_loss:.2f} -> "
            f"{report.last_loss:.2f}, {report.seconds:.0f} s. Use it with NLP_MODEL={report.output}"
        )

    def _corpus(self, options: dict[str, Any]) -> list[str]:
        if options["texts"] is not None:
            try:
                frame = pd.read_csv(options["texts"], dtype=str, keep_default_na=False)
            except (OSError, pd.errors.ParserError) as error:
                raise CommandError(f"--texts: cannot read {options['texts']}: {error}") from error
            if "text" not in frame.columns:
                raise CommandError("--texts: no text column; expected text_id,item_id,date,text.")
            return [text for text in frame["text"].tolist() if text.strip()]
        merchant = Merchant.objects.filter(slug=options["merchant"]).first()
        if merchant is None:
            raise CommandError(f"--merchant: no merchant with slug {options['merchant']!r}.")
        corpus = []
        for name, description in Product.objects.filter(merchant=merchant).values_list("name", "description"):
            corpus.append(name)
            if description.strip():
                corpus.append(description)
        corpus += [
            text
            for text in TextDocument.objects.filter(merchant=merchant).values_list("text", flat=True)
            if text.strip()
        ]
        return corpus
