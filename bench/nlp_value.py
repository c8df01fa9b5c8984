"""Value of customer texts for the forecast, on generated shops (``nlp.signals.scenario``).

For each scenario and seed: write H.csv (history), T.csv (texts up to the origin) and the actuals of the
14 days after; build the merchant's own model with ``manage.py nlp_build_model --texts T.csv --output DIR``;
then forecast with ``NLP_MODEL=DIR manage.py forecast_csv --history H.csv --texts T.csv ...`` and with the
same command without ``--texts``, and compare WRMSSE (the engine's own metric) on the actuals.

- informative: bulk/event enquiries come a few days before spikes, complaints and recall rumours before
  drops, mixed with chatter; the texts just before the origin use held-out phrasings (templates and
  fillers the head never trained on). Target: WRMSSE with texts <= 0.85 x without.
- uninformative: the same texts moved to random days. Target: <= 1.02 x.

Diagnostic columns. ``perfect``: the forecast with texts, as a ratio to the forecast without, when each
text's learned signal is replaced by the demand change that really followed it (what a perfect head would be
worth to the forecaster, in process). ``signal r``: ``extract_signals_csv --history H.csv`` on the same texts
and model, and the correlation, over the texts of the last days before the origin (the held-out phrasings in
the informative scenario), between their learned ``demand_change`` and the demand change that really followed them (the
head's own target, computed on history plus the actuals). It says whether the learned signal carries over
to phrasings the head never trained on, apart from how the forecaster uses it. ``kinds known``: the forecast with
texts, as a ratio to the forecast without, when the head learns from what each text's words mean (the generator's
bulk / drop / chatter, one-hot) instead of the language model's representation and scores: the same head,
targets and forecaster, with the words understood perfectly. Between it and ``perfect`` is what no reading of
the words can give (enquiries that lead to nothing, events of random size and timing); between ``ratio`` and it,
what the language model misses. ``oracle``: ``nlp.signals.scenario.rules_forecast`` with texts over without, the
same ratio for a forecaster that knows the generator's rules, every product's true level and the events under way,
and with texts which events they announce and when: what the texts add for a forecaster that knows all else. It is
not a bound on ``ratio``: a forecaster that knows less can gain more from the texts, which also tell it about the
events under way (the engine's ratio on seed 2 is below the oracle's).

When ``forecast_csv`` has no ``--texts`` option yet, the same two forecasts are made in process through
``forecasting.engine.forecast(..., text_features=nlp.signals.text_features_for_forecast(...))``, which is
what the option runs; the output says which path was used.

``--same-phrasings`` keeps the shop's usual phrasings to the end (a shop whose customers keep writing the way
they did): it shows how the forecaster uses a signal that carries over, apart from new wording. The target is
judged on the default, held-out phrasings.

    nice -n 10 .venv/bin/python bench/nlp_value.py [--seeds 0 1 2] [--size small] [--same-phrasings]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from forecasting.engine import forecast, metrics  # noqa: E402
from nlp.signals.features import LEARNED_SIGNAL, text_features, text_features_for_forecast  # noqa: E402
from nlp.signals.head import demand_change_targets, fit_head_on_history  # noqa: E402
from nlp.signals.scenario import Scenario, generate_scenario, rules_forecast  # noqa: E402

HORIZON = 14


def manage(*arguments: str, env: dict[str, str] | None = None) -> None:
    subprocess.run(
        [sys.executable, "manage.py", *arguments],
        cwd=ROOT,
        env=os.environ | {"PYTHONWARNINGS": "ignore"} | (env or {}),
        check=True,
        stdout=subprocess.DEVNULL,
    )


def forecast_csv_has_texts() -> bool:
    result = subprocess.run(
        [sys.executable, "manage.py", "forecast_csv", "--help"], cwd=ROOT, capture_output=True, text=True
    )
    return result.returncode == 0 and "--texts" in result.stdout


def as_matrices(
    history: pd.DataFrame, future: pd.DataFrame, forecasts: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(actual, predicted mean, insample)`` as items x periods, items in sorted order."""
    insample = history.pivot(index="item_id", columns="date", values="quantity").sort_index()
    actual = future.pivot(index="item_id", columns="date", values="quantity").loc[insample.index]
    predicted = forecasts.assign(date=pd.to_datetime(forecasts["date"]), item_id=forecasts["item_id"].astype(str))
    predicted = predicted.pivot(index="item_id", columns="date", values="mean").loc[insample.index, actual.columns]
    return actual.to_numpy(), predicted.to_numpy(), insample.to_numpy()


def wrmsse(history: pd.DataFrame, future: pd.DataFrame, forecasts: pd.DataFrame) -> float:
    actual, predicted, insample = as_matrices(history, future, forecasts)
    return float(metrics.wrmsse(actual, predicted, insample, HORIZON))


def extracted_signals(history_csv: Path, texts_csv: Path, model_dir: Path) -> pd.DataFrame:
    """What ``extract_signals_csv --history`` writes for the scenario's texts."""
    signals_csv = model_dir.parent / "S.csv"
    manage(
        "extract_signals_csv",
        "--texts",
        str(texts_csv),
        "--history",
        str(history_csv),
        "--model",
        str(model_dir),
        "--output",
        str(signals_csv),
    )
    return pd.read_csv(signals_csv, dtype={"text_id": str, "item_id": str}, parse_dates=["date"])


def realised_changes(scenario: Scenario, signals: pd.DataFrame) -> np.ndarray:
    """Per text, the demand change that really followed it: the head's own target on history plus actuals."""
    whole = pd.concat([scenario.history, scenario.future])
    return demand_change_targets(whole, signals["item_id"], signals["date"])


def signal_correlation(scenario: Scenario, signals: pd.DataFrame, realised: np.ndarray) -> float:
    """Correlation of the learned signal with the demand change that followed (``realised``), over the texts whose
    whole target window is after the origin (the last days; the head may learn from the partial outcomes of other
    products' texts there, never from their own); NaN when the command has no learned signal."""
    if LEARNED_SIGNAL not in signals.columns:
        return float("nan")
    seen = demand_change_targets(scenario.history, signals["item_id"], signals["date"])
    unseen = np.isnan(seen) & np.isfinite(realised)
    if unseen.sum() < 3:
        return float("nan")
    return float(np.corrcoef(signals[LEARNED_SIGNAL].to_numpy()[unseen], realised[unseen])[0, 1])


def wrmsse_with_signals(scenario: Scenario, signals: pd.DataFrame) -> float:
    """WRMSSE of the engine's forecast with ``signals`` (text_id,item_id,date,demand_change) as its text features."""
    frame = text_features(signals, scenario.history).frame
    forecasts = forecast(scenario.history, horizon=HORIZON, freq="D", text_features=frame).forecasts
    return wrmsse(scenario.history, scenario.future, forecasts)


def perfect_signal_wrmsse(scenario: Scenario, signals: pd.DataFrame, realised: np.ndarray) -> float:
    """The forecast with texts when every text's learned signal is replaced by the demand change that really
    followed it (``realised``): how much a perfect head would be worth to the forecaster."""
    if LEARNED_SIGNAL not in signals.columns:
        return float("nan")
    perfect = signals.assign(**{LEARNED_SIGNAL: np.nan_to_num(realised)})
    return wrmsse_with_signals(scenario, perfect)


def known_kinds_signals(scenario: Scenario) -> pd.DataFrame:
    """text_id,item_id,date,demand_change when the head learns from each text's kind (``Scenario.kinds``, one-hot)
    instead of the language model's representation."""
    kinds = np.unique(scenario.kinds)
    onehot = (scenario.kinds[:, None] == kinds[None, :]).astype(float)
    texts = scenario.texts
    fit = fit_head_on_history(onehot, scenario.history, texts["item_id"], texts["date"])
    return texts[["text_id", "item_id", "date"]].assign(**{LEARNED_SIGNAL: fit.predictions})


def known_kinds_wrmsse(scenario: Scenario) -> float:
    """The forecast with texts on ``known_kinds_signals``: what a perfect reading of the words would be worth."""
    return wrmsse_with_signals(scenario, known_kinds_signals(scenario))


def oracle(scenario: Scenario) -> tuple[float, float]:
    """WRMSSE of ``rules_forecast`` with texts and without."""
    with_texts = wrmsse(scenario.history, scenario.future, rules_forecast(scenario, with_texts=True))
    return with_texts, wrmsse(scenario.history, scenario.future, rules_forecast(scenario, with_texts=False))


def run(
    informative: bool,
    seed: int,
    size: str,
    max_seconds: float,
    workdir: Path,
    use_command: bool,
    same_phrasings: bool = False,
) -> tuple[float, float, float, float, float, tuple[float, float]]:
    scenario = generate_scenario(
        informative=informative, seed=seed, horizon=HORIZON, heldout_phrasings=not same_phrasings
    )
    name = f"{'informative' if informative else 'uninformative'}{'-same' if same_phrasings else ''}-{seed}"
    folder = workdir / name
    folder.mkdir(parents=True, exist_ok=True)
    history_csv, texts_csv, model_dir = folder / "H.csv", folder / "T.csv", folder / "model"
    scenario.history.assign(date=scenario.history["date"].dt.strftime("%Y-%m-%d")).to_csv(history_csv, index=False)
    scenario.texts.assign(date=scenario.texts["date"].dt.strftime("%Y-%m-%d")).to_csv(texts_csv, index=False)
    if not (model_dir / "config.json").exists():
        manage(
            "nlp_build_model",
            "--texts",
            str(texts_csv),
            "--output",
            str(model_dir),
            "--size",
            size,
            "--max-seconds",
            str(max_seconds),
        )
    signals = extracted_signals(history_csv, texts_csv, model_dir)
    realised = realised_changes(scenario, signals)
    correlation = signal_correlation(scenario, signals, realised)
    perfect = perfect_signal_wrmsse(scenario, signals, realised)
    known = known_kinds_wrmsse(scenario)
    results = []
    for with_texts in (False, True):
        if use_command:
            output = folder / f"forecast-{'texts' if with_texts else 'plain'}.csv"
            extra = ["--texts", str(texts_csv)] if with_texts else []
            manage(
                "forecast_csv",
                "--history",
                str(history_csv),
                "--horizon",
                str(HORIZON),
                "--freq",
                "D",
                "--output",
                str(output),
                *extra,
                env={"NLP_MODEL": str(model_dir)},
            )
            forecasts = pd.read_csv(output)
        else:
            text_frame = None
            if with_texts:
                text_frame = text_features_for_forecast(scenario.texts, scenario.history, model=str(model_dir)).frame
            forecasts = forecast(scenario.history, horizon=HORIZON, freq="D", text_features=text_frame).forecasts
        results.append(wrmsse(scenario.history, scenario.future, forecasts))
    return results[0], results[1], correlation, perfect, known, oracle(scenario)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--size", default="small", help="nlp_build_model --size")
    parser.add_argument("--max-seconds", type=float, default=300, help="nlp_build_model --max-seconds")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument(
        "--same-phrasings",
        action="store_true",
        help="the last days use the shop's usual phrasings instead of held-out ones (a diagnostic, not the target)",
    )
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="nlp-value-"))
    use_command = forecast_csv_has_texts()
    print(f"path: {'forecast_csv --texts' if use_command else 'in process (forecast_csv has no --texts yet)'}")
    print(
        f"{'scenario':16s}{'seed':>6s}{'without':>10s}{'with':>10s}{'ratio':>8s}{'signal r':>10s}{'perfect':>9s}"
        f"{'kinds known':>13s}{'oracle':>9s}{'seconds':>9s}"
    )
    for informative, target in ((True, 0.85), (False, 1.02)):
        without_all, with_all, known_all, oracles = [], [], [], []
        for seed in args.seeds:
            started = time.perf_counter()
            without, with_texts, correlation, perfect, known, rules = run(
                informative, seed, args.size, args.max_seconds, workdir, use_command, args.same_phrasings
            )
            without_all.append(without)
            with_all.append(with_texts)
            known_all.append(known)
            oracles.append(rules)
            name = "informative" if informative else "uninformative"
            print(
                f"{name:16s}{seed:6d}{without:10.4f}{with_texts:10.4f}{with_texts / without:8.3f}"
                f"{correlation:10.3f}{perfect / without:9.3f}{known / without:13.3f}{rules[0] / rules[1]:9.3f}"
                f"{time.perf_counter() - started:9.0f}",
                flush=True,
            )
        ratio = float(np.mean(with_all) / np.mean(without_all))
        verdict = "met" if ratio <= target else "NOT met"
        print(
            f"{'':16s}{'mean':>6s}{np.mean(without_all):10.4f}{np.mean(with_all):10.4f}{ratio:8.3f}"
            f"   target <= {target}: {verdict}; kinds known {np.mean(known_all) / np.mean(without_all):.3f};"
            f" oracle {np.mean([pair[0] for pair in oracles]) / np.mean([pair[1] for pair in oracles]):.3f}"
        )


if __name__ == "__main__":
    main()
