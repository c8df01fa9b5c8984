"""Small template helpers of the merchant pages."""

from typing import Any

from django import template
from django.utils.translation import gettext_lazy as _

from backoffice.explanations import policy_explanation
from inventory.models import PurchaseOrderStatus

register = template.Library()

# The actions a purchase order's history records (``PurchaseOrderEvent.action``), as people read them.
EVENT_ACTIONS = {
    "create": _("created"),
    "approve": _("approved"),
    "send": _("sent"),
    "receive": _("received"),
    "cancel": _("cancelled"),
    "edit": _("quantity changed"),
    "remove line": _("line removed"),
}


@register.filter
def event_action(action: str) -> Any:
    return EVENT_ACTIONS.get(action, action)


@register.filter
def order_status(status: str) -> Any:
    return PurchaseOrderStatus(status).label if status in PurchaseOrderStatus.values else status


@register.filter
def line_value(line: Any) -> Any:
    """A purchase order line's value at cost."""
    return line.quantity * line.unit_cost


STEP_NAMES = {
    "pipeline": _("Pipeline run"),
    "signals": _("Text signals"),
    "forecast": _("Forecasts and policies"),
    "publish": _("Suggestions and draft orders"),
}
TRIGGERS = {"manual": _("started by hand"), "nightly": _("nightly"), "api": _("from the API")}


@register.filter
def step_name(kind: str) -> Any:
    return STEP_NAMES.get(kind, kind)


@register.filter
def trigger_name(trigger: str) -> Any:
    return TRIGGERS.get(trigger, trigger)


@register.filter
def explanation(text: str) -> str:
    """A policy's or suggestion's stored English explanation in the active language."""
    return policy_explanation(text)
