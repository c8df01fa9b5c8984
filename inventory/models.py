"""Catalogue, stock ledger, sales and purchase orders. Every row belongs to one merchant.

Rules about one row live here; every write that touches more than one row, or stock,
goes through ``inventory.services``.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class Merchant(models.Model):
    """A tenant: one shop and its staff. Every other row is scoped to one merchant."""

    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    currency = models.CharField(max_length=3, default="GBP")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    VIEWER = "viewer", _("Viewer")
    BUYER = "buyer", _("Buyer")
    ADMIN = "admin", _("Admin")


class Membership(models.Model):
    """A user's role at one merchant. A user may belong to several merchants."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "merchant"], name="membership_unique_user_merchant")]
        ordering = ["merchant__name"]

    def __str__(self) -> str:
        return f"{self.user} @ {self.merchant} ({self.role})"

    @property
    def can_approve(self) -> bool:
        return self.role in (Role.BUYER, Role.ADMIN)

    @property
    def can_manage(self) -> bool:
        return self.role == Role.ADMIN


class Supplier(models.Model):
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="suppliers")
    name = models.CharField(max_length=200)
    lead_time_days = models.PositiveIntegerField(default=7)
    lead_time_std_days = models.DecimalField(
        max_digits=6, decimal_places=2, default=Decimal("0"), validators=[MinValueValidator(Decimal("0"))]
    )
    currency = models.CharField(max_length=3, default="GBP")
    min_order_value = models.DecimalField(
        max_digits=12, decimal_places=2, default=Decimal("0"), validators=[MinValueValidator(Decimal("0"))]
    )
    email = models.EmailField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["merchant", "name"], name="supplier_unique_name")]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Warehouse(models.Model):
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="warehouses")
    code = models.CharField(max_length=32)
    name = models.CharField(max_length=200)
    is_default = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["merchant", "code"], name="warehouse_unique_code")]
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Product(models.Model):
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="products")
    sku = models.CharField(max_length=64)
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    unit_cost = models.DecimalField(max_digits=12, decimal_places=4, validators=[MinValueValidator(Decimal("0"))])
    price = models.DecimalField(max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0"))])
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, null=True, blank=True, related_name="products")
    case_pack = models.PositiveIntegerField(default=1, validators=[MinValueValidator(1)])
    moq = models.PositiveIntegerField(default=1, validators=[MinValueValidator(1)])
    lead_time_days_override = models.PositiveIntegerField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["merchant", "sku"], name="product_unique_sku")]
        ordering = ["sku"]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"

    @property
    def lead_time_days(self) -> int:
        if self.lead_time_days_override is not None:
            return self.lead_time_days_override
        return self.supplier.lead_time_days if self.supplier else 0


class StockLevel(models.Model):
    """On hand and allocated units of one product in one warehouse.

    Changed only by ``inventory.services``, which write a ``StockMovement`` in the same
    transaction: ``on_hand`` always equals the sum of the product's movements there.
    """

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="stock_levels")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="stock_levels")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.CASCADE, related_name="stock_levels")
    on_hand = models.IntegerField(default=0)
    allocated = models.IntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["product", "warehouse"], name="stocklevel_unique_product_warehouse"),
            models.CheckConstraint(condition=models.Q(on_hand__gte=0), name="stocklevel_on_hand_not_negative"),
            models.CheckConstraint(condition=models.Q(allocated__gte=0), name="stocklevel_allocated_not_negative"),
        ]
        ordering = ["product__sku", "warehouse__code"]

    def __str__(self) -> str:
        return f"{self.product.sku} @ {self.warehouse.code}: {self.on_hand}"

    @property
    def available(self) -> int:
        return self.on_hand - self.allocated


class MovementKind(models.TextChoices):
    RECEIPT = "receipt", _("Receipt")
    SALE = "sale", _("Sale")
    RETURN = "return", _("Return")
    ADJUSTMENT = "adjustment", _("Adjustment")
    TRANSFER = "transfer", _("Transfer")


class AppendOnlyError(Exception):
    pass


class StockMovement(models.Model):
    """One row of the append-only stock ledger: a signed change of on-hand units."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="stock_movements")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="stock_movements")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="stock_movements")
    kind = models.CharField(max_length=16, choices=MovementKind.choices)
    quantity = models.IntegerField()
    balance_after = models.IntegerField()
    reference = models.CharField(max_length=200, blank=True)
    note = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["product", "warehouse", "id"], name="movement_product_wh_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.quantity:+d} {self.product.sku}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None:
            raise AppendOnlyError("Stock movements are append-only; record a correcting movement instead.")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Stock movements are append-only; record a correcting movement instead.")


class SalesOrder(models.Model):
    """An order from a sales channel. Live orders take stock once; imported history does not. A cancelled order is
    kept (the ledger refers to it) but is no longer demand."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="sales_orders")
    channel = models.CharField(max_length=64, default="web")
    external_id = models.CharField(max_length=128)
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="sales_orders")
    ordered_at = models.DateTimeField(db_index=True)
    is_historical = models.BooleanField(
        default=False, help_text="Imported history: counts as demand but did not move stock here."
    )
    cancelled_at = models.DateTimeField(
        null=True, blank=True, help_text="Cancelled: no longer demand, and a live order's units are back in stock."
    )
    cancel_reason = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["merchant", "channel", "external_id"], name="salesorder_unique_external")
        ]
        ordering = ["-ordered_at", "-id"]

    def __str__(self) -> str:
        return f"{self.channel}:{self.external_id}"


class SalesOrderLine(models.Model):
    order = models.ForeignKey(SalesOrder, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="sales_lines")
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    unit_price = models.DecimalField(max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0"))])

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.product.sku}"


class PurchaseOrderStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    APPROVED = "approved", _("Approved")
    SENT = "sent", _("Sent")
    PARTIALLY_RECEIVED = "partially_received", _("Partially received")
    RECEIVED = "received", _("Received")
    CANCELLED = "cancelled", _("Cancelled")


# The purchase order state machine: the statuses each status may move to.
PURCHASE_ORDER_TRANSITIONS: dict[str, tuple[str, ...]] = {
    PurchaseOrderStatus.DRAFT: (PurchaseOrderStatus.APPROVED, PurchaseOrderStatus.CANCELLED),
    PurchaseOrderStatus.APPROVED: (PurchaseOrderStatus.SENT, PurchaseOrderStatus.CANCELLED),
    PurchaseOrderStatus.SENT: (
        PurchaseOrderStatus.PARTIALLY_RECEIVED,
        PurchaseOrderStatus.RECEIVED,
        PurchaseOrderStatus.CANCELLED,
    ),
    PurchaseOrderStatus.PARTIALLY_RECEIVED: (PurchaseOrderStatus.PARTIALLY_RECEIVED, PurchaseOrderStatus.RECEIVED),
    PurchaseOrderStatus.RECEIVED: (),
    PurchaseOrderStatus.CANCELLED: (),
}

OPEN_PURCHASE_ORDER_STATUSES = (
    PurchaseOrderStatus.DRAFT,
    PurchaseOrderStatus.APPROVED,
    PurchaseOrderStatus.SENT,
    PurchaseOrderStatus.PARTIALLY_RECEIVED,
)
# Statuses whose unreceived quantities count as stock on order.
ON_ORDER_STATUSES = (
    PurchaseOrderStatus.APPROVED,
    PurchaseOrderStatus.SENT,
    PurchaseOrderStatus.PARTIALLY_RECEIVED,
)


class PurchaseOrder(models.Model):
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="purchase_orders")
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="purchase_orders")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="purchase_orders")
    status = models.CharField(max_length=24, choices=PurchaseOrderStatus.choices, default=PurchaseOrderStatus.DRAFT)
    note = models.TextField(blank=True)
    expected_at = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["merchant", "status"], name="po_merchant_status_idx")]

    def __str__(self) -> str:
        return f"PO-{self.pk} {self.supplier.name} ({self.status})"

    def can_move_to(self, status: str) -> bool:
        return status in PURCHASE_ORDER_TRANSITIONS[self.status]


class PurchaseOrderLine(models.Model):
    order = models.ForeignKey(PurchaseOrder, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="purchase_lines")
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    quantity_received = models.PositiveIntegerField(default=0)
    unit_cost = models.DecimalField(max_digits=12, decimal_places=4, validators=[MinValueValidator(Decimal("0"))])

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quantity_received__lte=models.F("quantity")), name="poline_received_le_ordered"
            )
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.product.sku}"

    @property
    def quantity_outstanding(self) -> int:
        return self.quantity - self.quantity_received


class PurchaseOrderEvent(models.Model):
    """Who moved a purchase order and when: the order's audit trail."""

    order = models.ForeignKey(PurchaseOrder, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=32)
    from_status = models.CharField(max_length=24, blank=True)
    to_status = models.CharField(max_length=24, blank=True)
    note = models.CharField(max_length=500, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.action} {self.from_status}→{self.to_status}"
