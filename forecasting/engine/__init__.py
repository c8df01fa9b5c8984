"""The forecasting engine: pure numpy/pandas, no Django imports.

``forecast`` returns per-item forecasts with calibrated quantiles; ``backtest`` scores the candidate
methods on rolling origins. See README.md in this folder for the methods and the large-input settings.
The model libraries (statsforecast, LightGBM) load on first use, so that input checks stay fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from forecasting.engine.config import EngineConfig
from forecasting.engine.errors import InputError

if TYPE_CHECKING:
    from forecasting.engine.core import BacktestResult, ForecastResult, backtest, forecast, quantile_column

_LAZY = {"BacktestResult", "ForecastResult", "backtest", "forecast", "quantile_column"}

__all__ = ["BacktestResult", "EngineConfig", "ForecastResult", "InputError", "backtest", "forecast", "quantile_column"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from forecasting.engine import core

        return getattr(core, name)
    raise AttributeError(f"module 'forecasting.engine' has no attribute {name!r}")
