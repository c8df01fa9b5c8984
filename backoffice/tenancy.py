"""Merchant scoping for pages: every merchant page lives under /m/<merchant_slug>/.

A user who is not a member of that merchant gets 404, the same answer as for a
merchant that does not exist, so one merchant's pages never reveal another's.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from inventory.models import Membership, Merchant
from inventory.selectors import membership_for_user


class MerchantRequest(HttpRequest):
    merchant: Merchant
    membership: Membership


View = Callable[..., HttpResponse]


def merchant_view(*, require: str | None = None) -> Callable[[View], View]:
    """Resolve ``merchant_slug`` to the user's membership; ``require`` is ``"approve"`` or ``"manage"``."""

    def decorator(view: View) -> View:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, merchant_slug: str, *args: Any, **kwargs: Any) -> HttpResponse:
            membership = membership_for_user(user=request.user, merchant_slug=merchant_slug)
            if require == "approve" and not membership.can_approve:
                raise PermissionDenied("Your role may not approve or receive orders.")
            if require == "manage" and not membership.can_manage:
                raise PermissionDenied("Only a merchant admin may change this.")
            request.merchant = membership.merchant  # type: ignore[attr-defined]
            request.membership = membership  # type: ignore[attr-defined]
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
