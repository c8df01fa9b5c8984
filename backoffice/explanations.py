"""Replenishment explanations in the reader's language.

The planner (``forecasting.policy.plan._explain``, plus the budget notes of ``forecasting.policy.budget``) writes
each policy's explanation in English, and that text is the API's and the CSV's contract. The pages show it in the
active language instead: the stored sentence is read back into the sentence kinds below, which are the planner's
own English wording with named placeholders, and every sentence is translated with its numbers in the active
locale. ``ProductPolicy.details`` cannot be used for this: it holds only the plan's output columns, not the inputs
the sentence also quotes (lead time and its spread, review period, on hand, on order, allocated, MOQ, case pack,
order and shortage costs, the quantity after rounding, whether the service floor is met) nor the budget notes
added at publishing. A text that is not in this wording (older runs, hand-made rows) is shown as stored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.utils import formats
from django.utils.translation import gettext, gettext_noop

# Each sentence kind is the planner's English with the figures as placeholders, so the same string parses the
# stored text and is the msgid of the translation. Keep them in step with ``_explain`` and ``apply_budget``: the
# page tests rebuild the English of a real run and fail when a sentence no longer matches.
COVER = gettext_noop(
    "Cover %(cover)s periods (lead time %(lead_time)s + review %(review)s): expected demand %(demand)s."
)
COVER_WITH_SPREAD = gettext_noop(
    "Cover %(cover)s periods (lead time %(lead_time)s ± %(spread)s + review %(review)s): expected demand %(demand)s."
)
DO_NOT_REORDER = gettext_noop(
    "No reorder pays for itself within %(horizon)s periods at these costs (an order costs %(order_cost)s; "
    "a lost unit %(shortage_cost)s): do not reorder."
)
REORDER_POINT = gettext_noop(
    "Reorder point %(reorder_point)s: after a review the position is at least %(minimum_position)s, a safety stock "
    "of %(safety_stock)s units that covers the whole cover period in %(service_level)s%% of cases."
)
CLASS = gettext_noop("Class %(abc_xyz)s.")
CLASS_WITH_FLOOR = gettext_noop("Class %(abc_xyz)s, service floor %(service_floor)s%%.")
FLOOR_NOT_MET = gettext_noop("The floor cannot be met at any tested level; this is the highest fill rate found.")
ABOVE_REORDER_POINT = gettext_noop(
    "Position %(position)s (on hand %(on_hand)s + on order %(on_order)s - allocated %(allocated)s) "
    "is above the reorder point: no order now."
)
ORDER_SAVES = gettext_noop(
    "Position %(position)s (on hand %(on_hand)s + on order %(on_order)s - allocated %(allocated)s) "
    "is at or below it: order up to %(order_up_to)s, %(quantity)s units; "
    "ordering now rather than waiting saves %(saved)s of expected cost."
)
ORDER_ROUNDED_SAVES = gettext_noop(
    "Position %(position)s (on hand %(on_hand)s + on order %(on_order)s - allocated %(allocated)s) "
    "is at or below it: order up to %(order_up_to)s, %(quantity)s units, "
    "rounded up to %(rounded)s (MOQ %(moq)s, case pack %(case_pack)s); "
    "ordering now rather than waiting saves %(saved)s of expected cost."
)
ORDER_WAITING_CHEAPER = gettext_noop(
    "Position %(position)s (on hand %(on_hand)s + on order %(on_order)s - allocated %(allocated)s) "
    "is at or below it: order up to %(order_up_to)s, %(quantity)s units; "
    "waiting for the next review would cost %(less)s less in expectation (a static policy)."
)
ORDER_ROUNDED_WAITING_CHEAPER = gettext_noop(
    "Position %(position)s (on hand %(on_hand)s + on order %(on_order)s - allocated %(allocated)s) "
    "is at or below it: order up to %(order_up_to)s, %(quantity)s units, "
    "rounded up to %(rounded)s (MOQ %(moq)s, case pack %(case_pack)s); "
    "waiting for the next review would cost %(less)s less in expectation (a static policy)."
)
OUTLOOK = gettext_noop("Expected over the next %(horizon)s periods: cost %(cost)s, fill rate %(fill_rate)s%%.")
LEVELS_FOLLOW = gettext_noop(
    "Both levels follow the forecast over each review's cover period: from %(low)sx to %(high)sx these over the "
    "next %(horizon)s periods, highest at the review in period %(period)s."
)
BUDGET_TOTAL = gettext_noop(
    "Budget: cut from %(before)s to %(after)s units to fit the total budget of %(budget)s; this line saves "
    "%(ratio)s of expected cost per %(per)s spent, the least among the lines still ordered."
)
BUDGET_SUPPLIER = gettext_noop(
    "Budget: cut from %(before)s to %(after)s units to fit the supplier %(supplier)s budget of %(budget)s; "
    "this line saves %(ratio)s of expected cost per %(per)s spent, the least among the lines still ordered."
)
# Translators: joins two sentences of an explanation; languages written without spaces leave the space out.
NEXT_SENTENCE = gettext_noop("%(sentence)s %(next_sentence)s")

# The order of the sentences in an explanation: a choice of kinds per step, optional steps marked.
_BRANCHES = (
    (
        ((COVER, COVER_WITH_SPREAD), False),
        ((DO_NOT_REORDER,), False),
        ((CLASS, CLASS_WITH_FLOOR), False),
        ((FLOOR_NOT_MET,), True),
        ((OUTLOOK,), False),
    ),
    (
        ((COVER, COVER_WITH_SPREAD), False),
        ((REORDER_POINT,), False),
        ((CLASS, CLASS_WITH_FLOOR), False),
        ((FLOOR_NOT_MET,), True),
        (
            (
                ABOVE_REORDER_POINT,
                ORDER_SAVES,
                ORDER_ROUNDED_SAVES,
                ORDER_WAITING_CHEAPER,
                ORDER_ROUNDED_WAITING_CHEAPER,
            ),
            False,
        ),
        ((OUTLOOK,), False),
        ((LEVELS_FOLLOW,), True),
    ),
)
# Budget notes follow the rest, one per budget that cut the line.
_NOTES = (BUDGET_TOTAL, BUDGET_SUPPLIER)

_NUMBER = r"-?(?:\d+(?:\.\d+)?(?:e[-+]\d+)?|inf|nan)"
_WORDS = {"abc_xyz": r"[^,.]*", "supplier": r".+?"}
# "1.00" in the budget note is a figure, localised like the others, but always the same one.
_FIXED = {"per": re.escape("1.00")}
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")
_PLAIN_NUMBER = re.compile(r"-?\d+(?:\.(\d+))?")


def _pattern(message: str) -> re.Pattern[str]:
    parts = []
    position = 0
    for found in _PLACEHOLDER.finditer(message):
        parts.append(re.escape(message[position : found.start()].replace("%%", "%")))
        name = found.group(1)
        parts.append(f"(?P<{name}>{_FIXED.get(name) or _WORDS.get(name) or _NUMBER})")
        position = found.end()
    parts.append(re.escape(message[position:].replace("%%", "%")))
    return re.compile("".join(parts))


_KINDS = [message for branch in _BRANCHES for kinds, _optional in branch for message in kinds] + list(_NOTES)
_PATTERNS = {message: _pattern(message) for message in _KINDS}


@dataclass(frozen=True)
class Sentence:
    """One sentence of a stored explanation: its kind (the English msgid) and its figures as the planner wrote them."""

    message: str
    values: dict[str, str]


def _match(text: str, position: int, kinds: tuple[str, ...]) -> tuple[Sentence, int] | None:
    """A sentence of one of ``kinds`` at ``position``, after the space that follows the sentence before, if any."""
    if position:
        if not text.startswith(" ", position):
            return None
        position += 1
    for message in kinds:
        found = _PATTERNS[message].match(text, position)
        if found:
            return Sentence(message, found.groupdict()), found.end()
    return None


def _sentences_of_branch(text: str, branch: tuple[tuple[tuple[str, ...], bool], ...]) -> list[Sentence] | None:
    sentences: list[Sentence] = []
    position = 0
    for kinds, optional in branch:
        found = _match(text, position, kinds)
        if found is None and not optional:
            return None
        if found is not None:
            sentence, position = found
            sentences.append(sentence)
    while position < len(text):
        found = _match(text, position, _NOTES)
        if found is None:
            return None
        sentence, position = found
        sentences.append(sentence)
    return sentences


def explanation_sentences(text: str) -> list[Sentence] | None:
    """The sentences of a stored explanation, or None when the text is not in the planner's wording."""
    for branch in _BRANCHES:
        sentences = _sentences_of_branch(text, branch)
        if sentences is not None:
            return sentences
    return None


class PolicyExplanations:
    """Renders stored explanations in the active language.

    Make one per page: the translations and the locale's separators are read once, because the approval queue
    renders thousands of explanations and Django's ``number_format`` per figure would cost a fifth of a second.
    """

    def __init__(self) -> None:
        messages = [*_PATTERNS, NEXT_SENTENCE]
        self.translations = {message: gettext(message) for message in messages}
        self.decimal = str(formats.get_format("DECIMAL_SEPARATOR"))
        self.grouped = bool(settings.USE_THOUSAND_SEPARATOR)
        self.is_plain = self.decimal == "." and not self.grouped  # figures are shown as the planner wrote them
        self.is_unchanged = self.is_plain and all(message == self.translations[message] for message in messages)

    def __call__(self, text: str) -> str:
        """``text`` in the active language, or as stored when it is not in the planner's wording."""
        if self.is_unchanged:
            return text  # English: rendering gives the stored text back
        rendered = self.render(text)
        return text if rendered is None else rendered

    def render(self, text: str) -> str | None:
        """``text`` rebuilt sentence by sentence in the active language; None when not in the planner's wording."""
        sentences = explanation_sentences(text)
        if sentences is None:
            return None
        rendered = [self.sentence(sentence) for sentence in sentences]
        result = rendered[0]
        for next_sentence in rendered[1:]:
            result = self.translations[NEXT_SENTENCE] % {"sentence": result, "next_sentence": next_sentence}
        return result

    def sentence(self, sentence: Sentence) -> str:
        """One sentence translated, with its figures in the active locale."""
        values = sentence.values
        if not self.is_plain:
            values = {name: value if name in _WORDS else self.number(value) for name, value in values.items()}
        return self.translations[sentence.message] % values

    def number(self, text: str) -> str:
        """A figure as the planner wrote it, with the same digits in the active locale's separators."""
        if not self.grouped:
            return text.replace(".", self.decimal)
        plain = _PLAIN_NUMBER.fullmatch(text)
        if plain is None:
            return text  # nan, inf and exponents stay as written
        # the sign is kept as written: number_format turns -0.00 into 0.00
        sign = "-" if text.startswith("-") else ""
        places = len(plain.group(1) or "")
        return sign + formats.number_format(Decimal(text.lstrip("-")), decimal_pos=places, use_l10n=True)


def policy_explanation(text: str) -> str:
    """One stored explanation in the active language (see ``PolicyExplanations`` for many)."""
    return PolicyExplanations()(text)
