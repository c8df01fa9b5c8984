"""Writes of the merchant pages that belong to no single domain app."""

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError

from backoffice.models import UserPreference


def user_language_set(*, user: User, language: str) -> UserPreference:
    """Save the language the user reads the pages in ("" follows the browser again)."""
    if language and language not in dict(settings.LANGUAGES):
        raise ValidationError({"language": f"{language!r} is not a language of these pages."})
    preference, _ = UserPreference.objects.update_or_create(user=user, defaults={"language": language})
    return preference
