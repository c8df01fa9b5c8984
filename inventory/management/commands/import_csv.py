from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from integrations.models import ImportKind
from integrations.services import csv_import_run
from inventory.models import Merchant


class Command(BaseCommand):
    help = (
        "Import a CSV file, all or nothing: import_csv {products,sales,stock} FILE --merchant SLUG. "
        "Every bad row is reported with its row number (1 = first data row) and column."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=ImportKind.values)
        parser.add_argument("file")
        parser.add_argument("--merchant", required=True, help="The merchant's slug")

    def handle(self, *args: Any, **options: Any) -> None:
        merchant = Merchant.objects.filter(slug=options["merchant"]).first()
        if merchant is None:
            raise CommandError(f"No merchant {options['merchant']!r}.")
        try:
            with open(options["file"], "rb") as source:
                outcome = csv_import_run(
                    merchant=merchant, kind=options["kind"], source=source, filename=options["file"]
                )
        except OSError as error:
            raise CommandError(f"Cannot read {options['file']}: {error.strerror}.") from None
        job = outcome.job
        if outcome.errors:
            for row_error in outcome.errors:
                where = "file" if row_error.row is None else f"row {row_error.row}"
                self.stderr.write(f"{where}, {row_error.column}: {row_error.message}")
            raise CommandError(f"{len(outcome.errors)} error(s) in {job.row_count} rows; nothing was imported.")
        self.stdout.write(
            f"Imported {job.written_count} of {job.row_count} {options['kind']} rows in {job.duration_ms / 1000:.1f} s "
            f"(import job {job.pk})."
        )
