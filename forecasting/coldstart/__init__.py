"""Cold start: forecasts for products with little or no sales history, from their most similar products.

Pure numpy/pandas, no Django. The steps, each in its own module:

- ``references``: every product with history as a reference, its units over its own first N weeks on sale
  (age-aligned) and how long it has been observed (``reference_units``).
- ``similarity``: the nearest references of each new product from a similarity matrix (``nearest``).
- ``estimate``: the estimate in log(1 + units) space, the weighted median of the neighbours' units after a
  price adjustment fitted on the references (``fit_price_elasticity``, ``coldstart_estimate``), and its blend
  into a product's own history as that accumulates (``blend_with_history``); with several similarity views
  (TF-IDF, language model), their estimates averaged in log space (``combine_estimates``).
- ``frame``: a probabilistic forecast frame from those rates for the policy (``coldstart_forecast_frame``).

The similarity matrix comes from ``nlp.representations`` (language-model and TF-IDF product representations).
"""

from __future__ import annotations

from forecasting.coldstart.estimate import (
    BlendedEstimate,
    ColdStartConfig,
    ColdStartEstimate,
    blend_with_history,
    coldstart_estimate,
    coldstart_forecast,
    combine_estimates,
    fit_price_elasticity,
)
from forecasting.coldstart.frame import coldstart_forecast_frame
from forecasting.coldstart.references import ReferenceUnits, own_history_units, reference_units
from forecasting.coldstart.similarity import Neighbours, nearest

__all__ = [
    "BlendedEstimate",
    "ColdStartConfig",
    "ColdStartEstimate",
    "Neighbours",
    "ReferenceUnits",
    "blend_with_history",
    "coldstart_estimate",
    "coldstart_forecast",
    "coldstart_forecast_frame",
    "combine_estimates",
    "fit_price_elasticity",
    "nearest",
    "own_history_units",
    "reference_units",
]
