from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from inventory import selectors
from inventory.models import Merchant, PurchaseOrder, Supplier, Warehouse
from inventory.services import MAX_QUANTITY


class ProductFilterForm(forms.Form):
    search = forms.CharField(label=_("Search SKU or name"), required=False, max_length=100)
    supplier = forms.ModelChoiceField(label=_("Supplier"), queryset=Supplier.objects.none(), required=False)

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
