"""Engine settings and the choice of cheaper settings for large inputs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import pandas as pd

from forecasting.engine.errors import InputError

STATISTICAL_METHODS = ("naive", "seasonal_naive", "ets", "croston_sba", "tsb", "adida")
# The global gradient-boosted model, trained on a squared loss ("gbm") or on a Tweedie loss ("gbm_tweedie", suited
# to intermittent, zero-heavy demand); both forecast the mean.
GBM_METHODS = ("gbm", "gbm_tweedie")
ALL_METHODS = (*STATISTICAL_METHODS, *GBM_METHODS)


@dataclass(frozen=True)
class EngineConfig:
    """How hard the engine works. ``None`` fields are chosen from the input size by ``resolve``.

    methods: the candidate methods; selection among them and their averages is decided by backtest.
    folds: rolling-origin backtest windows (each ``horizon`` long) used to select and calibrate.
    n_jobs: threads for LightGBM.
    gbm_max_rows: training rows for the global model; origins are subsampled to stay under it.
    ets_window: AutoETS sees at most this many recent periods (it is the slowest method).
    min_segment_items: a demand segment with fewer items uses the selection made over all items.
    job_items: when the input is one chunk of a larger job (the pipeline forecasts a catalogue chunk by chunk),
        the number of items in the whole job: the large-input settings follow the job, so every chunk works as
        hard per item as one call over the whole catalogue would.
    """

    methods: tuple[str, ...] = ALL_METHODS
    folds: int | None = None
    n_jobs: int = 2
    seed: int = 0
    gbm_max_rows: int | None = None
    gbm_rounds: int | None = None
    gbm_learning_rate: float = 0.08
    gbm_leaves: int = 31
    ets_window: int | None = None
    max_combination_size: int = 3
    min_segment_items: int = 30
    large_input_cells: int = 2_000_000
    large_rows_per_item: int = 60
    job_items: int | None = None

    def resolve(self, *, items: int, periods: int) -> EngineConfig:
        """Fill the ``None`` settings. Large inputs (items x periods above ``large_input_cells``, counting the
        whole job's items when ``job_items`` is set) drop AutoETS and the squared-loss global model (when the
        Tweedie one is a candidate), backtest on one fold and train the global model on fewer rounds and on at
        most ``large_rows_per_item`` rows per item (600,000 in all), so that 10,000 daily series of two years
        forecast in minutes on two cores, in one call or in chunks."""
        unknown = [method for method in self.methods if method not in ALL_METHODS]
        if unknown or not self.methods:
            raise InputError(f"methods: expected some of {', '.join(ALL_METHODS)}, got {list(self.methods)}.")
        large = max(items, self.job_items or 0) * periods > self.large_input_cells
        large_rows = min(600_000, self.large_rows_per_item * items)
        methods = self.methods
        if large and self.folds is None:
            # one global model is enough at scale: the Tweedie one, the better single choice on the real data sets
            dropped = {"ets", "gbm"} if "gbm_tweedie" in methods else {"ets"}
            methods = tuple(method for method in methods if method not in dropped)
        return replace(
            self,
            methods=methods,
            folds=self.folds if self.folds is not None else (1 if large else 2),
            gbm_max_rows=self.gbm_max_rows if self.gbm_max_rows is not None else (large_rows if large else 400_000),
            gbm_rounds=self.gbm_rounds if self.gbm_rounds is not None else (120 if large else 250),
            ets_window=self.ets_window if self.ets_window is not None else 150,
        )


def season_length(freq: str) -> int:
    """The main seasonal cycle in periods: 7 for daily, 52 for weekly, 12 for monthly, 4 for quarterly, else 1."""
    offset = pd.tseries.frequencies.to_offset(freq)
    name = offset.name.split("-")[0] if offset.name else ""
    multiple = offset.n
    if name == "D":
        return 7 if multiple == 1 else 1
    if name in {"B", "C"}:
        return 5 if multiple == 1 else 1
    if name == "W":
        return 52 if multiple == 1 else max(1, 52 // multiple)
    if name in {"MS", "ME", "M", "SMS", "BMS", "BME", "BM"}:
        return 12 if multiple == 1 else max(1, 12 // multiple)
    if name in {"QS", "QE", "Q", "BQS", "BQE", "BQ"}:
        return 4 if multiple == 1 else 1
    if name in {"h", "H"}:
        return 24 if multiple == 1 else 1
    return 1


def check_quantiles(quantiles: Sequence[float]) -> tuple[float, ...]:
    values = tuple(float(value) for value in quantiles)
    if not values:
        raise InputError("quantiles: the list is empty.")
    if any(not 0 < value < 1 for value in values):
        raise InputError(f"quantiles: every quantile must be strictly between 0 and 1, got {list(values)}.")
    if len(set(values)) != len(values):
        raise InputError(f"quantiles: duplicate values in {list(values)}.")
    return tuple(sorted(values))
