"""``bench.nlp_value_gap``: products grouped by what the texts and the generator's events say at the origin."""

import numpy as np
import pandas as pd

from bench.nlp_value_gap import HORIZON, product_groups, wrmsse_terms
from forecasting.engine import metrics
from nlp.signals.scenario import Event, Scenario


def _scenario(events: tuple[Event, ...], announced: list[str], history_days: int = 10) -> Scenario:
    items = [f"SKU-{index}" for index in range(7)]
    dates = pd.date_range("2025-01-01", periods=history_days + HORIZON, freq="D")
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "item_id": np.repeat(items, len(dates)),
            "date": np.tile(dates, len(items)),
            "quantity": rng.poisson(5.0, size=len(items) * len(dates)).astype(float),
        }
    )
    origin = dates[history_days - 1]
    return Scenario(
        history=frame[frame["date"] <= origin].reset_index(drop=True),
        future=frame[frame["date"] > origin].reset_index(drop=True),
        texts=pd.DataFrame(columns=["text_id", "item_id", "date", "text"]),
        products=pd.DataFrame({"item_id": items}),
        announced=announced,
        kinds=np.array([], dtype=object),
        events=events,
    )


def test_each_product_gets_the_first_group_that_applies_at_the_origin():
    # given: ten days of history (the origin is day 9) and one product per situation
    events = (
        Event(0, "bulk", announce=8, begin=11, length=3, factor=3.0, announced=True),  # announced, not begun
        Event(1, "drop", announce=7, begin=9, length=5, factor=0.3, announced=True),  # announced, begun on day 9
        Event(2, "bulk", announce=3, begin=5, length=3, factor=3.0, announced=True),  # announced, ended on day 7
        Event(3, "drop", announce=2, begin=8, length=5, factor=0.3, announced=False),  # under way, never announced
        Event(4, "bulk", announce=12, begin=15, length=3, factor=3.0, announced=False),  # begins in the horizon
        Event(6, "drop", announce=8, begin=10, length=7, factor=0.3, announced=False),  # begins the day after
    )

    groups = product_groups(_scenario(events, announced=["SKU-0", "SKU-1", "SKU-2"]))

    assert groups == [
        "announced bulk",
        "announced, under way",
        "announced, over",
        "under way",
        "unannounced",
        "quiet",
        "unannounced",
    ]


def test_the_terms_add_up_to_the_engines_wrmsse():
    scenario = _scenario((), announced=[], history_days=30)
    insample = scenario.history.pivot(index="item_id", columns="date", values="quantity").to_numpy()
    actual = scenario.future.pivot(index="item_id", columns="date", values="quantity").to_numpy()
    predicted = np.full(actual.shape, 5.0)

    terms = wrmsse_terms(actual, predicted, insample)

    assert terms.shape == (7,)
    assert np.isclose(terms.sum(), metrics.wrmsse(actual, predicted, insample, HORIZON), rtol=1e-12)
