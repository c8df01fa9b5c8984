"""Pipeline runs and their steps, stored forecasts, inventory policies and replenishment suggestions.

A pipeline run writes its results per chunk while it runs and becomes visible only when
it is published: the merchant sees the last published run until the next one is complete.
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from inventory.models import Merchant, Product, PurchaseOrder, PurchaseOrderLine, Supplier


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


ACTIVE_JOB_STATUSES = (JobStatus.QUEUED, JobStatus.RUNNING)


class JobRun(models.Model):
    """A pipeline run (``parent`` empty) or one of its steps, with progress in done/total chunks."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="job_runs")
    parent = models.ForeignKey("self", on_delete=models.CASCADE, null=True, blank=True, related_name="steps")
    kind = models.CharField(max_length=32)
    run_date = models.DateField(null=True, blank=True)
    trigger = models.CharField(max_length=16, default="manual")
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    detail = models.TextField(blank=True, help_text="What the step did, in a sentence or two.")
    facts = models.JSONField(
        default=dict, blank=True, help_text="The figures behind the detail, for pages in any language."
    )
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # At most one active pipeline run per merchant: a second start is refused.
            models.UniqueConstraint(
                fields=["merchant"],
                condition=models.Q(parent__isnull=True, status__in=["queued", "running"]),
                name="jobrun_one_active_pipeline",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.status})"

    @property
    def progress(self) -> float:
        return self.done / self.total if self.total else (1.0 if self.status == JobStatus.SUCCEEDED else 0.0)

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at is None:
            return None
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class ChunkResult(models.Model):
    """One finished chunk of a run's forecast-and-policy step; unique, so a repeated chunk counts once."""

    job = models.ForeignKey(JobRun, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    products = models.PositiveIntegerField(default=0)
    seconds = models.FloatField(default=0)
    metrics = models.JSONField(default=dict, blank=True, help_text="Backtest of the chunk's selected forecasts.")
    finished_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["job", "index"], name="chunkresult_unique_index")]

    def __str__(self) -> str:
        return f"chunk {self.index} of job {self.job_id}"


class ForecastRun(models.Model):
    """The forecasts of one pipeline run, with the backtest that says how good they are."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="forecast_runs")
    job = models.OneToOneField(JobRun, on_delete=models.CASCADE, related_name="forecast_run")
    freq = models.CharField(max_length=16)
    horizon = models.PositiveIntegerField()
    quantiles = models.JSONField(default=list)
    history_end = models.DateField(null=True, blank=True)
    is_published = models.BooleanField(default=False)
    published_at = models.DateTimeField(null=True, blank=True)
    backtest = models.JSONField(default=dict, blank=True)
    text_signals = models.JSONField(
        default=dict, blank=True, help_text="Per scored text: text_id, item_id, date and learned demand signal."
    )
    products = models.PositiveIntegerField(default=0, help_text="Products the run forecasts, over all its chunks.")
    chunks = models.JSONField(
        default=list, blank=True, help_text="The product ids of each chunk, so that a lost chunk can be queued again."
    )
    coldstart = models.JSONField(
        default=dict, blank=True, help_text="Per new product id: weekly units and the similar products behind it."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["merchant"], condition=models.Q(is_published=True), name="forecastrun_one_published"
            )
        ]

    def __str__(self) -> str:
        return f"Forecast run {self.pk} ({self.merchant.slug})"


class ProductForecast(models.Model):
    """One product's forecast in a run: one row with arrays over the horizon, not a row per period."""

    run = models.ForeignKey(ForecastRun, on_delete=models.CASCADE, related_name="product_forecasts")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="forecasts")
    start_date = models.DateField()
    mean = models.JSONField()
    quantiles = models.JSONField(help_text='{"p10": [...], "p50": [...], "p90": [...]}')
    method = models.CharField(max_length=64, blank=True)
    segment = models.CharField(max_length=32, blank=True)
    metrics = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "product"], name="productforecast_unique")]

    def __str__(self) -> str:
        return f"forecast of product {self.product_id} in run {self.run_id}"


class ForecastOverride(models.Model):
    """A merchant's manual forecast for a product: units per day over a date range, replacing the model's."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="forecast_overrides")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="forecast_overrides")
    start_date = models.DateField()
    end_date = models.DateField()
    units_per_day = models.DecimalField(max_digits=12, decimal_places=3, validators=[MinValueValidator(0)])
    note = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.units_per_day}/day for product {self.product_id} {self.start_date}..{self.end_date}"


class PolicySettings(models.Model):
    """A merchant's planning economics; products and classes may override parts of it."""

    merchant = models.OneToOneField(Merchant, on_delete=models.CASCADE, related_name="policy_settings")
    holding_rate_per_year = models.DecimalField(
        max_digits=5,
        decimal_places=3,
        default=Decimal("0.250"),
        validators=[MinValueValidator(0), MaxValueValidator(5)],
        help_text="Holding cost per year as a share of unit cost.",
    )
    shortage_cost_share_of_margin = models.DecimalField(
        max_digits=5,
        decimal_places=3,
        default=Decimal("1.000"),
        validators=[MinValueValidator(0), MaxValueValidator(20)],
        help_text="Cost of a lost sale as a multiple of the unit margin (price less cost).",
    )
    order_cost = models.DecimalField(
        max_digits=10, decimal_places=2, default=Decimal("15.00"), validators=[MinValueValidator(0)]
    )
    review_period_days = models.PositiveIntegerField(default=7, validators=[MinValueValidator(1)])
    planning_freq = models.CharField(max_length=8, choices=[("D", _("Daily")), ("W-MON", _("Weekly"))], default="D")
    service_floors = models.JSONField(
        default=dict,
        blank=True,
        help_text='Minimum cycle service level per ABC or ABC/XYZ class, e.g. {"A": 0.95, "AX": 0.98}.',
    )
    class_cost_factors = models.JSONField(
        default=dict,
        blank=True,
        help_text=(
            "Multipliers of the costs per ABC, XYZ or ABC/XYZ class, e.g. "
            '{"C": {"shortage_cost": 0.5, "holding_cost": 1.5}}; kinds: holding_cost, shortage_cost, order_cost. '
            "A product's own cost of a kind is not multiplied."
        ),
    )
    budget = models.DecimalField(
        max_digits=14, decimal_places=2, null=True, blank=True, help_text="Open-to-buy cap over all suppliers."
    )
    pipeline_hour = models.PositiveSmallIntegerField(
        default=2, validators=[MaxValueValidator(23)], help_text="Hour (UTC) of the nightly pipeline run."
    )

    def __str__(self) -> str:
        return f"Policy settings of {self.merchant.slug}"

    def clean(self) -> None:
        from forecasting.engine.errors import InputError
        from forecasting.policy.classify import check_cost_factors

        factors = self.class_cost_factors
        if not isinstance(factors, dict) or not all(isinstance(kinds, dict) for kinds in factors.values()):
            raise ValidationError({"class_cost_factors": 'Expected {"class": {"cost kind": multiplier}}.'})
        try:
            check_cost_factors(factors)
        except (InputError, TypeError) as error:
            raise ValidationError({"class_cost_factors": str(error)}) from None


class ProductPolicySettings(models.Model):
    """Per-product overrides of the merchant's economics; an empty field means the merchant's value."""

    product = models.OneToOneField(Product, on_delete=models.CASCADE, related_name="policy_settings")
    service_floor = models.DecimalField(
        max_digits=4, decimal_places=3, null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(1)]
    )
    holding_cost_per_day = models.DecimalField(max_digits=12, decimal_places=5, null=True, blank=True)
    shortage_cost = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    order_cost = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    review_period_days = models.PositiveIntegerField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Policy overrides of product {self.product_id}"


class SupplierBudget(models.Model):
    supplier = models.OneToOneField(Supplier, on_delete=models.CASCADE, related_name="budget")
    amount = models.DecimalField(max_digits=14, decimal_places=2, validators=[MinValueValidator(0)])

    def __str__(self) -> str:
        return f"Budget {self.amount} for supplier {self.supplier_id}"


class ProductPolicy(models.Model):
    """The policy one run computed for one product, with the figures behind it."""

    job = models.ForeignKey(JobRun, on_delete=models.CASCADE, related_name="policies")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="policies")
    abc_xyz = models.CharField(max_length=4, blank=True)
    reorder_point = models.FloatField()
    order_up_to = models.FloatField()
    order_quantity = models.PositiveIntegerField()
    unrounded_quantity = models.FloatField(default=0)
    expected_demand = models.FloatField(default=0)
    safety_stock = models.FloatField(default=0)
    service_level = models.FloatField(default=0)
    fill_rate = models.FloatField(default=0)
    expected_cost = models.FloatField(default=0)
    expected_cost_saved = models.FloatField(default=0)
    on_hand = models.IntegerField(default=0)
    on_order = models.IntegerField(default=0)
    budget_cut = models.FloatField(default=0)
    explanation = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["job", "product"], name="productpolicy_unique")]

    def __str__(self) -> str:
        return f"(s={self.reorder_point:g}, S={self.order_up_to:g}) for product {self.product_id}"


class SuggestionStatus(models.TextChoices):
    OPEN = "open", _("Open")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    SUPERSEDED = "superseded", _("Superseded")


class ReplenishmentSuggestion(models.Model):
    """A suggested order line: it waits in a draft purchase order for a person to approve, edit or reject."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="suggestions")
    job = models.ForeignKey(JobRun, on_delete=models.CASCADE, related_name="suggestions")
    policy = models.OneToOneField(ProductPolicy, on_delete=models.CASCADE, related_name="suggestion")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="suggestions")
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="suggestions")
    purchase_order = models.ForeignKey(
        PurchaseOrder, on_delete=models.SET_NULL, null=True, blank=True, related_name="suggestions"
    )
    purchase_order_line = models.OneToOneField(
        PurchaseOrderLine, on_delete=models.SET_NULL, null=True, blank=True, related_name="suggestion"
    )
    suggested_quantity = models.PositiveIntegerField()
    quantity = models.PositiveIntegerField()
    unit_cost = models.DecimalField(max_digits=12, decimal_places=4)
    status = models.CharField(max_length=16, choices=SuggestionStatus.choices, default=SuggestionStatus.OPEN)
    explanation = models.TextField()
    text_ids = models.JSONField(default=list, blank=True)
    reject_reason = models.CharField(max_length=500, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["supplier__name", "product__sku"]
        indexes = [models.Index(fields=["merchant", "status"], name="suggestion_merchant_status_idx")]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.product.sku} ({self.status})"

    @property
    def value(self) -> Decimal:
        return self.unit_cost * self.quantity
