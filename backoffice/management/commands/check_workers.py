from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from kombu.exceptions import OperationalError as BrokerError

from backoffice.health import workers_alive

QUEUES = ("default", "nlp", "forecasting")


class Command(BaseCommand):
    help = "Exit 0 when every queue (default, nlp, forecasting) has at least one live worker; list them."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--timeout", type=float, default=3.0)

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.REDIS_URL:
            self.stdout.write("No REDIS_URL: tasks run in-process, there are no workers to check.")
            return
        try:
            alive = workers_alive(timeout=options["timeout"])
        except (OSError, BrokerError) as error:
            raise CommandError(f"Cannot reach the broker at {settings.REDIS_URL}: {error}") from None
        for queue in QUEUES:
            self.stdout.write(f"{queue}: {', '.join(alive.get(queue, [])) or 'NO WORKER'}")
        missing = [queue for queue in QUEUES if not alive.get(queue)]
        if missing:
            raise CommandError(f"No live worker consumes: {', '.join(missing)}.")
