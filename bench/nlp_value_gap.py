"""Where the forecast with texts falls short of the generator's rules, on the value benchmark's informative shop.

    nice -n 10 .venv/bin/python bench/nlp_value_gap.py [--seeds 0 1 2]

No language model: the head learns from what each text's words mean (``bench/nlp_value.py``'s "kinds known": the
generator's bulk / drop / chatter, one-hot), so what is left is how the signal is used, not how the words are read.
For each group of products, the sum over seeds' mean of their WRMSSE terms (weight x RMSSE, so the groups add up to
the WRMSSE) for the engine without and with texts and for ``nlp.signals.scenario.rules_forecast`` without and with
texts (a forecaster that knows the generator's rules, every product's true level, the events under way and, with
texts, which texts announce an event and which lead to nothing). Groups, in this order of precedence:

- ``announced bulk`` / ``announced drop``: an event announced by texts up to the origin that has not begun;
- ``announced, under way``: the event the last texts announce has begun by the origin;
- ``announced, over``: a product the generator announced an event for whose event has ended by the origin;
- ``under way``: another event under way at the origin; ``unannounced``: an event begins in the horizon that no text
  announced; ``quiet``: none of these.

Then the response check: the forecast with texts as ``without x (with / without) ** g``. If the engine responded too
weakly to the texts (attenuation), some ``g`` above 1 would gain much; if about right, little.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "2")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.nlp_value import HORIZON, as_matrices, known_kinds_signals  # noqa: E402
from forecasting.engine import forecast, metrics  # noqa: E402
from nlp.signals.features import text_features  # noqa: E402
from nlp.signals.scenario import Scenario, generate_scenario, rules_forecast  # noqa: E402

FORECASTS = ("engine without", "engine with", "rules without", "rules with")
RESPONSE_POWERS = (1.0, 1.25, 1.5, 2.0)
FLOOR = 1e-6  # keeps the response check's ratio finite where a forecast is 0


def product_groups(scenario: Scenario) -> list[str]:
    """Each product's group (see the module docstring), in item order."""
    origin = scenario.history["date"].nunique() - 1
    items = sorted(scenario.history["item_id"].unique())
    groups = []
    for index, item in enumerate(items):
        events = [event for event in scenario.events if event.item == index]
        pending = [e.kind for e in events if e.announced and e.announce <= origin < e.begin]
        under_way = [e for e in events if e.begin <= origin < e.begin + e.length]
        if pending:
            groups.append(f"announced {pending[-1]}")
        elif item in scenario.announced:
            groups.append("announced, under way" if any(e.announced for e in under_way) else "announced, over")
        elif under_way:
            groups.append("under way")
        elif any(origin < e.begin <= origin + HORIZON for e in events):
            groups.append("unannounced")
        else:
            groups.append("quiet")
    return groups


def wrmsse_terms(actual: np.ndarray, predicted: np.ndarray, insample: np.ndarray) -> np.ndarray:
    """Per product, its weight x RMSSE: the terms ``forecasting.engine.metrics.wrmsse`` adds up."""
    return metrics.wrmsse_weights(insample, HORIZON) * metrics.item_rmsse(actual, predicted, insample)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    arguments = parser.parse_args()
    rows = []
    response: dict[float, list[float]] = {power: [] for power in RESPONSE_POWERS}
    for seed in arguments.seeds:
        scenario = generate_scenario(informative=True, seed=seed, horizon=HORIZON)
        history, future = scenario.history, scenario.future
        actual, without, insample = as_matrices(history, future, forecast(history, horizon=HORIZON, freq="D").forecasts)
        features = text_features(known_kinds_signals(scenario), history).frame
        with_texts = forecast(history, horizon=HORIZON, freq="D", text_features=features).forecasts
        predictions = {
            "engine without": without,
            "engine with": as_matrices(history, future, with_texts)[1],
            "rules without": as_matrices(history, future, rules_forecast(scenario, with_texts=False))[1],
            "rules with": as_matrices(history, future, rules_forecast(scenario, with_texts=True))[1],
        }
        terms = {name: wrmsse_terms(actual, predicted, insample) for name, predicted in predictions.items()}
        for index, group in enumerate(product_groups(scenario)):
            rows.append({"seed": seed, "group": group, **{name: terms[name][index] for name in FORECASTS}})
        base = np.maximum(without, FLOOR)
        change = np.maximum(predictions["engine with"], FLOOR) / base
        for power in RESPONSE_POWERS:
            response[power].append(float(wrmsse_terms(actual, base * change**power, insample).sum()))
        print(f"seed {seed} done", flush=True)
    table = pd.DataFrame(rows)
    seeds = len(arguments.seeds)
    summary = table.groupby("group")[list(FORECASTS)].sum() / seeds
    summary["products per seed"] = table.groupby("group").size() / seeds
    summary.loc["total"] = summary.sum()
    with pd.option_context("display.width", 200):
        print(summary.to_string(float_format=lambda value: f"{value:.4f}"))
    print("response power g: WRMSSE of without x (with / without) ** g, and its ratio to without")
    plain = summary.loc["total", "engine without"]
    for power, totals in response.items():
        scaled = float(np.mean(totals))
        print(f"  g = {power:<5g} {scaled:.4f}  ratio {scaled / plain:.3f}")


if __name__ == "__main__":
    main()
