"""Policy explanations: the stored English is rebuilt sentence by sentence, and the pages show it in the user's
language with the user's number format."""

import re
from decimal import Decimal

import pandas as pd
import pytest
from django.urls import reverse
from django.utils import translation

from backoffice import explanations
from backoffice.explanations import PolicyExplanations, explanation_sentences, policy_explanation
from backoffice.models import UserPreference
from forecasting import services
from forecasting.models import ProductPolicy, ProductPolicySettings, ReplenishmentSuggestion, SupplierBudget
from forecasting.policy.plan import _explain
from forecasting.selectors import policy_settings_for_merchant
from inventory.models import Product, Supplier
from tests.factories import MembershipFactory
from tests.forecasting.pipeline_data import QUICK_METHODS, TODAY, small_merchant

# the English sentences of an explanation, as the planner starts them
ENGLISH = re.compile(
    r"Cover \d+ periods|Reorder point -?\d|Position -?\d|Class \w*[.,]|No reorder pays|Expected over the next"
    r"|Budget: cut"
)

ROW = {
    "cover_periods": 21,
    "lead_time": 14,
    "lead_time_std": 3.0,
    "review_period": 7,
    "expected_cover_demand": 363.64,
    "reorder_point": 808.0,
    "safety_stock": 445.36,
    "cycle_service_level": 0.9871,
    "abc_xyz": "AX",
    "service_floor": 0.99,
    "floor_met": False,
    "position": 12.5,
    "on_hand": 20.0,
    "on_order": 0.0,
    "allocated": 7.5,
    "order_up_to": 1000.0,
    "unrounded_quantity": 987.5,
    "rounded_quantity": 990.0,
    "moq": 10.0,
    "case_pack": 6.0,
    "expected_cost_saved": -3.5,
    "expected_cost": 1234.567,
    "expected_fill_rate": 0.9712,
    "order_cost": 15.0,
    "shortage_cost": 6.0,
    "level_low": 0.8,
    "level_high": 2.5,
    "level_high_period": 4,
    "budget_note": (
        "Budget: cut from 990 to 600 units to fit the supplier 12 budget of 1500.00; this line saves 0.02 of expected "
        "cost per 1.00 spent, the least among the lines still ordered. Budget: cut from 600 to 300 units to fit the "
        "total budget of 750.00; this line saves -0.00 of expected cost per 1.00 spent, the least among the lines "
        "still ordered."
    ),
}
NO_FLOOR = {"service_floor": 0.0, "floor_met": True, "lead_time_std": 0.0, "budget_note": ""}
BRANCHES = {
    "waiting is cheaper, rounded, floor not met, two budget cuts": ROW,
    "ordering saves, not rounded": ROW | NO_FLOOR | {"rounded_quantity": 987.5, "expected_cost_saved": 26.48},
    "above the reorder point": ROW | NO_FLOOR | {"position": 900.0, "unrounded_quantity": 0.0, "rounded_quantity": 0.0},
    "do not reorder": ROW | {"reorder_point": -1.0, "safety_stock": float("nan"), "cycle_service_level": float("nan")},
    "floor met": ROW | {"floor_met": True, "budget_note": ""},
    "flat levels": ROW | NO_FLOOR | {"level_low": 1.0, "level_high": 1.05, "level_high_period": 0},
}


@pytest.mark.parametrize("row", BRANCHES.values(), ids=BRANCHES.keys())
def test_every_branch_of_the_planners_english_is_rebuilt_exactly(row):
    text = _explain(pd.Series(row), 63)

    with translation.override("en"):
        rebuilt = PolicyExplanations().render(text)

    assert rebuilt == text


def test_chinese_explanation_of_every_kind_of_sentence():
    text = _explain(pd.Series(ROW), 63)

    with translation.override("zh-hans"):
        chinese = policy_explanation(text)

    assert chinese == (
        "覆盖 21 个周期（交货期 14 ± 3 + 盘点周期 7）：预计需求 363.6。"
        "再订货点 808：每次盘点后库存位置至少为 809，即 445.4 件安全库存，在 98.7% 的情况下可覆盖整个覆盖期。"
        "AX 类，服务水平下限 99.0%。在所有测试的水平下都无法达到该下限；这是找到的最高满足率。"
        "库存位置 12.5（现有 20 + 在途 0 - 已分配 7.5）处于或低于再订货点：补货至 1000，即 987.5 件，"
        "按最小起订量 10、箱规 6 向上取整为 990 件；等到下次盘点再订货，预计成本反而低 3.50（静态策略）。"
        "未来 63 个周期的预计：成本 1234.57，满足率 97.1%。"
        "两个水平都随每次盘点覆盖期内的预测而变：在未来 63 个周期中为上述水平的 0.80 倍至 2.50 倍，"
        "在第 5 期的盘点时最高。"
        "预算：从 990 件削减到 600 件，以符合供应商 12 的预算 1500.00；此行每花费 1.00 可节省预计成本 0.02，"
        "是仍在订货的各行中最少的。"
        "预算：从 600 件削减到 300 件，以符合总预算 750.00；此行每花费 1.00 可节省预计成本 -0.00，"
        "是仍在订货的各行中最少的。"
    )


def test_figures_follow_the_locales_separators(settings):
    text = _explain(pd.Series(BRANCHES["do not reorder"]), 63)

    with translation.override("de"):
        german = policy_explanation(text)
    settings.USE_THOUSAND_SEPARATOR = True
    with translation.override("en"):
        grouped = policy_explanation(text)

    assert "expected demand 363,6. No reorder pays for itself within 63 periods" in german
    assert "(an order costs 15,00; a lost unit 6,00)" in german
    assert "Expected over the next 63 periods: cost 1,234.57, fill rate 97.1%." in grouped


@pytest.mark.parametrize(
    "text",
    [
        "Cover demand 14.2 plus safety stock 3.1 for Q0000.",  # not the planner's wording
        _explain(pd.Series(ROW), 63) + " A note added by hand.",
        _explain(pd.Series(ROW), 63).replace("Expected over", "Expected across"),
        "",
    ],
)
def test_text_in_another_wording_is_shown_as_stored(text):
    with translation.override("zh-hans"):
        shown = policy_explanation(text)

    assert (shown, explanation_sentences(text)) == (text, None)


@pytest.fixture
def published_run(db, settings):
    """A real pipeline run whose policies take every branch the pages must translate."""
    settings.FORECAST_ENGINE_METHODS = QUICK_METHODS
    merchant = small_merchant(products=7)  # P00-P02 hold a year of stock; P03-P06 have none
    beta = Supplier.objects.get(merchant=merchant, name="Beta")  # P01, P03, P05
    Supplier.objects.filter(pk=beta.pk).update(lead_time_std_days=Decimal("2"))
    SupplierBudget.objects.create(supplier=beta, amount=Decimal("1000"))
    policy_settings = policy_settings_for_merchant(merchant=merchant)
    policy_settings.service_floors = {"BY": 0.99}
    policy_settings.budget = Decimal("1500")
    policy_settings.save()
    # P05 loses little per lost unit, so its order saves the least per 1.00 spent: Beta's budget cuts it first
    # (without this, P03 and P05 save nearly the same per 1.00 and which goes first is a matter of sampling)
    ProductPolicySettings.objects.create(
        product=Product.objects.get(merchant=merchant, sku="P05"), shortage_cost=Decimal("1.00")
    )
    # ordering P06 costs far more than the lost sales it would save
    ProductPolicySettings.objects.create(
        product=Product.objects.get(merchant=merchant, sku="P06"),
        order_cost=Decimal("100000"),
        shortage_cost=Decimal("0.01"),
    )
    job = services.pipeline_start(merchant=merchant, queue=False, run_date=TODAY)
    job = services.pipeline_run_inline(job_id=job.pk)
    assert (job.status, job.error) == ("succeeded", "")
    return job


@pytest.mark.slow
def test_a_real_runs_explanations_are_rebuilt_in_english_and_shown_in_chinese(client, published_run):
    policies = {
        policy.product.sku: policy
        for policy in ProductPolicy.objects.filter(job=published_run).select_related("product")
    }
    suggestions = {
        suggestion.product.sku: suggestion
        for suggestion in ReplenishmentSuggestion.objects.filter(job=published_run).select_related("product")
    }

    # English: every stored explanation is rebuilt exactly, through every branch the run took
    with translation.override("en"):
        explain = PolicyExplanations()
        rebuilt = {sku: explain.render(policy.explanation) for sku, policy in policies.items()}
        rebuilt_suggestions = {sku: explain.render(s.explanation) for sku, s in suggestions.items()}
    assert rebuilt == {sku: policy.explanation for sku, policy in policies.items()}
    assert rebuilt_suggestions == {sku: suggestion.explanation for sku, suggestion in suggestions.items()}
    kinds = {
        sentence.message: sentence.values
        for policy in policies.values()
        for sentence in explanation_sentences(policy.explanation) or []
    }
    assert {
        explanations.COVER,
        explanations.COVER_WITH_SPREAD,
        explanations.DO_NOT_REORDER,
        explanations.REORDER_POINT,
        explanations.CLASS,
        explanations.CLASS_WITH_FLOOR,
        explanations.ABOVE_REORDER_POINT,
        explanations.ORDER_SAVES,
        explanations.ORDER_ROUNDED_SAVES,
        explanations.OUTLOOK,
        explanations.BUDGET_TOTAL,
        explanations.BUDGET_SUPPLIER,
    } <= set(kinds)
    assert sorted(suggestions) == ["P03", "P04"]  # the budgets cut P05 to nothing; P06 is not reordered

    # Chinese: the user's language is Chinese; the pages show the same figures in Chinese sentences
    user = MembershipFactory(merchant=published_run.merchant, role="buyer").user
    UserPreference.objects.create(user=user, language="zh-hans")
    client.force_login(user)
    slug = published_run.merchant.slug
    rounded, plain, not_reordered = policies["P03"], policies["P04"], policies["P06"]

    def page(name: str, **kwargs: object) -> str:
        response = client.get(reverse(name, kwargs={"merchant_slug": slug, **kwargs}))
        assert (response.status_code, response["Content-Language"]) == (200, "zh-hans")
        return response.content.decode()

    product_page = page("product-detail", product_id=rounded.product_id)
    not_reordered_page = page("product-detail", product_id=not_reordered.product_id)
    queue = page("suggestion-queue")
    suggestion_page = page("suggestion-detail", suggestion_id=suggestions["P03"].pk)

    rounded_reorder_point = (
        f"再订货点 {rounded.reorder_point:.0f}：每次盘点后库存位置至少为 {rounded.reorder_point + 1:.0f}，"
        f"即 {rounded.safety_stock:.1f} 件安全库存"
    )
    rounded_order = (
        f"库存位置 0（现有 0 + 在途 0 - 已分配 0）处于或低于再订货点：补货至 {rounded.order_up_to:.0f}，"
        f"即 {rounded.unrounded_quantity:.0f} 件，按最小起订量 1、箱规 6 向上取整为"
    )
    supplier_cut = f"件削减到 {rounded.order_quantity} 件，以符合供应商 {rounded.product.supplier_id} 的预算 1000.00；"
    plain_order = (
        f"补货至 {plain.order_up_to:.0f}，即 {plain.unrounded_quantity:.0f} 件；"
        f"现在订货而不是等待，可节省预计成本 {plain.expected_cost_saved:.2f}。"
    )
    total_cut = f"件削减到 {plain.order_quantity} 件，以符合总预算 1500.00；"
    horizon = kinds[explanations.OUTLOOK]["horizon"]
    do_not_reorder = (
        f"覆盖 12 个周期（交货期 5 + 盘点周期 7）：预计需求 {not_reordered.expected_demand:.1f}。"
        f"按这些成本，{horizon} 个周期内任何补货都无法收回成本（每次下单成本 100000.00；每缺货一件损失 0.01）：不补货。"
        "AX 类。"
    )
    assert len(ENGLISH.findall(rounded.explanation)) == 6  # the check below would find the English
    for html, fragments in [
        (product_page, [rounded_reorder_point, rounded_order, supplier_cut, "交货期 10 ± 2 + 盘点周期 7"]),
        (not_reordered_page, [do_not_reorder]),
        (queue, [rounded_reorder_point, rounded_order, supplier_cut, plain_order, total_cut]),
        (suggestion_page, [rounded_order, supplier_cut]),
    ]:
        assert [fragment for fragment in fragments if fragment not in html] == []
        assert ENGLISH.findall(html) == []
