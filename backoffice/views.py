"""Merchant-facing pages. Each view validates, calls one selector or service and renders."""

from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from backoffice.forms import ProductFilterForm, ReceiveForm, StockAdjustForm
from backoffice.tenancy import MerchantRequest, merchant_view
from inventory import selectors, services
from inventory.models import PurchaseOrderStatus


def _merchant(request: HttpRequest) -> MerchantRequest:
    return cast(MerchantRequest, request)


def _error_text(error: ValidationError) -> str:
    if hasattr(error, "message_dict"):
        return " ".join(message for messages_ in error.message_dict.values() for message in messages_)
    return " ".join(error.messages)


@login_required
def merchant_choose(request: HttpRequest) -> HttpResponse:
    memberships = list(selectors.memberships_for_user(user=request.user))
    if len(memberships) == 1:
        return redirect("dashboard", merchant_slug=memberships[0].merchant.slug)
    return render(request, "backoffice/merchant_choose.html", {"memberships": memberships})


@merchant_view()
def dashboard(request: HttpRequest) -> HttpResponse:
    request = _merchant(request)
    figures = selectors.dashboard_figures(merchant=request.merchant)
    open_orders = selectors.purchase_order_list_for_merchant(merchant=request.merchant).filter(
        status__in=(PurchaseOrderStatus.APPROVED, PurchaseOrderStatus.SENT, PurchaseOrderStatus.PARTIALLY_RECEIVED)
    )[:10]
    return render(request, "backoffice/dashboard.html", {"figures": figures, "open_orders": open_orders})


@merchant_view()
def product_list(request: HttpRequest) -> HttpResponse:
    request = _merchant(request)
    form = ProductFilterForm(request.GET or None, merchant=request.merchant)
    filters: dict[str, Any] = form.cleaned_data if form.is_valid() else {}
    supplier = filters.get("supplier")
    products = selectors.product_list_for_merchant(
        merchant=request.merchant, search=filters.get("search") or "", supplier_id=supplier.pk if supplier else None
    )
    page = Paginator(products, 50).get_page(request.GET.get("page"))
    return render(request, "backoffice/product_list.html", {"form": form, "page": page})


@merchant_view()
def product_detail(request: HttpRequest, product_id: int) -> HttpResponse:
    request = _merchant(request)
    return _render_product(request, product_id, StockAdjustForm(merchant=request.merchant))


def _render_product(request: MerchantRequest, product_id: int, form: StockAdjustForm) -> HttpResponse:
    product = selectors.product_get(merchant=request.merchant, product_id=product_id)
    context = {
        "product": product,
        "levels": selectors.stock_levels_for_product(merchant=request.merchant, product=product),
        "movements": selectors.stock_movements_for_product(merchant=request.merchant, product=product),
        "adjust_form": form,
    }
    return render(request, "backoffice/product_detail.html", context, status=400 if form.errors else 200)


@require_POST
@merchant_view(require="approve")
def product_stock_adjust(request: HttpRequest, product_id: int) -> HttpResponse:
    request = _merchant(request)
    product = selectors.product_get(merchant=request.merchant, product_id=product_id)
    form = StockAdjustForm(request.POST, merchant=request.merchant)
    if form.is_valid():
        try:
            services.stock_adjust(
                merchant=request.merchant,
                product=product,
                warehouse=form.cleaned_data["warehouse"],
                quantity=form.cleaned_data["quantity"],
                note=form.cleaned_data["note"],
                reference="manual adjustment",
                user=request.user,
            )
        except ValidationError as error:
            form.add_error("quantity", _error_text(error))
        else:
            messages.success(request, _("Stock adjusted."))
            return redirect("product-detail", merchant_slug=request.merchant.slug, product_id=product.pk)
    return _render_product(request, product_id, form)


@merchant_view()
def purchase_order_list(request: HttpRequest) -> HttpResponse:
    request = _merchant(request)
    status = request.GET.get("status") or None
    if status not in PurchaseOrderStatus.values:
        status = None
    orders = selectors.purchase_order_list_for_merchant(merchant=request.merchant, status=status)
    page = Paginator(orders, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "backoffice/purchase_order_list.html",
        {"page": page, "status": status, "statuses": PurchaseOrderStatus.choices},
    )


@merchant_view()
def purchase_order_detail(request: HttpRequest, order_id: int) -> HttpResponse:
    request = _merchant(request)
    order = selectors.purchase_order_get(merchant=request.merchant, order_id=order_id)
    return _render_order(request, order_id, ReceiveForm(order=order))


def _render_order(request: MerchantRequest, order_id: int, receive_form: ReceiveForm) -> HttpResponse:
    order = selectors.purchase_order_get(merchant=request.merchant, order_id=order_id)
    context = {"order": order, "receive_form": receive_form}
    return render(request, "backoffice/purchase_order_detail.html", context, status=400 if receive_form.errors else 200)


@require_POST
@merchant_view(require="approve")
def purchase_order_action(request: HttpRequest, order_id: int, action: str) -> HttpResponse:
    request = _merchant(request)
    order = selectors.purchase_order_get(merchant=request.merchant, order_id=order_id)
    try:
        if action == "approve":
            services.purchase_order_approve(order=order, user=request.user)
        elif action == "send":
            services.purchase_order_send(order=order, user=request.user)
        elif action == "cancel":
            services.purchase_order_cancel(order=order, reason=request.POST.get("reason", ""), user=request.user)
        elif action == "receive":
            form = ReceiveForm(request.POST, order=order)
            if not form.is_valid():
                return _render_order(request, order_id, form)
            services.purchase_order_receive(order=order, quantities=form.quantities(), user=request.user)
        else:
            return HttpResponse(status=404)
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(request, _("Purchase order updated."))
    return redirect("purchase-order-detail", merchant_slug=request.merchant.slug, order_id=order.pk)
