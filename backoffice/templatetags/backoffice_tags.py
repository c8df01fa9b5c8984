"""Small template helpers of the merchant pages."""

from typing import Any

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils.translation import gettext, ngettext
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
def step_detail(step: Any) -> str:
    """What a pipeline step did, in the active language, from its figures (its stored English otherwise)."""
    facts = step.facts or {}
    if not facts:
        return str(step.detail)
    parts = []
    if facts.get("texts_scored"):
        count = int(facts["texts_scored"])
        parts.append(
            ngettext("%(count)s new text scored by %(model)s.", "%(count)s new texts scored by %(model)s.", count)
            % {"count": intcomma(count), "model": facts.get("model", "")}
        )
    if "model_error" in facts:
        parts.append(gettext("New texts were not scored: %(error)s") % {"error": facts["model_error"]})
    if facts.get("products_represented"):
        count = int(facts["products_represented"])
        parts.append(
            ngettext(
                "%(count)s product description represented by the model.",
                "%(count)s product descriptions represented by the model.",
                count,
            )
            % {"count": intcomma(count)}
        )
    if "representation_error" in facts:
        parts.append(
            gettext("Product descriptions were not represented: %(error)s") % {"error": facts["representation_error"]}
        )
    if "texts_used" in facts:
        count = int(facts["texts_used"])
        if count:
            parts.append(
                ngettext(
                    "The demand signal of %(count)s text joins the forecasts.",
                    "The demand signal of %(count)s texts joins the forecasts.",
                    count,
                )
                % {"count": intcomma(count)}
            )
        else:
            parts.append(gettext("No scored texts about products with sales: forecasts rest on sales alone."))
    if "from_sales" in facts:
        count = int(facts["from_sales"])
        parts.append(
            ngettext(
                "%(count)s product forecast from its sales.", "%(count)s products forecast from their sales.", count
            )
            % {"count": intcomma(count)}
        )
    if facts.get("new"):
        count = int(facts["new"])
        parts.append(
            ngettext(
                "%(count)s new product forecast from similar products.",
                "%(count)s new products forecast from similar products.",
                count,
            )
            % {"count": intcomma(count)}
        )
    return " ".join(parts)


@register.filter
def explanation(text: str) -> str:
    """A policy's or suggestion's stored English explanation in the active language."""
    return policy_explanation(text)
