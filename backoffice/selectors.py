"""Reads the merchant pages need that belong to no single domain app: preferences, keys, hooks and texts."""

from __future__ import annotations

import datetime

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Count, QuerySet
from django.db.models.functions import TruncWeek
from django.http import Http404

from backoffice.models import UserPreference
from integrations.models import ApiKey, WebhookEndpoint
from inventory.models import Merchant, Product
from nlp.models import TextDocument


def user_language(*, user: User | AnonymousUser) -> str | None:
    """The language the user chose for the pages, or None to follow the browser."""
    if not user.is_authenticated:
        return None
    return UserPreference.objects.filter(user=user).values_list("language", flat=True).first() or None


def api_key_list_for_merchant(*, merchant: Merchant) -> QuerySet[ApiKey]:
    return ApiKey.objects.filter(membership__merchant=merchant).select_related("membership__user")


def api_key_get(*, merchant: Merchant, api_key_id: int) -> ApiKey:
    api_key = api_key_list_for_merchant(merchant=merchant).filter(pk=api_key_id).first()
    if api_key is None:
        raise Http404("No such API key.")
    return api_key


def webhook_endpoint_list_for_merchant(*, merchant: Merchant) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(merchant=merchant)


def webhook_endpoint_get(*, merchant: Merchant, endpoint_id: int) -> WebhookEndpoint:
    endpoint = webhook_endpoint_list_for_merchant(merchant=merchant).filter(pk=endpoint_id).first()
    if endpoint is None:
        raise Http404("No such webhook.")
    return endpoint


def text_list_for_product(*, merchant: Merchant, product: Product, limit: int = 50) -> list[TextDocument]:
    """The customer texts linked to a product, newest first (the evidence shown next to its forecast)."""
    return list(TextDocument.objects.filter(merchant=merchant, product=product).order_by("-written_at", "-id")[:limit])


def text_counts_by_week_for_product(*, merchant: Merchant, product: Product) -> list[tuple[datetime.date, int]]:
    """How many texts about the product were written each week (weeks starting on Monday)."""
    rows = (
        TextDocument.objects.filter(merchant=merchant, product=product)
        .annotate(week=TruncWeek("written_at"))
        .values("week")
        .annotate(texts=Count("id"))
        .order_by("week")
        .values_list("week", "texts")
    )
    return [(week.date() if isinstance(week, datetime.datetime) else week, count) for week, count in rows]
