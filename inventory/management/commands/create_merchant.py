from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from inventory import services
from inventory.models import Merchant, Role


class Command(BaseCommand):
    help = "Create a merchant and a member: create_merchant SLUG --user NAME --password PW [--role viewer|buyer|admin]"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--name", default="", help="Display name (defaults to the slug)")
        parser.add_argument("--user", required=True)
        parser.add_argument("--password", required=True)
        parser.add_argument("--role", choices=Role.values, default=Role.ADMIN)
        parser.add_argument("--currency", default="GBP")

    def handle(self, *args: Any, **options: Any) -> None:
        user_model = get_user_model()
        try:
            with transaction.atomic():
                if Merchant.objects.filter(slug=options["slug"]).exists():
                    raise CommandError(f"Merchant {options['slug']!r} already exists.")
                merchant = services.merchant_create(
                    slug=options["slug"], name=options["name"] or options["slug"], currency=options["currency"]
                )
                user = user_model.objects.filter(username=options["user"]).first()
                if user is None:
                    user = user_model.objects.create_user(username=options["user"], password=options["password"])
                elif not user.check_password(options["password"]):
                    raise CommandError(f"User {options['user']!r} exists with another password.")
                services.membership_set(merchant=merchant, user=user, role=options["role"])
        except ValidationError as error:
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in error.message_dict.items())) from None
        self.stdout.write(f"Merchant {merchant.slug} created; {user.get_username()} is {options['role']}.")
