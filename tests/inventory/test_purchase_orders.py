import pytest
from django.core.exceptions import ValidationError

from inventory import services
from inventory.models import PurchaseOrder, PurchaseOrderStatus, StockLevel, StockMovement
from inventory.selectors import on_order_by_product, stock_ledger_mismatches
from inventory.services import IllegalTransition, PurchaseLineInput
from tests.factories import ProductFactory

S = PurchaseOrderStatus


@pytest.fixture
def order(merchant, product, buyer):
    second = ProductFactory(merchant=merchant, sku="MUG-2", supplier=product.supplier)
    return services.purchase_order_create(
        merchant=merchant,
        supplier=product.supplier,
        lines=[PurchaseLineInput(product, 10), PurchaseLineInput(second, 5, "1.25")],
        user=buyer,
    )


def _bring_to(order: PurchaseOrder, status: str) -> PurchaseOrder:
    path = {
        S.DRAFT: [],
        S.APPROVED: ["approve"],
        S.SENT: ["approve", "send"],
        S.PARTIALLY_RECEIVED: ["approve", "send", "partial"],
        S.RECEIVED: ["approve", "send", "receive"],
        S.CANCELLED: ["cancel"],
    }[status]
    for step in path:
        if step == "partial":
            order = services.purchase_order_receive(order=order, quantities={order.lines.first().pk: 4})
        else:
            order = ACTIONS[step](order)
    assert order.status == status
    return order


ACTIONS = {
    "approve": lambda order: services.purchase_order_approve(order=order),
    "send": lambda order: services.purchase_order_send(order=order),
    "receive": lambda order: services.purchase_order_receive(order=order),
    "cancel": lambda order: services.purchase_order_cancel(order=order, reason="not needed"),
}
ALLOWED = {
    (S.DRAFT, "approve"): S.APPROVED,
    (S.DRAFT, "cancel"): S.CANCELLED,
    (S.APPROVED, "send"): S.SENT,
    (S.APPROVED, "cancel"): S.CANCELLED,
    (S.SENT, "receive"): S.RECEIVED,
    (S.SENT, "cancel"): S.CANCELLED,
    (S.PARTIALLY_RECEIVED, "receive"): S.RECEIVED,
}


@pytest.mark.parametrize("status", S.values)
@pytest.mark.parametrize("action", list(ACTIONS))
def test_state_machine(order, status, action):
    order = _bring_to(order, status)
    if (status, action) in ALLOWED:
        assert ACTIONS[action](order).status == ALLOWED[(status, action)]
    else:
        events_before = order.events.count()
        with pytest.raises(IllegalTransition) as error:
            ACTIONS[action](order)
        assert list(error.value.message_dict) == ["status"]
        assert f"Purchase order {order.pk} is {status}" in error.value.message_dict["status"][0]
        order.refresh_from_db()
        assert (order.status, order.events.count()) == (status, events_before)


def test_partial_then_full_receipt_updates_stock_and_ledger(order, merchant, product, warehouse, buyer):
    first, second = order.lines.order_by("pk")
    order = _bring_to(order, S.SENT)
    assert on_order_by_product(merchant=merchant) == {first.product_id: 10, second.product_id: 5}

    order = services.purchase_order_receive(order=order, quantities={first.pk: 4}, user=buyer)
    assert order.status == S.PARTIALLY_RECEIVED
    assert StockLevel.objects.get(product=product, warehouse=warehouse).on_hand == 4
    assert on_order_by_product(merchant=merchant) == {first.product_id: 6, second.product_id: 5}

    order = services.purchase_order_receive(order=order, user=buyer)
    assert order.status == S.RECEIVED and order.received_at is not None
    assert StockLevel.objects.get(product=product, warehouse=warehouse).on_hand == 10
    assert list(StockMovement.objects.filter(kind="receipt").order_by("id").values_list("quantity", flat=True)) == [
        4,
        6,
        5,
    ]
    assert on_order_by_product(merchant=merchant) == {}
    assert stock_ledger_mismatches(merchant=merchant) == []
    assert list(order.events.values_list("action", "to_status", "user__username")) == [
        ("create", "draft", "bob"),
        ("approve", "approved", None),
        ("send", "sent", None),
        ("receive", "partially_received", "bob"),
        ("receive", "received", "bob"),
    ]


@pytest.mark.parametrize(
    ("quantities", "message"),
    [
        ({"first": 11}, "11 units of MUG-1 exceed the 10 outstanding."),
        ({"first": -1}, "Quantity must not be negative, got -1."),
        ({"first": 0}, "Nothing to receive."),
        ({999999: 1}, "Line 999999 is not on purchase order"),
    ],
)
def test_bad_receipts_write_nothing(order, merchant, quantities, message):
    order = _bring_to(order, S.SENT)
    first = order.lines.order_by("pk").first()
    resolved = {first.pk if key == "first" else key: value for key, value in quantities.items()}
    with pytest.raises(ValidationError) as error:
        services.purchase_order_receive(order=order, quantities=resolved)
    assert message in " ".join(m for ms in error.value.message_dict.values() for m in ms)
    order.refresh_from_db()
    assert order.status == S.SENT
    assert StockMovement.objects.count() == 0
    assert sum(order.lines.values_list("quantity_received", flat=True)) == 0


def test_only_drafts_can_be_edited(order):
    line = order.lines.order_by("pk").first()
    services.purchase_order_line_set_quantity(line=line, quantity=12)
    assert order.events.last().note == "MUG-1: 10 → 12"
    services.purchase_order_approve(order=order)
    line.refresh_from_db()
    with pytest.raises(IllegalTransition):
        services.purchase_order_line_set_quantity(line=line, quantity=3)


def test_purchase_order_needs_lines_of_the_same_merchant(merchant, product):
    other = ProductFactory()
    with pytest.raises(ValidationError) as error:
        services.purchase_order_create(
            merchant=merchant, supplier=product.supplier, lines=[PurchaseLineInput(other, 1)]
        )
    assert error.value.message_dict == {"product": [f"Product does not belong to merchant {merchant.slug}."]}
    with pytest.raises(ValidationError):
        services.purchase_order_create(merchant=merchant, supplier=product.supplier, lines=[])
    assert PurchaseOrder.objects.count() == 0
