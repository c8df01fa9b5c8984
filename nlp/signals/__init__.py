"""Demand signals from customer texts: pure numpy/pandas/torch, no Django.

- ``loading``: a causal LM by hub id or directory, once per process (``load_language_model``).
- ``scoring``: named label-continuation scores and pooled representations (``score_texts``).
- ``head``: the learned head from representations and scores to the demand change that followed.
- ``features``: per-text signals (``extract_signals``) and per-product, per-period engine features
  (``text_features``, ``text_features_for_forecast``).
- ``building``: a small GPT-2 trained offline on a merchant's own texts (``build_language_model``).
- ``matching``: texts to catalogue products; ``scenario``: the generated shop used by the benchmarks.
"""
