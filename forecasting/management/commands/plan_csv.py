"""``manage.py plan_csv``: the replenishment plan from CSV files, with no database.

Contract: ``--history H.csv --items I.csv --freq F --output P.csv [--features X.csv] [--budget AMOUNT]``.
The logic lives in ``forecasting.policy.plan.plan_csv``; this command parses arguments and turns an
``InputError`` into a one-line ``CommandError`` (non-zero exit, nothing written).
"""

from __future__ import annotations

import argparse
import math
from typing import Any, NoReturn

from django.core.management.base import BaseCommand, CommandError, CommandParser

from forecasting.engine.errors import InputError
from forecasting.policy.plan import PlanOptions, plan_csv


def _amount(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be a number at least 0")
    return value


def _pair(text: str) -> tuple[str, float]:
    name, separator, value = text.rpartition("=")
    if not separator or not name:
        raise argparse.ArgumentTypeError(f"{text!r} is not NAME=VALUE")
    try:
        return name.strip(), float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: {value!r} is not a number") from None


def _class_cost(text: str) -> tuple[str, str, float]:
    name, factor = _pair(text)
    class_name, separator, kind = name.partition(":")
    if not separator or not class_name or not kind:
        raise argparse.ArgumentTypeError(f"{text!r} is not CLASS:KIND=FACTOR")
    return class_name.strip(), kind.strip(), factor


def _class_costs(entries: list[tuple[str, str, float]]) -> dict[str, dict[str, float]]:
    factors: dict[str, dict[str, float]] = {}
    for class_name, kind, factor in entries:
        factors.setdefault(class_name, {})[kind] = factor
    return factors


class Command(BaseCommand):
    help = "Plan reorder points, order-up-to levels and orders from history and item CSVs (no database)."
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        raise_error = parser.error

        def one_line_error(message: str) -> NoReturn:
            # A bad argument ends the command with one line on stderr, like every other input error.
            if parser.called_from_command_line:
                parser.exit(2, f"CommandError: {message}\n")
            raise_error(message)
            raise AssertionError("unreachable")

        parser.error = one_line_error  # type: ignore[method-assign]
        return parser

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--history", required=True, help="item_id,date,quantity CSV.")
        parser.add_argument(
            "--items", required=True, help="Item economics and stock CSV (see forecasting.policy.plan)."
        )
        parser.add_argument(
            "--freq", required=True, help="pandas offset alias of the history, for example D, W-MON, MS."
        )
        parser.add_argument("--output", required=True, help="Plan CSV to write.")
        parser.add_argument("--features", help="Optional item_id,date,<drivers> CSV for the forecast.")
        parser.add_argument("--budget", type=_amount, help="Open-to-buy cap on the total order value.")
        parser.add_argument(
            "--supplier-budget",
            type=_pair,
            action="append",
            default=[],
            metavar="SUPPLIER=AMOUNT",
            help="Open-to-buy cap for one supplier (repeatable).",
        )
        parser.add_argument(
            "--service-floor",
            type=_pair,
            action="append",
            default=[],
            metavar="CLASS=FILL_RATE",
            help="Minimum fill rate for an ABC/XYZ class such as A, Z or AX (repeatable).",
        )
        parser.add_argument(
            "--class-cost",
            type=_class_cost,
            action="append",
            default=[],
            metavar="CLASS:KIND=FACTOR",
            help=(
                "Multiply one cost of an ABC/XYZ class's items, e.g. C:holding_cost=1.5 (kinds: holding_cost, "
                "shortage_cost, order_cost; the pair AX wins over A, which wins over X; repeatable)."
            ),
        )
        parser.add_argument(
            "--horizon", type=int, help="Planning horizon in periods (default: 3 cover periods, >= 12)."
        )
        parser.add_argument("--seed", type=int, default=0, help="Seed of the simulated demand paths.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            settings = PlanOptions(
                horizon=options["horizon"],
                budget=options["budget"],
                supplier_budgets=dict(options["supplier_budget"]),
                service_floors=dict(options["service_floor"]),
                class_cost_factors=_class_costs(options["class_cost"]),
                seed=options["seed"],
            )
            result = plan_csv(
                options["history"],
                options["items"],
                freq=options["freq"],
                output_path=options["output"],
                features_path=options["features"],
                options=settings,
            )
        except InputError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"Planned {len(result)} item(s); {int((result['order_quantity'] > 0).sum())} to order.")
