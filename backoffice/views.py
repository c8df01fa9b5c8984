"""Merchant-facing pages. Each view validates, calls one selector or service and renders.

Pages read through the same selectors and write through the same services as the API. A form that does not
validate is rendered again with its input and a message next to each field (status 400).
"""

import datetime
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from backoffice import selectors as page_selectors
from backoffice import services as page_services
from backoffice.forms import (
    ApiKeyForm,
    ForecastOverrideForm,
    LanguageForm,
    MemberAddForm,
    MemberRoleForm,
    PolicySettingsForm,
    ProductFilterForm,
    ProductPolicySettingsForm,
    ReceiveForm,
    StockAdjustForm,
    SuggestionQuantityForm,
    SuggestionRejectForm,
    SupplierSettingsForm,
    WebhookForm,
)
from backoffice.queue_rows import QueueRowContext, queue_rows
from backoffice.tenancy import MerchantRequest, merchant_view
from forecasting import selectors as forecasting_selectors
from forecasting import services as forecasting_services
from forecasting.models import ACTIVE_JOB_STATUSES, ReplenishmentSuggestion
from integrations import services as integration_services
from inventory import selectors, services
from inventory.models import OPEN_PURCHASE_ORDER_STATUSES, PurchaseOrder, PurchaseOrderStatus
from nlp.representation_selectors import product_alternatives

ACTIVE_STATUS_VALUES = [str(status) for status in ACTIVE_JOB_STATUSES]
# In-stock alternatives listed on a product page (the API's alternatives endpoint takes a limit).
ALTERNATIVES_ON_PAGE = 5


def _merchant(request: HttpRequest) -> MerchantRequest:
    return cast(MerchantRequest, request)


def _error_text(error: ValidationError) -> str:
    if hasattr(error, "message_dict"):
        return " ".join(message for messages_ in error.message_dict.values() for message in messages_)
    return " ".join(error.messages)


def _add_errors(form: Any, error: ValidationError, default_field: str | None = None) -> None:
    """Put a service's ValidationError next to the form's fields it names (the rest on ``default_field``)."""
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else default_field, errors)
    else:
        form.add_error(default_field, error.messages)


def _back(request: MerchantRequest, name: str, anchor: str = "", **kwargs: Any) -> HttpResponseRedirect:
    url = reverse(name, kwargs={"merchant_slug": request.merchant.slug, **kwargs})
    return HttpResponseRedirect(f"{url}#{anchor}" if anchor else url)


# Choosing a shop and the language


@login_required
def merchant_choose(request: HttpRequest) -> HttpResponse:
    memberships = list(selectors.memberships_for_user(user=request.user))
    if len(memberships) == 1:
        return redirect("dashboard", merchant_slug=memberships[0].merchant.slug)
    return render(request, "backoffice/merchant_choose.html", {"memberships": memberships})


@require_POST
def language_set(request: HttpRequest) -> HttpResponse:
    """Switch the language: saved on the user (so it follows them to every device) and in the cookie."""
    form = LanguageForm(request.POST)
    next_url = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = "/"
    response = HttpResponseRedirect(next_url)
    if form.is_valid():
        language = form.cleaned_data["language"]
        if request.user.is_authenticated:
            page_services.user_language_set(user=cast(User, request.user), language=language)
        translation.activate(language)
        response.set_cookie(
            "django_language", language, max_age=365 * 24 * 3600, samesite="Lax", secure=request.is_secure()
        )
    return response


# Dashboard


@merchant_view()
def dashboard(request: HttpRequest) -> HttpResponse:
    request = _merchant(request)
    merchant = request.merchant
    run = forecasting_selectors.forecast_run_published(merchant=merchant)
    figures = selectors.dashboard_figures(
        merchant=merchant, below_reorder_point=forecasting_selectors.below_reorder_point_count(merchant=merchant)
    )
    open_orders = list(
        selectors.purchase_order_list_for_merchant(merchant=merchant)
        .filter(status__in=OPEN_PURCHASE_ORDER_STATUSES)
        .exclude(status=PurchaseOrderStatus.DRAFT)
        .order_by("expected_at", "pk")[:10]
    )
    suggested = forecasting_selectors.suggested_value_by_supplier(merchant=merchant)
    context = {
        "figures": figures,
        "at_risk": forecasting_selectors.products_at_risk_for_merchant(merchant=merchant),
        "open_orders": open_orders,
        "today": timezone.localdate(),
        "suggested": suggested,
        "suggested_total": sum((row.value for row in suggested), start=0),
        "job": forecasting_selectors.job_latest_for_merchant(merchant=merchant),
        "run": run,
        "accuracy": _accuracy(run.backtest if run is not None else {}),
        "active_statuses": ACTIVE_STATUS_VALUES,
    }
    return render(request, "backoffice/dashboard.html", context)


# The backtest metrics the dashboard knows how to show, in this order, with whether they are shares (percent).
ACCURACY_METRICS = (("wape", True), ("mase", False), ("bias", True), ("coverage", True), ("wrmsse", False))


def _accuracy(backtest: dict[str, Any]) -> list[tuple[str, float, bool]]:
    source = backtest.get("total", backtest) if isinstance(backtest, dict) else {}
    return [
        (name, float(source[name]), is_share)
        for name, is_share in ACCURACY_METRICS
        if isinstance(source.get(name), int | float)
    ]


# Products


@merchant_view()
def product_list(request: HttpRequest) -> HttpResponse:
    request = _merchant(request)
    form = ProductFilterForm(request.GET or None, merchant=request.merchant)
    filters: dict[str, Any] = form.cleaned_data if form.is_valid() else {}
    supplier = filters.get("supplier")
    products = forecasting_selectors.product_planning_list_for_merchant(
        merchant=request.merchant,
        search=filters.get("search") or "",
        supplier_id=supplier.pk if supplier else None,
        abc=filters.get("abc") or "",
        xyz=filters.get("xyz") or "",
        at_risk=bool(filters.get("at_risk")),
    )
    page = Paginator(products, 50).get_page(request.GET.get("page"))
    page.object_list = selectors.with_cover(page.object_list)
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "backoffice/product_list.html", {"form": form, "page": page, "query": query.urlencode()})


@merchant_view()
def product_detail(request: HttpRequest, product_id: int) -> HttpResponse:
    request = _merchant(request)
    return _render_product(request, product_id)


def _render_product(
    request: MerchantRequest,
    product_id: int,
    *,
    adjust_form: StockAdjustForm | None = None,
    override_form: ForecastOverrideForm | None = None,
    policy_form: ProductPolicySettingsForm | None = None,
) -> HttpResponse:
    merchant = request.merchant
    product = selectors.product_get(merchant=merchant, product_id=product_id)
    overrides = forecasting_selectors.product_policy_settings_get(product=product)
    today = timezone.localdate()
    chart = forecasting_selectors.product_chart(merchant=merchant, product=product, today=today)
    context = {
        "product": product,
        "levels": selectors.stock_levels_for_product(merchant=merchant, product=product),
        "movements": selectors.stock_movements_for_product(merchant=merchant, product=product),
        "chart": chart,
        "chart_labels": {
            "sales": _("Units sold"),
            "mean": _("Forecast"),
            "low": chart.low_name,
            "band": _("Forecast band %(low)s–%(high)s") % {"low": chart.low_name, "high": chart.high_name},
            "manual": _("Manual forecast"),
            "stockout": _("Out of stock"),
            "units": _("Units per day") if chart.freq == "D" else _("Units per week"),
            "texts": _("Texts"),
            "score": _("Signal score"),
        },
        "policy": forecasting_selectors.product_policy_published(merchant=merchant, product=product),
        "economics": forecasting_selectors.policy_settings_for_merchant(merchant=merchant),
        "product_overrides": overrides,
        "forecast_overrides": forecasting_selectors.forecast_override_list_for_product(
            merchant=merchant, product=product
        ),
        "texts": page_selectors.text_list_for_product(merchant=merchant, product=product),
        "coldstart_similar": forecasting_selectors.product_coldstart_published(merchant=merchant, product=product),
        "alternatives": product_alternatives(merchant=merchant, product=product, limit=ALTERNATIVES_ON_PAGE),
        "signal_chart": _signal_chart(request, product),
        "adjust_form": adjust_form or StockAdjustForm(merchant=merchant),
        "override_form": override_form
        or ForecastOverrideForm(initial={"start_date": today, "end_date": today + datetime.timedelta(days=27)}),
        "policy_form": policy_form
        or ProductPolicySettingsForm(initial=ProductPolicySettingsForm.initial_from(overrides)),
    }
    has_errors = any(form is not None and form.errors for form in (adjust_form, override_form, policy_form))
    return render(request, "backoffice/product_detail.html", context, status=400 if has_errors else 200)


def _signal_chart(request: MerchantRequest, product: Any) -> dict[str, Any]:
    """Texts per week and, once the NLP step has scored them, the mean of each signal score per week."""
    # Imported here: the NLP selectors pull in scikit-learn, which the other pages do not need.
    from nlp.selectors import text_signals_over_time

    frame = text_signals_over_time(merchant=request.merchant, product=product)
    if not frame.empty:
        names = [column for column in frame.columns if column not in ("date", "texts")]
        return {
            "labels": [date.date().isoformat() for date in frame["date"]],
            "texts": [int(count) for count in frame["texts"]],
            "scores": {
                name: [None if value != value else round(float(value), 3) for value in frame[name]] for name in names
            },
        }
    counts = page_selectors.text_counts_by_week_for_product(merchant=request.merchant, product=product)
    return {
        "labels": [week.isoformat() for week, _count in counts],
        "texts": [count for _week, count in counts],
        "scores": {},
    }


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
            return _back(request, "product-detail", product_id=product.pk)
    return _render_product(request, product_id, adjust_form=form)


@require_POST
@merchant_view(require="approve")
def product_forecast_override(request: HttpRequest, product_id: int) -> HttpResponse:
    request = _merchant(request)
    product = selectors.product_get(merchant=request.merchant, product_id=product_id)
    form = ForecastOverrideForm(request.POST)
    if form.is_valid():
        try:
            forecasting_services.forecast_override_create(
                merchant=request.merchant, product=product, user=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("Manual forecast saved; the next run plans with it."))
            return _back(request, "product-detail", "forecast", product_id=product.pk)
    return _render_product(request, product_id, override_form=form)


@require_POST
@merchant_view(require="approve")
def product_forecast_override_delete(request: HttpRequest, product_id: int, override_id: int) -> HttpResponse:
    request = _merchant(request)
    override = forecasting_selectors.forecast_override_get(merchant=request.merchant, override_id=override_id)
    forecasting_services.forecast_override_delete(override=override)
    messages.success(request, _("Manual forecast removed."))
    return _back(request, "product-detail", "forecast", product_id=override.product_id)


@require_POST
@merchant_view(require="manage")
def product_policy_settings(request: HttpRequest, product_id: int) -> HttpResponse:
    request = _merchant(request)
    product = selectors.product_get(merchant=request.merchant, product_id=product_id)
    form = ProductPolicySettingsForm(request.POST)
    if form.is_valid():
        try:
            forecasting_services.product_policy_settings_set(product=product, **form.values())
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("Product settings saved; the next run plans with them."))
            return _back(request, "product-detail", "policy", product_id=product.pk)
    return _render_product(request, product_id, policy_form=form)


# Approval queue


@merchant_view()
def suggestion_queue(request: HttpRequest) -> HttpResponse:
    request = _merchant(request)
    return _render_queue(request)


def _render_queue(
    request: MerchantRequest, *, failed: ReplenishmentSuggestion | None = None, errors: dict[str, Any] | None = None
) -> HttpResponse:
    supplier_id = request.GET.get("supplier")
    queue = forecasting_selectors.suggestion_queue_for_merchant(
        merchant=request.merchant, supplier_id=int(supplier_id) if supplier_id and supplier_id.isdigit() else None
    )
    row_context = QueueRowContext(
        csrf_token=get_token(request),
        decide_base=reverse("suggestion-queue", kwargs={"merchant_slug": request.merchant.slug}),
        products_base=reverse("product-list", kwargs={"merchant_slug": request.merchant.slug}),
        can_approve=request.membership.can_approve,
        failed_id=failed.pk if failed is not None else None,
        errors=errors,
    )
    context = {
        "queue": queue,
        "sections": [(group, queue_rows(group, row_context)) for group in queue.groups],
        "can_approve": request.membership.can_approve,
    }
    return render(request, "backoffice/suggestion_queue.html", context, status=400 if errors else 200)


@merchant_view()
def suggestion_detail(request: HttpRequest, suggestion_id: int) -> HttpResponse:
    request = _merchant(request)
    suggestion = forecasting_selectors.suggestion_get(merchant=request.merchant, suggestion_id=suggestion_id)
    replay = forecasting_selectors.suggestion_replay(merchant=request.merchant, policy=suggestion.policy)
    template = (
        "backoffice/_suggestion_replay.html" if request.GET.get("fragment") else "backoffice/suggestion_detail.html"
    )
    return render(request, template, {"suggestion": suggestion, "policy": suggestion.policy, "replay": replay})


@require_POST
@merchant_view(require="approve")
def suggestion_decide(request: HttpRequest, suggestion_id: int) -> HttpResponse:
    """One line of the queue: approve it, change its quantity, or reject it with a reason."""
    request = _merchant(request)
    suggestion = forecasting_selectors.suggestion_get(merchant=request.merchant, suggestion_id=suggestion_id)
    action = request.POST.get("action")
    form: SuggestionQuantityForm | SuggestionRejectForm
    try:
        if action in ("approve", "quantity"):
            form = SuggestionQuantityForm(request.POST)
            if action == "quantity" or "quantity" in request.POST:
                if not form.is_valid():
                    return _render_queue(request, failed=suggestion, errors=_line_errors(form, request))
                quantity = form.cleaned_data["quantity"]
            else:
                quantity = suggestion.quantity
            # Approve takes the quantity in the box too, so editing and approving is one click (both recorded).
            changed = quantity != suggestion.quantity
            with transaction.atomic():
                if changed:
                    suggestion = forecasting_services.suggestion_set_quantity(
                        suggestion=suggestion, quantity=quantity, user=request.user
                    )
                if action == "approve":
                    forecasting_services.suggestion_approve(suggestion=suggestion, user=request.user)
            if changed:
                messages.success(
                    request,
                    _("%(sku)s changed to %(quantity)s units.") % {"sku": suggestion.product.sku, "quantity": quantity},
                )
            if action == "approve":
                messages.success(request, _("%(sku)s approved.") % {"sku": suggestion.product.sku})
        elif action == "reject":
            form = SuggestionRejectForm(request.POST)
            if not form.is_valid():
                return _render_queue(request, failed=suggestion, errors=_line_errors(form, request))
            forecasting_services.suggestion_reject(
                suggestion=suggestion, reason=form.cleaned_data["reason"], user=request.user
            )
            messages.success(request, _("%(sku)s rejected.") % {"sku": suggestion.product.sku})
        else:
            return HttpResponse(status=400)
    except ValidationError as error:
        field = "reason" if action == "reject" else "quantity"
        errors = {"fields": {field: [_error_text(error)]}, "values": request.POST}
        return _render_queue(request, failed=suggestion, errors=errors)
    return _back(request, "suggestion-queue", f"supplier-{suggestion.supplier_id}")


def _line_errors(form: SuggestionQuantityForm | SuggestionRejectForm, request: HttpRequest) -> dict[str, Any]:
    return {"fields": {field: list(errors) for field, errors in form.errors.items()}, "values": request.POST}


@require_POST
@merchant_view(require="approve")
def suggestion_order_approve(request: HttpRequest, order_id: int) -> HttpResponse:
    """Approve a supplier's draft order: every open line on it, and the order."""
    request = _merchant(request)
    order = selectors.purchase_order_get(merchant=request.merchant, order_id=order_id)
    try:
        forecasting_services.suggestions_order_approve(merchant=request.merchant, order=order, user=request.user)
    except ValidationError as error:
        messages.error(request, _error_text(error))
        return _back(request, "suggestion-queue", f"supplier-{order.supplier_id}")
    messages.success(request, _("Purchase order PO-%(number)s approved.") % {"number": order.pk})
    return _back(request, "purchase-order-detail", order_id=order.pk)


# Purchase orders


@merchant_view()
def purchase_order_list(request: HttpRequest) -> HttpResponse:
    request = _merchant(request)
    status = request.GET.get("status") or None
    late_only = request.GET.get("late") == "1"
    if status not in PurchaseOrderStatus.values:
        status = None
    orders = selectors.purchase_order_list_for_merchant(merchant=request.merchant, status=status)
    today = timezone.localdate()
    if late_only:
        orders = orders.filter(
            Q(status__in=(PurchaseOrderStatus.SENT, PurchaseOrderStatus.PARTIALLY_RECEIVED)), expected_at__lt=today
        )
    page = Paginator(orders, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "backoffice/purchase_order_list.html",
        {
            "page": page,
            "status": status,
            "late_only": late_only,
            "statuses": PurchaseOrderStatus.choices,
            "today": today,
            "query": query.urlencode(),
        },
    )


@merchant_view()
def purchase_order_detail(request: HttpRequest, order_id: int) -> HttpResponse:
    request = _merchant(request)
    order = selectors.purchase_order_get(merchant=request.merchant, order_id=order_id)
    return _render_order(request, order, ReceiveForm(order=order))


def _render_order(request: MerchantRequest, order: PurchaseOrder, receive_form: ReceiveForm) -> HttpResponse:
    context = {
        "order": order,
        "receive_form": receive_form,
        "decisions": forecasting_selectors.suggestion_decisions_for_order(order=order),
        "today": timezone.localdate(),
    }
    return render(request, "backoffice/purchase_order_detail.html", context, status=400 if receive_form.errors else 200)


@require_POST
@merchant_view(require="approve")
def purchase_order_action(request: HttpRequest, order_id: int, action: str) -> HttpResponse:
    request = _merchant(request)
    order = selectors.purchase_order_get(merchant=request.merchant, order_id=order_id)
    try:
        if action == "approve":
            forecasting_services.suggestions_order_approve(merchant=request.merchant, order=order, user=request.user)
        elif action == "send":
            services.purchase_order_send(order=order, user=request.user)
        elif action == "cancel":
            services.purchase_order_cancel(order=order, reason=request.POST.get("reason", ""), user=request.user)
        elif action == "receive":
            form = ReceiveForm(request.POST, order=order)
            if not form.is_valid():
                return _render_order(request, order, form)
            services.purchase_order_receive(order=order, quantities=form.quantities(), user=request.user)
        else:
            return HttpResponse(status=404)
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(request, _("Purchase order updated."))
    return _back(request, "purchase-order-detail", order_id=order.pk)


# Jobs


@merchant_view()
def job_list(request: HttpRequest) -> HttpResponse:
    request = _merchant(request)
    jobs = forecasting_selectors.job_list_for_merchant(merchant=request.merchant)
    page = Paginator(jobs, 20).get_page(request.GET.get("page"))
    return render(
        request,
        "backoffice/job_list.html",
        {"page": page, "active_statuses": ACTIVE_STATUS_VALUES, "query": ""},
    )


@merchant_view()
def job_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    request = _merchant(request)
    job = forecasting_selectors.job_get(merchant=request.merchant, job_id=job_id)
    return render(
        request,
        "backoffice/job_detail.html",
        {"job": job, "active_statuses": ACTIVE_STATUS_VALUES},
    )


@require_POST
@merchant_view(require="approve")
def job_start(request: HttpRequest) -> HttpResponse:
    request = _merchant(request)
    try:
        job = forecasting_services.pipeline_start(merchant=request.merchant, user=request.user)
    except ValidationError as error:
        messages.error(request, _error_text(error))
        return _back(request, "job-list")
    messages.success(request, _("Run %(number)s started.") % {"number": job.pk})
    return _back(request, "job-detail", job_id=job.pk)


@require_POST
@merchant_view(require="approve")
def job_cancel(request: HttpRequest, job_id: int) -> HttpResponse:
    request = _merchant(request)
    job = forecasting_selectors.job_get(merchant=request.merchant, job_id=job_id)
    try:
        forecasting_services.pipeline_cancel(job=job, user=request.user)
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(request, _("Run %(number)s cancelled.") % {"number": job.pk})
    return _back(request, "job-detail", job_id=job.pk)


# Settings (admins)


@merchant_view(require="manage")
def settings_page(request: HttpRequest) -> HttpResponse:
    request = _merchant(request)
    if request.method == "POST":
        settings = forecasting_selectors.policy_settings_for_merchant(merchant=request.merchant)
        form = PolicySettingsForm(request.POST, instance=settings)
        if form.is_valid():
            try:
                forecasting_services.policy_settings_update(merchant=request.merchant, **form.changes())
            except ValidationError as error:
                _add_errors(form, error)
            else:
                messages.success(request, _("Settings saved; the next run plans with them."))
                return _back(request, "settings")
        return _render_settings(request, policy_form=form)
    return _render_settings(request)


def _render_settings(request: MerchantRequest, **forms: Any) -> HttpResponse:
    merchant = request.merchant
    budgets = forecasting_selectors.supplier_budgets_for_merchant(merchant=merchant)
    suppliers = list(selectors.supplier_list_for_merchant(merchant=merchant))
    supplier_forms = forms.pop("supplier_forms", {})
    for supplier in suppliers:
        supplier.form = supplier_forms.get(supplier.pk) or SupplierSettingsForm(  # type: ignore[attr-defined]
            prefix=f"supplier-{supplier.pk}",
            initial={
                "lead_time_days": supplier.lead_time_days,
                "lead_time_std_days": supplier.lead_time_std_days,
                "min_order_value": supplier.min_order_value,
                "email": supplier.email,
                "budget": budgets.get(supplier.pk),
            },
        )
    members = list(selectors.membership_list_for_merchant(merchant=merchant))
    member_forms = forms.pop("member_forms", {})
    for member in members:
        member.form = member_forms.get(member.pk) or MemberRoleForm(  # type: ignore[attr-defined]
            prefix=f"member-{member.pk}", initial={"role": member.role}
        )
    context = {
        "policy_form": forms.pop("policy_form", None)
        or PolicySettingsForm(instance=forecasting_selectors.policy_settings_for_merchant(merchant=merchant)),
        "product_overrides": forecasting_selectors.product_policy_settings_list_for_merchant(merchant=merchant),
        "suppliers": suppliers,
        "members": members,
        "member_add_form": forms.pop("member_add_form", None) or MemberAddForm(),
        "api_keys": page_selectors.api_key_list_for_merchant(merchant=merchant),
        "api_key_form": forms.pop("api_key_form", None) or ApiKeyForm(),
        "issued_key": forms.pop("issued_key", None),
        "webhooks": page_selectors.webhook_endpoint_list_for_merchant(merchant=merchant),
        "webhook_form": forms.pop("webhook_form", None) or WebhookForm(),
    }
    has_errors = forms.pop("has_errors", False) or any(
        getattr(context[name], "errors", None)
        for name in ("policy_form", "member_add_form", "api_key_form", "webhook_form")
    )
    return render(request, "backoffice/settings.html", context, status=400 if has_errors else 200)


@require_POST
@merchant_view(require="manage")
def settings_supplier(request: HttpRequest, supplier_id: int) -> HttpResponse:
    request = _merchant(request)
    supplier = selectors.supplier_get(merchant=request.merchant, supplier_id=supplier_id)
    form = SupplierSettingsForm(request.POST, prefix=f"supplier-{supplier.pk}")
    if form.is_valid():
        values = dict(form.cleaned_data)
        budget = values.pop("budget")
        try:
            services.supplier_update(supplier=supplier, **values)
            forecasting_services.supplier_budget_set(supplier=supplier, amount=budget)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("%(supplier)s saved.") % {"supplier": supplier.name})
            return _back(request, "settings", f"supplier-{supplier.pk}")
    return _render_settings(request, supplier_forms={supplier.pk: form}, has_errors=True)


@require_POST
@merchant_view(require="manage")
def settings_member_add(request: HttpRequest) -> HttpResponse:
    request = _merchant(request)
    form = MemberAddForm(request.POST)
    if form.is_valid():
        services.membership_set(
            merchant=request.merchant, user=form.cleaned_data["username"], role=form.cleaned_data["role"]
        )
        messages.success(request, _("Member saved."))
        return _back(request, "settings", "members")
    return _render_settings(request, member_add_form=form)


@require_POST
@merchant_view(require="manage")
def settings_member_role(request: HttpRequest, membership_id: int) -> HttpResponse:
    request = _merchant(request)
    membership = selectors.membership_get(merchant=request.merchant, membership_id=membership_id)
    form = MemberRoleForm(request.POST, prefix=f"member-{membership.pk}")
    if form.is_valid():
        if membership.pk == request.membership.pk and form.cleaned_data["role"] != membership.role:
            form.add_error("role", _("You cannot change your own role; ask another admin."))
        else:
            services.membership_set(merchant=request.merchant, user=membership.user, role=form.cleaned_data["role"])
            messages.success(request, _("Role of %(user)s saved.") % {"user": membership.user.get_username()})
            return _back(request, "settings", "members")
    return _render_settings(request, member_forms={membership.pk: form}, has_errors=True)


@require_POST
@merchant_view(require="manage")
def settings_api_key_issue(request: HttpRequest) -> HttpResponse:
    request = _merchant(request)
    form = ApiKeyForm(request.POST)
    if form.is_valid():
        try:
            issued = integration_services.api_key_issue(
                membership=request.membership, name=form.cleaned_data["name"], scopes=form.cleaned_data["scopes"]
            )
        except ValidationError as error:
            _add_errors(form, error, "scopes")
        else:
            # The secret is shown on this response only: it is never stored, so no redirect.
            return _render_settings(request, issued_key=issued)
    return _render_settings(request, api_key_form=form)


@require_POST
@merchant_view(require="manage")
def settings_api_key_revoke(request: HttpRequest, api_key_id: int) -> HttpResponse:
    request = _merchant(request)
    api_key = page_selectors.api_key_get(merchant=request.merchant, api_key_id=api_key_id)
    integration_services.api_key_revoke(api_key=api_key)
    messages.success(request, _("API key %(prefix)s revoked.") % {"prefix": api_key.prefix})
    return _back(request, "settings", "api-keys")


@require_POST
@merchant_view(require="manage")
def settings_webhook_create(request: HttpRequest) -> HttpResponse:
    request = _merchant(request)
    form = WebhookForm(request.POST)
    if form.is_valid():
        try:
            integration_services.webhook_endpoint_create(merchant=request.merchant, **form.cleaned_data)
        except ValidationError as error:
            _add_errors(form, error, "url")
        else:
            messages.success(request, _("Webhook added."))
            return _back(request, "settings", "webhooks")
    return _render_settings(request, webhook_form=form)


@require_POST
@merchant_view(require="manage")
def settings_webhook_delete(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    request = _merchant(request)
    endpoint = page_selectors.webhook_endpoint_get(merchant=request.merchant, endpoint_id=endpoint_id)
    integration_services.webhook_endpoint_delete(endpoint=endpoint)
    messages.success(request, _("Webhook removed."))
    return _back(request, "settings", "webhooks")
