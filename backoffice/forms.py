"""Forms of the merchant pages: they validate input and label fields; the views call the services."""

from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from forecasting.models import PolicySettings, ProductPolicySettings
from integrations.models import ApiScope, WebhookEvent
from inventory import selectors
from inventory.models import Merchant, PurchaseOrder, Role, Supplier, Warehouse
from inventory.services import MAX_QUANTITY

ABC_CHOICES = [("", _("Any")), ("A", "A"), ("B", "B"), ("C", "C")]
XYZ_CHOICES = [("", _("Any")), ("X", "X"), ("Y", "Y"), ("Z", "Z")]
# The classes a service floor may be set for: the ABC class, or the ABC/XYZ class for finer control.
SERVICE_CLASSES = ("A", "B", "C", "AX", "AY", "AZ", "BX", "BY", "BZ", "CX", "CY", "CZ")
# The classes whose costs the settings page multiplies, and the cost kinds with their field labels.
COST_CLASSES = ("A", "B", "C")
COST_FACTOR_KINDS = (
    ("holding_cost", _("Class %(name)s: holding cost ×")),
    ("shortage_cost", _("Class %(name)s: lost sale ×")),
    ("order_cost", _("Class %(name)s: order cost ×")),
)
HUNDRED = Decimal("100")


class ProductFilterForm(forms.Form):
    search = forms.CharField(label=_("Search SKU or name"), required=False, max_length=100)
    supplier = forms.ModelChoiceField(
        label=_("Supplier"), queryset=Supplier.objects.none(), required=False, empty_label=_("Any")
    )
    abc = forms.ChoiceField(label=_("Value class (ABC)"), choices=ABC_CHOICES, required=False)
    xyz = forms.ChoiceField(label=_("Variability class (XYZ)"), choices=XYZ_CHOICES, required=False)
    at_risk = forms.BooleanField(label=_("At risk only"), required=False)

    def __init__(self, *args: Any, merchant: Merchant, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["supplier"].queryset = selectors.supplier_list_for_merchant(merchant=merchant)  # type: ignore[attr-defined]


class StockAdjustForm(forms.Form):
    warehouse = forms.ModelChoiceField(label=_("Warehouse"), queryset=Warehouse.objects.none())
    quantity = forms.IntegerField(
        label=_("Change in units (negative to remove)"), min_value=-MAX_QUANTITY, max_value=MAX_QUANTITY
    )
    note = forms.CharField(label=_("Reason"), max_length=500)

    def __init__(self, *args: Any, merchant: Merchant, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["warehouse"].queryset = selectors.warehouse_list_for_merchant(merchant=merchant)  # type: ignore[attr-defined]

    def clean_quantity(self) -> int:
        quantity: int = self.cleaned_data["quantity"]
        if quantity == 0:
            raise forms.ValidationError(_("Enter a change other than zero."))
        return quantity


class ReceiveForm(forms.Form):
    """One field per line still outstanding, prefilled with what is outstanding."""

    def __init__(self, *args: Any, order: PurchaseOrder, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lines = [line for line in order.lines.all() if line.quantity_outstanding > 0]
        for line in self.lines:
            self.fields[f"line_{line.pk}"] = forms.IntegerField(
                label=f"{line.product.sku} {line.product.name}",
                min_value=0,
                max_value=line.quantity_outstanding,
                initial=line.quantity_outstanding,
            )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.lines and not self.errors and not any(cleaned.get(f"line_{line.pk}") for line in self.lines):
            raise forms.ValidationError(_("Enter the units received on at least one line."))
        return cleaned

    def quantities(self) -> dict[int, int]:
        return {
            line.pk: self.cleaned_data[f"line_{line.pk}"]
            for line in self.lines
            if self.cleaned_data.get(f"line_{line.pk}")
        }


class SuggestionQuantityForm(forms.Form):
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, max_value=MAX_QUANTITY)


class SuggestionRejectForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for rejecting"),
        max_length=500,
        error_messages={"required": _("Say why the suggestion is rejected.")},
    )

    def clean_reason(self) -> str:
        reason: str = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("Say why the suggestion is rejected."))
        return reason


class ForecastOverrideForm(forms.Form):
    start_date = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    end_date = forms.DateField(label=_("Until"), widget=forms.DateInput(attrs={"type": "date"}))
    units_per_day = forms.DecimalField(
        label=_("Units per day"), min_value=Decimal("0"), max_digits=12, decimal_places=3
    )
    note = forms.CharField(label=_("Why"), max_length=500, required=False)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("start_date"), cleaned.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", _("The end date is before the start date."))
        return cleaned


def _percent_field(label: Any) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=False,
        min_value=Decimal("0"),
        max_value=Decimal("99.9"),
        max_digits=4,
        decimal_places=1,
        widget=forms.NumberInput(attrs={"step": "0.1", "inputmode": "decimal"}),
    )


class PolicySettingsForm(forms.ModelForm):
    """The merchant's costs and planning rhythm, and a service level per class in percent."""

    class Meta:
        model = PolicySettings
        fields = (
            "holding_rate_per_year",
            "shortage_cost_share_of_margin",
            "order_cost",
            "review_period_days",
            "planning_freq",
            "budget",
            "pipeline_hour",
        )
        labels = {
            "holding_rate_per_year": _("Holding cost per year (share of unit cost)"),
            "shortage_cost_share_of_margin": _("Cost of a lost sale (multiple of the margin)"),
            "order_cost": _("Cost of placing an order"),
            "review_period_days": _("Review period (days)"),
            "planning_freq": _("Planning periods"),
            "budget": _("Budget per run over all suppliers"),
            "pipeline_hour": _("Hour of the nightly run (UTC)"),
        }
        help_texts = {
            "holding_rate_per_year": _("0.25 means a unit costs a quarter of its price to keep for a year."),
            "shortage_cost_share_of_margin": _("1 means a lost sale costs its margin (price less cost)."),
            "order_cost": "",
            "review_period_days": "",
            "planning_freq": "",
            "budget": _("Leave empty for no budget."),
            "pipeline_hour": "",
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        floors = (self.instance.service_floors or {}) if self.instance else {}
        for name in SERVICE_CLASSES:
            field = _percent_field(str(_("Class %(name)s (%%)") % {"name": name}))
            self.fields[f"floor_{name}"] = field
            if name in floors and not self.is_bound:
                field.initial = (Decimal(str(floors[name])) * HUNDRED).quantize(Decimal("0.1"))
        factors = (self.instance.class_cost_factors or {}) if self.instance else {}
        for name in COST_CLASSES:
            for kind, label in COST_FACTOR_KINDS:
                field = forms.DecimalField(
                    label=str(label) % {"name": name},
                    required=False,
                    min_value=Decimal("0"),
                    max_value=Decimal("100"),
                    max_digits=6,
                    decimal_places=3,
                    widget=forms.NumberInput(attrs={"step": "0.05", "inputmode": "decimal", "placeholder": "1"}),
                )
                self.fields[f"cost_{name}_{kind}"] = field
                if kind in factors.get(name, {}) and not self.is_bound:
                    field.initial = Decimal(str(factors[name][kind])).normalize()

    def service_floor_fields(self) -> list[forms.BoundField]:
        return [self[f"floor_{name}"] for name in SERVICE_CLASSES]

    def cost_factor_rows(self) -> list[tuple[str, list[forms.BoundField]]]:
        """Per ABC class, its multipliers of the holding, lost-sale and order costs."""
        return [(name, [self[f"cost_{name}_{kind}"] for kind, _ in COST_FACTOR_KINDS]) for name in COST_CLASSES]

    def settings_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.Meta.fields]

    def changes(self) -> dict[str, Any]:
        changes = {name: self.cleaned_data[name] for name in self.Meta.fields}
        changes["service_floors"] = {
            name: float(self.cleaned_data[f"floor_{name}"] / HUNDRED)
            for name in SERVICE_CLASSES
            if self.cleaned_data.get(f"floor_{name}") is not None
        }
        factors = {
            name: {
                kind: float(self.cleaned_data[f"cost_{name}_{kind}"])
                for kind, _ in COST_FACTOR_KINDS
                if self.cleaned_data.get(f"cost_{name}_{kind}") is not None
            }
            for name in COST_CLASSES
        }
        # classes set from elsewhere (the admin, the API of a later change) that the page does not show are kept
        kept = {name: kinds for name, kinds in (self.instance.class_cost_factors or {}).items() if name not in factors}
        changes["class_cost_factors"] = kept | {name: kinds for name, kinds in factors.items() if kinds}
        return changes


class ProductPolicySettingsForm(forms.Form):
    service_floor = _percent_field(_("Service level (%)"))
    holding_cost_per_day = forms.DecimalField(
        label=_("Holding cost per unit and day"),
        required=False,
        min_value=Decimal("0"),
        max_digits=12,
        decimal_places=5,
    )
    shortage_cost = forms.DecimalField(
        label=_("Cost of a lost sale per unit"), required=False, min_value=Decimal("0"), max_digits=12, decimal_places=4
    )
    order_cost = forms.DecimalField(
        label=_("Cost of placing an order"), required=False, min_value=Decimal("0"), max_digits=10, decimal_places=2
    )
    review_period_days = forms.IntegerField(label=_("Review period (days)"), required=False, min_value=1)

    @classmethod
    def initial_from(cls, overrides: ProductPolicySettings | None) -> dict[str, Any]:
        if overrides is None:
            return {}
        initial = {name: getattr(overrides, name) for name in cls.base_fields}
        if overrides.service_floor is not None:
            initial["service_floor"] = (overrides.service_floor * HUNDRED).quantize(Decimal("0.1"))
        return initial

    def values(self) -> dict[str, Any]:
        values = dict(self.cleaned_data)
        if values.get("service_floor") is not None:
            values["service_floor"] = (values["service_floor"] / HUNDRED).quantize(Decimal("0.001"))
        return values


class SupplierSettingsForm(forms.Form):
    lead_time_days = forms.IntegerField(label=_("Lead time (days)"), min_value=0, max_value=365)
    lead_time_std_days = forms.DecimalField(
        label=_("Lead time spread (days)"), min_value=Decimal("0"), max_digits=6, decimal_places=2
    )
    min_order_value = forms.DecimalField(
        label=_("Minimum order value"), min_value=Decimal("0"), max_digits=12, decimal_places=2
    )
    budget = forms.DecimalField(
        label=_("Budget per run"), required=False, min_value=Decimal("0"), max_digits=14, decimal_places=2
    )
    email = forms.EmailField(label=_("Order email"), required=False)


class MemberAddForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.VIEWER)

    def clean_username(self) -> Any:
        username = self.cleaned_data["username"].strip()
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise forms.ValidationError(_("No user has this name; ask them to get an account first."))
        return user


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)


class ApiKeyForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, required=False)
    scopes = forms.MultipleChoiceField(
        label=_("Allowed"),
        choices=ApiScope.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=[ApiScope.READ],
    )


class WebhookForm(forms.Form):
    url = forms.URLField(label=_("URL"), max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(
        label=_("Events"), choices=WebhookEvent.choices, widget=forms.CheckboxSelectMultiple
    )
    description = forms.CharField(label=_("Description"), max_length=200, required=False)


class LanguageForm(forms.Form):
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)
    next = forms.CharField(required=False)
