"""``manage.py coldstart_csv``: units over the first N weeks on sale of products with no history, no database.

Contract: ``--history H.csv --products P.csv --weeks N --output O.csv [--model DIR] [--model-weight W]``. H.csv is
``item_id,date,quantity`` for existing products; P.csv is ``item_id,name,description,price`` for all products;
O.csv is ``item_id,expected_units,similar_items`` for every product of P.csv with no row in H.csv
(``similar_items``: the ids used, ``;``-separated, most similar first). The logic lives in
``forecasting.coldstart.csv_command``; this command parses arguments, loads the language model (``--model``,
default ``NLP_MODEL``) when it can, and turns an ``InputError`` into one line (non-zero exit, nothing written).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from forecasting.coldstart.csv_command import run_coldstart_csv
from forecasting.engine.errors import InputError
from nlp.representations import COLDSTART_MODEL_WEIGHT


class Command(BaseCommand):
    help = (
        "Estimate units over the first N weeks on sale of every product with no history, from the products "
        "whose names and descriptions are most alike (no database)."
    )
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        # A bad argument must end the command with one line on stderr, like every other input error.
        parser.called_from_command_line = False
        return parser

    def run_from_argv(self, argv: list[str]) -> None:
        try:
            super().run_from_argv(argv)
        except CommandError as error:
            self.stderr.write(f"CommandError: {error}")
            sys.exit(error.returncode)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--history", required=True, help="item_id,date,quantity CSV of existing products (daily).")
        parser.add_argument("--products", required=True, help="item_id,name,description,price CSV of all products.")
        parser.add_argument("--weeks", required=True, type=int, help="Weeks on sale to estimate units over (>= 1).")
        parser.add_argument("--output", required=True, help="CSV to write: item_id,expected_units,similar_items.")
        parser.add_argument(
            "--model",
            default=None,
            help="Causal LM (directory saved with save_pretrained, or hub id) for product representations; "
            "default NLP_MODEL. Without a loadable model, TF-IDF representations are used alone.",
        )
        parser.add_argument(
            "--model-weight",
            type=float,
            default=COLDSTART_MODEL_WEIGHT,
            help="Weight of the estimate from the language model's similar products against the one from TF-IDF's, "
            f"0 to 1 (default {COLDSTART_MODEL_WEIGHT}; 0: TF-IDF alone, the model is not loaded; 1: the language "
            "model alone).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        weight = options["model_weight"]
        if not 0 <= weight <= 1:
            raise CommandError(f"--model-weight {weight}: must be between 0 and 1.")
        model_vectors = self._model_vectors(options["model"] or settings.NLP_MODEL) if weight > 0 else None
        try:
            report = run_coldstart_csv(
                options["history"],
                options["products"],
                weeks=options["weeks"],
                output_path=options["output"],
                model_vectors=model_vectors,
                model_weight=weight,
            )
        except InputError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"Estimated {len(report.output)} new product(s) from {report.references} with history "
            f"({report.representation} representations)."
        )

    def _model_vectors(self, name: str) -> Callable[[list[str]], np.ndarray] | None:
        from nlp.representations import language_model_vectors
        from nlp.signals.loading import ModelUnavailableError, load_language_model, set_torch_threads

        set_torch_threads(settings.NLP_TORCH_THREADS)
        try:
            lm = load_language_model(name, precision=settings.NLP_PRECISION)
        except ModelUnavailableError as error:
            reason = str(error).split(". ")[0]
            self.stderr.write(f"No language model ({reason}): using TF-IDF representations only.")
            return None
        return partial(language_model_vectors, lm)
