"""``manage.py forecast_csv``: demand forecasts from CSV files, with no database.

Contract: ``--history H.csv --horizon N --freq F --output O.csv [--features X.csv] [--texts T.csv]
[--quantiles 10,50,90]``. ``--texts`` (text_id,item_id,date,text) runs the text-signal extraction with the
``NLP_MODEL`` language model and feeds its per-item signals to the engine as past covariates.
The logic lives in ``forecasting.engine.csv_command.run_forecast_csv``; this command parses arguments
and turns an ``InputError`` into a one-line ``CommandError`` (non-zero exit, nothing written).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import pandas as pd
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from forecasting.engine.csv_command import DEFAULT_QUANTILES, run_forecast_csv
from forecasting.engine.errors import InputError


class Command(BaseCommand):
    help = "Forecast every item of a history CSV over the next N periods, with quantiles (no database)."
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
            # Django prints errors raised while running, but an argument error raised while parsing escapes
            # as a traceback: report it as one line too.
            self.stderr.write(f"CommandError: {error}")
            sys.exit(error.returncode)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--history", required=True, help="item_id,date,quantity CSV; a missing period is zero.")
        parser.add_argument("--horizon", required=True, type=int, help="Periods to forecast, at least 1.")
        parser.add_argument(
            "--freq", required=True, help="pandas offset alias of the history, for example D, W-MON, MS."
        )
        parser.add_argument("--output", required=True, help="Forecast CSV to write: item_id,date,mean,p<q>...")
        parser.add_argument(
            "--features", help="Optional item_id,date,<numeric drivers> CSV covering history and horizon."
        )
        parser.add_argument(
            "--texts", help="Optional text_id,item_id,date,text CSV of customer texts (signals from NLP_MODEL)."
        )
        parser.add_argument(
            "--quantiles", default=DEFAULT_QUANTILES, help=f"Comma-separated percentages (default {DEFAULT_QUANTILES})."
        )

    @staticmethod
    def _text_features(texts_path: str, freq: str) -> Callable[[pd.DataFrame], pd.DataFrame]:
        def extract(history: pd.DataFrame) -> pd.DataFrame:
            from nlp.signals.features import text_features_for_forecast
            from nlp.signals.loading import set_torch_threads

            set_torch_threads(settings.NLP_TORCH_THREADS)
            return text_features_for_forecast(
                texts_path, history, model=settings.NLP_MODEL, precision=settings.NLP_PRECISION, freq=freq
            ).frame

        return extract

    def handle(self, *args: Any, **options: Any) -> None:
        expected: tuple[type[Exception], ...] = (InputError,)
        if options["texts"]:
            # torch and the language model load only when texts are given
            from nlp.signals.features import TextInputError
            from nlp.signals.loading import ModelUnavailableError

            expected = (InputError, TextInputError, ModelUnavailableError)
        try:
            frame = run_forecast_csv(
                options["history"],
                horizon=options["horizon"],
                freq=options["freq"],
                output_path=options["output"],
                features_path=options["features"],
                quantiles=options["quantiles"],
                text_features=self._text_features(options["texts"], options["freq"]) if options["texts"] else None,
            )
        except expected as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"Forecast {frame['item_id'].nunique()} item(s) x {options['horizon']} period(s).")
