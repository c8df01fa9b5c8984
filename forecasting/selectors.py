"""Reads for forecasts, policies, suggestions and jobs, scoped by merchant; and the planning inputs."""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pandas as pd
from django.db.models import (
    CharField,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    OuterRef,
    Prefetch,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from forecasting.models import (
    ForecastOverride,
    ForecastRun,
    JobRun,
    PolicySettings,
    ProductForecast,
    ProductPolicy,
    ProductPolicySettings,
    ReplenishmentSuggestion,
    SuggestionStatus,
    SupplierBudget,
)
from forecasting.policy.classify import COST_KINDS, apply_cost_factors
from forecasting.policy.plan import planning_horizon_for_cover
from forecasting.policy.replay import ReplayResult, SeedRule, StaticSS, replay
from inventory.models import Merchant, Product, PurchaseOrder, PurchaseOrderStatus, StockLevel
from inventory.selectors import (
    daily_sales_for_product,
    on_order_by_product,
    product_cover_list_for_merchant,
    stockout_periods_for_product,
    with_cover,
)

# A lost sale costs at least this share of the unit cost, even where the recorded margin is nil.
MINIMUM_SHORTAGE_SHARE_OF_COST = Decimal("0.10")


def policy_settings_for_merchant(*, merchant: Merchant) -> PolicySettings:
    settings, _ = PolicySettings.objects.get_or_create(merchant=merchant)
    return settings


def periods_per_year(freq: str) -> int:
    return 365 if freq == "D" else 52


def days_to_periods(days: float, freq: str) -> int:
    return int(days) if freq == "D" else math.ceil(days / 7)


def _plannable_products(merchant: Merchant) -> QuerySet[Product]:
    """The products a run plans: active, with a supplier, by SKU."""
    return Product.objects.filter(merchant=merchant, is_active=True, supplier__isnull=False).order_by("sku")


def _cover_periods(*, lead_days: int, review_days: int | None, settings: PolicySettings) -> tuple[int, int]:
    """A product's lead time and review period in planning periods (its own review period, else the merchant's)."""
    freq = settings.planning_freq
    return days_to_periods(lead_days, freq), max(1, days_to_periods(review_days or settings.review_period_days, freq))


@dataclass(frozen=True)
class PlanningScope:
    """What a run plans: the active products with a supplier (by SKU) and the planning horizon in periods."""

    product_ids: list[int]
    horizon: int


def planning_scope_for_merchant(*, merchant: Merchant, settings: PolicySettings | None = None) -> PlanningScope:
    """The products ``planning_items_for_merchant`` would return and their planning horizon (three times the
    longest lead time plus review period, see ``forecasting.policy.plan.planning_horizon``), read as plain
    values: a run's preparation needs no stock or costs, and a large catalogue reads fast this way."""
    settings = settings or policy_settings_for_merchant(merchant=merchant)
    rows = _plannable_products(merchant).values_list(
        "pk", "lead_time_days_override", "supplier__lead_time_days", "policy_settings__review_period_days"
    )
    product_ids, longest = [], 0
    for pk, own_lead, supplier_lead, own_review in rows:
        lead, review = _cover_periods(
            lead_days=own_lead if own_lead is not None else supplier_lead,
            review_days=own_review,
            settings=settings,
        )
        product_ids.append(int(pk))
        longest = max(longest, lead + review)
    return PlanningScope(product_ids=product_ids, horizon=planning_horizon_for_cover(longest) if product_ids else 1)


def _costs_of_class(item: pd.Series, abc_xyz: str, settings: PolicySettings) -> dict[str, float]:
    """A planning item's costs as the plan used them (``forecasting.policy.classify.apply_cost_factors``)."""
    costs = apply_cost_factors(
        item.to_frame().T, pd.Series([abc_xyz]), settings.class_cost_factors or {}, {item["item_id"]: item["own_costs"]}
    )
    return {kind: float(costs[kind].iloc[0]) for kind in COST_KINDS}


def _own_costs(override: ProductPolicySettings | None) -> tuple[str, ...]:
    """The plan's cost kinds a product sets itself, which its class's cost factors leave alone."""
    if override is None:
        return ()
    own = {
        "holding_cost": override.holding_cost_per_day,
        "shortage_cost": override.shortage_cost,
        "order_cost": override.order_cost,
    }
    return tuple(kind for kind, value in own.items() if value is not None)


def planning_items_for_merchant(
    *, merchant: Merchant, product_ids: list[int] | None = None, settings: PolicySettings | None = None
) -> pd.DataFrame:
    """One row per active product with a supplier: the policy engine's item frame, in planning periods.

    Columns are those of ``forecasting.policy.plan.validate_items`` plus ``product_id`` and
    ``supplier_id``. Holding cost is the merchant's yearly rate on unit cost spread over
    periods; a lost sale costs the margin times the merchant's multiple (at least 10% of cost).
    """
    settings = settings or policy_settings_for_merchant(merchant=merchant)
    freq = settings.planning_freq
    products = _plannable_products(merchant).select_related("supplier", "policy_settings")
    levels = StockLevel.objects.filter(merchant=merchant)
    if product_ids is not None:
        # a pipeline chunk reads its own products' stock, not the whole catalogue's
        products = products.filter(pk__in=product_ids)
        levels = levels.filter(product_id__in=product_ids)
    stock = {
        row["product_id"]: (int(row["on_hand"] or 0), int(row["allocated"] or 0))
        for row in levels.values("product_id").annotate(on_hand=Sum("on_hand"), allocated=Sum("allocated"))
    }
    on_order = on_order_by_product(merchant=merchant, product_ids=product_ids)
    rows = []
    for product in products:
        assert product.supplier is not None
        override = getattr(product, "policy_settings", None)
        unit_cost = product.unit_cost
        margin = max(product.price - unit_cost, unit_cost * MINIMUM_SHORTAGE_SHARE_OF_COST)
        holding = unit_cost * settings.holding_rate_per_year / periods_per_year(freq)
        shortage = margin * settings.shortage_cost_share_of_margin
        order_cost = settings.order_cost
        if override is not None:
            if override.holding_cost_per_day is not None:
                holding = override.holding_cost_per_day * (1 if freq == "D" else 7)
            shortage = override.shortage_cost if override.shortage_cost is not None else shortage
            order_cost = override.order_cost if override.order_cost is not None else order_cost
        on_hand, allocated = stock.get(product.pk, (0, 0))
        lead, review = _cover_periods(
            lead_days=product.lead_time_days,
            review_days=override.review_period_days if override is not None else None,
            settings=settings,
        )
        rows.append(
            {
                "item_id": product.sku,
                "product_id": product.pk,
                "supplier_id": product.supplier_id,
                "supplier": str(product.supplier_id),
                "lead_time": lead,
                "lead_time_std": float(product.supplier.lead_time_std_days) / (1 if freq == "D" else 7),
                "review_period": review,
                "unit_cost": float(unit_cost),
                "holding_cost": float(holding),
                "shortage_cost": float(shortage),
                "order_cost": float(order_cost),
                "moq": float(product.moq),
                "case_pack": float(product.case_pack),
                "on_hand": float(max(on_hand, 0)),
                "allocated": float(min(max(allocated, 0), max(on_hand, 0))),
                "on_order": float(on_order.get(product.pk, 0)),
                "service_floor_override": float(override.service_floor)
                if override is not None and override.service_floor is not None
                else None,
                "own_costs": _own_costs(override),
            }
        )
    return pd.DataFrame(rows)


def job_list_for_merchant(*, merchant: Merchant) -> QuerySet[JobRun]:
    return JobRun.objects.filter(merchant=merchant, parent__isnull=True).prefetch_related(
        Prefetch("steps", queryset=JobRun.objects.order_by("id"))
    )


def job_get(*, merchant: Merchant, job_id: int) -> JobRun:
    job = job_list_for_merchant(merchant=merchant).filter(pk=job_id).first()
    if job is None:
        raise Http404("No such job.")
    return job


def job_latest_for_merchant(*, merchant: Merchant) -> JobRun | None:
    return job_list_for_merchant(merchant=merchant).first()


def forecast_run_published(*, merchant: Merchant) -> ForecastRun | None:
    return ForecastRun.objects.filter(merchant=merchant, is_published=True).first()


def product_forecast_published(*, merchant: Merchant, product: Product) -> ProductForecast | None:
    return ProductForecast.objects.filter(run__merchant=merchant, run__is_published=True, product=product).first()


@dataclass(frozen=True)
class SimilarProduct:
    product_id: int | None  # None when the product has since been deleted
    sku: str
    name: str
    similarity: float


def product_coldstart_published(*, merchant: Merchant, product: Product) -> list[SimilarProduct] | None:
    """The similar products behind the product's published forecast when that forecast is a cold start (the
    product had not sold), most similar first; None when it was forecast from its own sales or not at all."""
    run = forecast_run_published(merchant=merchant)
    entry = (run.coldstart or {}).get(str(product.pk)) if run is not None else None
    if not entry:
        return None
    similar = [(str(sku), float(score)) for sku, score in entry.get("similar", [])]
    rows = Product.objects.filter(merchant=merchant, sku__in=[sku for sku, _ in similar])
    found: dict[str, tuple[int | None, str]] = {
        sku: (pk, name) for pk, sku, name in rows.values_list("pk", "sku", "name")
    }
    listed = []
    for sku, score in similar:
        pk, name = found.get(sku, (None, ""))
        listed.append(SimilarProduct(product_id=pk, sku=sku, name=name, similarity=score))
    return listed


def product_forecast_frame(forecast: ProductForecast, freq: str) -> pd.DataFrame:
    """A stored forecast as a frame: date, mean and one column per stored quantile."""
    dates = pd.date_range(forecast.start_date, periods=len(forecast.mean), freq=freq)
    frame = pd.DataFrame({"date": dates, "mean": forecast.mean})
    for name, values in forecast.quantiles.items():
        frame[name] = values
    return frame


def product_policy_published(*, merchant: Merchant, product: Product) -> ProductPolicy | None:
    run = forecast_run_published(merchant=merchant)
    if run is None:
        return None
    return ProductPolicy.objects.filter(job=run.job, product=product).first()


def suggestion_list_for_merchant(
    *, merchant: Merchant, status: str | None = SuggestionStatus.OPEN
) -> QuerySet[ReplenishmentSuggestion]:
    suggestions = ReplenishmentSuggestion.objects.filter(merchant=merchant).select_related(
        "product", "supplier", "policy", "purchase_order"
    )
    if status:
        suggestions = suggestions.filter(status=status)
    return suggestions.order_by("supplier__name", "product__sku")


def suggestion_get(*, merchant: Merchant, suggestion_id: int) -> ReplenishmentSuggestion:
    suggestion = suggestion_list_for_merchant(merchant=merchant, status=None).filter(pk=suggestion_id).first()
    if suggestion is None:
        raise Http404("No such suggestion.")
    return suggestion


def below_reorder_point_count(*, merchant: Merchant) -> int | None:
    """Products whose inventory position is at or below the published reorder point (None before any run)."""
    run = forecast_run_published(merchant=merchant)
    if run is None:
        return None
    count = 0
    on_order = on_order_by_product(merchant=merchant)
    stock = dict(
        StockLevel.objects.filter(merchant=merchant)
        .values("product_id")
        .annotate(available_units=Sum("on_hand") - Sum("allocated"))
        .values_list("product_id", "available_units")
    )
    for product_id, reorder_point in ProductPolicy.objects.filter(job=run.job).values_list(
        "product_id", "reorder_point"
    ):
        position = (stock.get(product_id) or 0) + on_order.get(product_id, 0)
        if reorder_point >= 0 and position <= reorder_point:
            count += 1
    return count


def history_window(*, today: datetime.date, days: int = 730) -> tuple[datetime.date, datetime.date]:
    """The demand history a run learns from: up to two years, ending yesterday."""
    end = today - datetime.timedelta(days=1)
    return end - datetime.timedelta(days=days - 1), end


# Merchant pages: the product list, the dashboard, the approval queue, the product chart


def product_planning_list_for_merchant(
    *,
    merchant: Merchant,
    search: str = "",
    supplier_id: int | None = None,
    abc: str = "",
    xyz: str = "",
    at_risk: bool = False,
    today: datetime.date | None = None,
) -> QuerySet[Product]:
    """Products with their cover (``inventory.selectors.product_cover_list_for_merchant``) and ``abc_xyz``,
    the class the published run gave them (empty before any run), filtered by class letters and risk."""
    products = product_cover_list_for_merchant(
        merchant=merchant, search=search, supplier_id=supplier_id, at_risk=at_risk, today=today
    )
    run = forecast_run_published(merchant=merchant)
    if run is None:
        products = products.annotate(abc_xyz=Value("", output_field=CharField()))
    else:
        classes = ProductPolicy.objects.filter(job_id=run.job_id, product=OuterRef("pk")).values("abc_xyz")[:1]
        products = products.annotate(abc_xyz=Coalesce(Subquery(classes), Value(""), output_field=CharField()))
    if abc:
        products = products.filter(abc_xyz__startswith=abc)
    if xyz:
        products = products.filter(abc_xyz__endswith=xyz)
    return products


@dataclass(frozen=True)
class ProductsAtRisk:
    count: int
    worst: list[Product]


def products_at_risk_for_merchant(*, merchant: Merchant, limit: int = 10) -> ProductsAtRisk:
    """How many active products are at risk, and the ``limit`` with the fewest days of cover (with ``with_cover``)."""
    products = with_cover(
        product_cover_list_for_merchant(merchant=merchant, at_risk=True).filter(is_active=True).order_by()
    )
    products.sort(key=lambda product: (product.days_of_cover or 0.0, product.sku))  # type: ignore[attr-defined]
    return ProductsAtRisk(count=len(products), worst=products[:limit])


@dataclass(frozen=True)
class SupplierSuggestedValue:
    supplier_id: int
    supplier_name: str
    lines: int
    value: Decimal


def suggested_value_by_supplier(*, merchant: Merchant) -> list[SupplierSuggestedValue]:
    """Value at cost of the open and approved suggestions still waiting in draft orders, per supplier."""
    rows = (
        ReplenishmentSuggestion.objects.filter(
            merchant=merchant,
            status__in=(SuggestionStatus.OPEN, SuggestionStatus.APPROVED),
            purchase_order__status=PurchaseOrderStatus.DRAFT,
        )
        .values("supplier_id", "supplier__name")
        .annotate(
            lines=Count("id"),
            total=Sum(
                ExpressionWrapper(
                    F("quantity") * F("unit_cost"), output_field=DecimalField(max_digits=18, decimal_places=4)
                )
            ),
        )
        .order_by("-total", "supplier__name")
    )
    return [
        SupplierSuggestedValue(
            row["supplier_id"], row["supplier__name"], row["lines"], Decimal(row["total"]).quantize(Decimal("0.01"))
        )
        for row in rows
    ]


DECIDED_STATUSES = (SuggestionStatus.OPEN, SuggestionStatus.APPROVED, SuggestionStatus.REJECTED)


@dataclass(slots=True)
class QueueLine:
    """One suggestion in the approval queue with the policy figures that explain it (plain values, no models:
    the queue lists thousands of lines and reads them in one query)."""

    id: int
    status: str
    product_id: int
    sku: str
    name: str
    moq: int
    case_pack: int
    suggested_quantity: int
    quantity: int
    unit_cost: Decimal
    explanation: str
    reject_reason: str
    decided_by: str | None
    decided_at: datetime.datetime | None
    on_hand: int
    on_order: int
    reorder_point: float
    order_up_to: float
    expected_demand: float
    safety_stock: float
    unrounded_quantity: float
    budget_cut: float

    @property
    def value(self) -> Decimal:
        return self.unit_cost * self.quantity


@dataclass
class SupplierOrderGroup:
    """The suggestions of one supplier in one run: the lines of its draft purchase order and the rejected ones."""

    supplier_id: int
    supplier_name: str
    order_id: int | None
    order_status: str | None
    budget: Decimal | None
    lines: list[QueueLine]

    @property
    def value(self) -> Decimal:
        return sum(
            (line.unit_cost * line.quantity for line in self.lines if line.status != SuggestionStatus.REJECTED),
            Decimal("0"),
        ).quantize(Decimal("0.01"))

    @property
    def open_count(self) -> int:
        return sum(1 for line in self.lines if line.status == SuggestionStatus.OPEN)

    @property
    def is_draft(self) -> bool:
        return self.order_status == PurchaseOrderStatus.DRAFT

    @property
    def order_status_label(self) -> str:
        return str(PurchaseOrderStatus(self.order_status).label) if self.order_status else ""

    @property
    def over_budget(self) -> bool:
        return self.budget is not None and self.value > self.budget


@dataclass
class SuggestionQueue:
    job: JobRun | None
    groups: list[SupplierOrderGroup]
    budget: Decimal | None

    @property
    def value(self) -> Decimal:
        return sum((group.value for group in self.groups if group.is_draft), Decimal("0"))

    @property
    def line_count(self) -> int:
        return sum(len(group.lines) for group in self.groups)

    @property
    def open_count(self) -> int:
        return sum(group.open_count for group in self.groups)

    @property
    def over_budget(self) -> bool:
        return self.budget is not None and self.value > self.budget


_QUEUE_COLUMNS = (
    "id",
    "status",
    "product_id",
    "product__sku",
    "product__name",
    "product__moq",
    "product__case_pack",
    "suggested_quantity",
    "quantity",
    "unit_cost",
    "explanation",
    "reject_reason",
    "decided_by__username",
    "decided_at",
    "policy__on_hand",
    "policy__on_order",
    "policy__reorder_point",
    "policy__order_up_to",
    "policy__expected_demand",
    "policy__safety_stock",
    "policy__unrounded_quantity",
    "policy__budget_cut",
    # group columns, read from the first line of each supplier
    "supplier_id",
    "supplier__name",
    "supplier__budget__amount",
    "purchase_order_id",
    "purchase_order__status",
)


def suggestion_queue_for_merchant(*, merchant: Merchant, supplier_id: int | None = None) -> SuggestionQueue:
    """The published run's suggestions grouped by supplier, with budgets, in three queries whatever the size.

    Superseded suggestions are left out; open, approved and rejected ones stay, so a buyer sees what was decided.
    """
    run = ForecastRun.objects.filter(merchant=merchant, is_published=True).select_related("job").first()
    settings = policy_settings_for_merchant(merchant=merchant)
    if run is None:
        return SuggestionQueue(job=None, groups=[], budget=settings.budget)
    rows = ReplenishmentSuggestion.objects.filter(
        merchant=merchant, job_id=run.job_id, status__in=DECIDED_STATUSES
    ).order_by("supplier__name", "supplier_id", "product__sku")
    if supplier_id is not None:
        rows = rows.filter(supplier_id=supplier_id)
    groups: dict[int, SupplierOrderGroup] = {}
    line_fields = len(_QUEUE_COLUMNS) - 5
    for row in rows.values_list(*_QUEUE_COLUMNS):
        supplier, supplier_name, budget, order_id, order_status = row[line_fields:]
        group = groups.get(supplier)
        if group is None:
            group = groups[supplier] = SupplierOrderGroup(supplier, supplier_name, None, None, budget, [])
        if order_id is not None and group.order_id is None:
            group.order_id, group.order_status = order_id, order_status
        group.lines.append(QueueLine(*row[:line_fields]))
    return SuggestionQueue(job=run.job, groups=list(groups.values()), budget=settings.budget)


def suggestion_decisions_for_order(*, order: PurchaseOrder) -> list[ReplenishmentSuggestion]:
    """The suggestions behind a purchase order with who decided them and when (shown on the order)."""
    return list(
        ReplenishmentSuggestion.objects.filter(purchase_order=order)
        .select_related("product", "decided_by")
        .order_by("product__sku")
    )


@dataclass(frozen=True)
class ReplayComparison:
    """The proposed (s, S) and the current rule replayed over the same recent demand."""

    freq: str
    periods: int
    start: datetime.date
    end: datetime.date
    demand: float
    starting_stock: float
    proposed: ReplayResult
    current: ReplayResult

    @property
    def cost_saved(self) -> float:
        return self.current.cost - self.proposed.cost


REPLAY_DAYS = 90
SEED_RULE_WINDOW_DAYS = 28


def suggestion_replay(
    *, merchant: Merchant, policy: ProductPolicy, days: int = REPLAY_DAYS, today: datetime.date | None = None
) -> ReplayComparison | None:
    """Replay the policy's (s, S) and the current rule (order up to 1.2 × recent mean demand × cover) over the
    ``days`` days of demand before the run (or ``today``), in the merchant's planning periods, with its costs,
    MOQ and pack.

    Both start with the same stock, the mean demand of the four weeks before the window over the lead time plus
    the review period, and nothing on order; None when the product is no longer planned.
    """
    settings = policy_settings_for_merchant(merchant=merchant)
    items = planning_items_for_merchant(merchant=merchant, product_ids=[policy.product_id], settings=settings)
    if items.empty:
        return None
    item = items.iloc[0]
    # The demand the run itself saw: the window ends the day before the run, not before today.
    today = today or policy.job.run_date or timezone.localdate()
    end = today - datetime.timedelta(days=1)
    start = end - datetime.timedelta(days=days - 1)
    history_start = start - datetime.timedelta(days=SEED_RULE_WINDOW_DAYS)
    sold = daily_sales_for_product(merchant=merchant, product=policy.product, since=history_start, until=end)
    daily = np.array(
        [
            sold.get(history_start + datetime.timedelta(days=offset), 0)
            for offset in range((end - history_start).days + 1)
        ],
        dtype=float,
    )
    freq = settings.planning_freq
    step = 1 if freq == "D" else 7
    whole = len(daily) // step * step
    periods = daily[len(daily) - whole :].reshape(-1, step).sum(axis=1)
    window = max(1, SEED_RULE_WINDOW_DAYS // step)
    history, demand = periods[:window], periods[window:]
    lead_time, review = int(item["lead_time"]), int(item["review_period"])
    starting_stock = float(history.mean()) * (lead_time + review) if history.size else 0.0
    common = {
        "lead_time": lead_time,
        "review_period": review,
        "on_hand": starting_stock,
        "moq": float(item["moq"]),
        "case_pack": float(item["case_pack"]),
        **_costs_of_class(item, policy.abc_xyz, settings),
    }
    proposed = replay(demand, StaticSS(policy.reorder_point, policy.order_up_to), **common)  # type: ignore[arg-type]
    current_rule = SeedRule(cover=lead_time + review, window=window, history=tuple(float(v) for v in history))
    current = replay(demand, current_rule, **common)  # type: ignore[arg-type]
    return ReplayComparison(
        freq=freq,
        periods=len(demand),
        start=end - datetime.timedelta(days=len(demand) * step - 1),
        end=end,
        demand=float(demand.sum()),
        starting_stock=starting_stock,
        proposed=proposed,
        current=current,
    )


@dataclass(frozen=True)
class ProductChart:
    """Sales history and forecast of one product on one date axis, ready for the chart (``as_json``)."""

    freq: str
    labels: list[str]
    sales: list[float | None]
    mean: list[float | None]
    low: list[float | None]
    high: list[float | None]
    manual: list[float | None]
    stockout: list[bool]
    low_name: str
    high_name: str

    def as_json(self) -> dict[str, object]:
        return {
            "freq": self.freq,
            "labels": self.labels,
            "sales": self.sales,
            "mean": self.mean,
            "low": self.low,
            "high": self.high,
            "manual": self.manual,
            "stockout": self.stockout,
        }


def product_chart(
    *, merchant: Merchant, product: Product, history_days: int = 182, today: datetime.date | None = None
) -> ProductChart:
    """The last ``history_days`` of sales, then the published forecast with its p10–p90 band (p5–p95 where those
    are all that is stored); days (or weeks) out of stock by the ledger are flagged, manual forecasts overlaid."""
    today = today or timezone.localdate()
    forecast = product_forecast_published(merchant=merchant, product=product)
    run = forecast_run_published(merchant=merchant) if forecast is not None else None
    freq = run.freq if run is not None else "D"
    end = run.history_end if run is not None and run.history_end else today - datetime.timedelta(days=1)
    start = end - datetime.timedelta(days=history_days - 1)
    sold = daily_sales_for_product(merchant=merchant, product=product, since=start, until=end)
    out_days = {
        period.start + datetime.timedelta(days=offset)
        for period in stockout_periods_for_product(merchant=merchant, product=product, since=start, until=today)
        for offset in range(period.days)
    }
    days = pd.date_range(start, end, freq="D")
    history = pd.DataFrame(
        {
            "sales": [float(sold.get(day.date(), 0)) for day in days],
            "out": [day.date() in out_days for day in days],
        },
        index=days,
    )
    if freq != "D":
        history = history.resample(freq, label="left", closed="left").agg({"sales": "sum", "out": "max"})
    future = product_forecast_frame(forecast, freq) if forecast is not None else pd.DataFrame({"date": []})
    low_name, high_name = _band_names(forecast)
    labels = [day.date().isoformat() for day in history.index]
    future_labels = [pd.Timestamp(day).date().isoformat() for day in future["date"]]
    # Before any forecast the series are empty, not a row of gaps.
    gap: list[float | None] = [None] * len(labels) if forecast is not None else []
    overrides = list(ForecastOverride.objects.filter(merchant=merchant, product=product).order_by("created_at"))
    manual: list[float | None] = []
    per_period = 1 if freq == "D" else 7
    for label in labels + future_labels:
        day = datetime.date.fromisoformat(label)
        value = None
        for override in overrides:
            if override.start_date <= day <= override.end_date:
                value = float(override.units_per_day) * per_period
        manual.append(value)
    future_out = [day in out_days for day in (datetime.date.fromisoformat(label) for label in future_labels)]
    return ProductChart(
        freq=freq,
        labels=labels + future_labels,
        sales=[float(value) for value in history["sales"]] + [None] * len(future_labels),
        mean=gap + [round(float(value), 2) for value in future["mean"]] if forecast is not None else [],
        low=gap + ([round(float(value), 2) for value in future[low_name]] if low_name in future else []),
        high=gap + ([round(float(value), 2) for value in future[high_name]] if high_name in future else []),
        manual=manual if any(value is not None for value in manual) else [],
        stockout=[bool(value) for value in history["out"]] + future_out,
        low_name=low_name,
        high_name=high_name,
    )


def _band_names(forecast: ProductForecast | None) -> tuple[str, str]:
    stored = set(forecast.quantiles) if forecast is not None else set()
    if {"p10", "p90"} <= stored or not stored:
        return "p10", "p90"
    if {"p5", "p95"} <= stored:
        return "p5", "p95"
    names = sorted(stored, key=lambda name: float(name[1:]))
    return names[0], names[-1]


def forecast_override_list_for_product(*, merchant: Merchant, product: Product) -> QuerySet[ForecastOverride]:
    return ForecastOverride.objects.filter(merchant=merchant, product=product).select_related("created_by")


def forecast_override_get(*, merchant: Merchant, override_id: int) -> ForecastOverride:
    override = ForecastOverride.objects.filter(merchant=merchant, pk=override_id).select_related("product").first()
    if override is None:
        raise Http404("No such forecast override.")
    return override


def product_policy_settings_get(*, product: Product) -> ProductPolicySettings | None:
    return ProductPolicySettings.objects.filter(product=product).first()


def product_policy_settings_list_for_merchant(*, merchant: Merchant) -> QuerySet[ProductPolicySettings]:
    return (
        ProductPolicySettings.objects.filter(product__merchant=merchant)
        .select_related("product")
        .order_by("product__sku")
    )


def supplier_budgets_for_merchant(*, merchant: Merchant) -> dict[int, Decimal]:
    return dict(SupplierBudget.objects.filter(supplier__merchant=merchant).values_list("supplier_id", "amount"))


# The API: published forecasts


def product_forecast_list_published(*, merchant: Merchant) -> QuerySet[ProductForecast]:
    """The forecasts of the merchant's published run, one per product, with the product and the run (none before
    a run is published); ``sku`` is annotated for filtering and ordering."""
    return (
        ProductForecast.objects.filter(run__merchant=merchant, run__is_published=True, product__merchant=merchant)
        .select_related("product", "run")
        .annotate(sku=F("product__sku"))
        .order_by("sku", "id")
    )
