"""The named signals read from the language model: each is a few label continuations.

A signal's score for a text is how much more likely the model finds its label words as the
continuation of the text and the prompt than of the prompt alone: pointwise mutual information,
in nats, of the label (the log of the summed probabilities of its words). Zero means the text says
nothing about the label; positive, that it points to it. A word is scored by its first token, which
keeps scoring to one vocabulary projection per text (a word's first token nearly fixes the rest).
"""

from __future__ import annotations

PROMPT = "\nIn short, this is about"

# The version goes into the model fingerprint: changing a prompt or a phrase makes stored scores stale.
LABELS_VERSION = "1"

LABELS: dict[str, tuple[str, ...]] = {
    "bulk_order": (" bulk", " wholesale", " event", " quantity"),
    "purchase_intent": (" buying", " order", " purchase"),
    "complaint_return": (" complaint", " refund", " return", " faulty"),
    "stockout_mention": (" stock", " restock", " availability"),
    "price_sensitivity": (" price", " discount", " cheaper"),
}

SIGNAL_NAMES: tuple[str, ...] = tuple(LABELS)
