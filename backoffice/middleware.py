"""The language of the pages follows the user's saved choice once they are logged in."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import translation

from backoffice.selectors import user_language


class UserLanguageMiddleware:
    """After authentication: activate the signed-in user's saved language (``LocaleMiddleware`` decides before)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language = user_language(user=request.user) if request.user.is_authenticated else None
        if language:
            translation.activate(language)
            request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)
