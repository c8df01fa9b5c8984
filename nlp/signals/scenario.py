"""A generated shop where some demand shifts are announced by customer texts a few days ahead.

Used by the value benchmark and the tests. Bulk or event enquiries come before spikes, complaints
and recall rumours before drops, mixed with chatter that means nothing; some events come unannounced
and some enquiries lead to nothing. Phrasings come from two disjoint template pools: ``train`` for
texts the learned head can be trained on, ``heldout`` for the texts just before the forecast origin
(whose consequences are what is evaluated), so the method is judged on phrasings it has not seen.
With ``informative=False`` the same kinds of texts are written at random times, unrelated to demand.

``rules_forecast`` is the forecast of someone who knows the generator's rules, every product's true level
and weekly pattern, the events under way at the origin and, with texts, which events the last texts announce:
the ratio of its WRMSSE with texts to without is what the texts add for a forecaster that knows all else.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

ADJECTIVES = ["Blue", "Oak", "Linen", "Copper", "Ceramic", "Glass", "Bamboo", "Velvet", "Marble", "Wool", "Enamel"]
NOUNS = [
    "mug",
    "teapot",
    "candle",
    "serving board",
    "vase",
    "cushion",
    "lantern",
    "tote bag",
    "notebook",
    "jug",
    "photo frame",
    "coaster set",
    "picnic blanket",
    "wine glass",
    "planter",
]

POOLS: dict[str, dict[str, list[str]]] = {
    "bulk": {
        "train": [
            "Hi, could I order {qty} of the {product} for our {event} {when}?",
            "We are planning a {event} and need {qty} {product}s, can you supply that many?",
            "Looking to buy {qty} units of {product} for a {event} {when}",
            "Do you offer a bulk price on {qty} x {product}? It's for our {event}.",
            "Our office wants {qty} {product} for the {event}, please confirm you have stock",
            "Need {qty} {product} as favours for a {event} {when}, is that doable?",
        ],
        "heldout": [
            "Is it possible to reserve {qty} {product} ahead of the {event} {when}?",
            "{event} coming up {when} - we'd take {qty} of your {product} if you have them",
            "Can you handle a large order, around {qty} pieces of the {product}, for a {event}?",
            "Wholesale enquiry: {qty} {product} wanted for a {event}, delivery {when}",
            "Buying for a group ({event}), we'll need {qty} {product}. Can you do it?",
        ],
    },
    "drop": {
        "train": [
            "My {product} arrived {defect}, I want a refund",
            "Returning the {product}, it {failure} after two days",
            "Heard there is a recall on the {product}, is it safe to use?",
            "Terrible quality, the {product} {failure} after one use",
            "Warning to others: the {product} is {defect}, avoid",
            "Complaint: {product} {failure}, please send a return label",
        ],
        "heldout": [
            "Is it true the {product} is being withdrawn for safety reasons?",
            "Second {product} in a row that came {defect}. Sending it back.",
            "Saw a post saying the {product} can be dangerous - what's going on?",
            "Very disappointed, the {product} {failure}, I need my money back",
            "Reporting a fault: {product} {failure} on first use. Not happy.",
        ],
    },
    "chatter": {
        "train": [
            "Love the colour of the {product}",
            "Does the {product} come in green?",
            "Delivery was quick, thanks",
            "Is the {product} dishwasher safe?",
            "Bought one {product} as a gift, looks nice",
            "Can I change my delivery address?",
            "What are the dimensions of the {product}?",
            "Nice packaging on the {product}",
        ],
        "heldout": [
            "How heavy is the {product}?",
            "The {product} matches my kitchen perfectly",
            "Do you ship to Ireland?",
            "Got my {product} today, exactly as pictured",
            "Is there a gift wrap option for the {product}?",
            "What time does the shop open on Saturday?",
        ],
    },
}

# Per kind of event: days from the announcement to the start, length in days, and the demand factor; the two
# ranges of whole days are half-open, as ``Generator.integers`` draws them; the factor is drawn uniformly.
EVENT_RULES: dict[str, tuple[tuple[int, int], tuple[int, int], tuple[float, float]]] = {
    "bulk": ((2, 6), (3, 7), (2.5, 5.0)),
    "drop": ((1, 4), (7, 15), (0.15, 0.4)),
}

SLOTS: dict[str, dict[str, list[str]]] = {
    "qty": {
        "train": ["150", "200", "80", "120", "300", "a hundred", "sixty"],
        "heldout": ["250", "90", "two hundred", "a few dozen", "140", "400"],
    },
    "event": {
        "train": ["wedding", "conference", "school fair", "birthday party", "corporate dinner", "christening"],
        "heldout": ["charity gala", "wedding", "team offsite", "festival", "conference", "graduation"],
    },
    "when": {
        "train": ["next week", "this weekend", "in a few days", "on Saturday"],
        "heldout": ["on Friday", "early next week", "in a couple of days", "this coming weekend"],
    },
    "defect": {
        "train": ["broken", "cracked", "damaged", "chipped"],
        "heldout": ["shattered", "cracked", "dented", "scratched"],
    },
    "failure": {
        "train": ["cracked", "stopped working", "started leaking", "fell apart"],
        "heldout": ["snapped", "broke", "started leaking", "overheated"],
    },
}


@dataclass(frozen=True)
class Event:
    """A demand shift: ``factor`` times the usual demand for ``length`` days from day ``begin`` (days count from
    the first day of history); ``announced`` when texts written up to the origin say it is coming."""

    item: int
    kind: str
    announce: int
    begin: int
    length: int
    factor: float
    announced: bool


@dataclass(frozen=True)
class Scenario:
    """``history`` and ``future`` (item_id,date,quantity) split at the origin; ``texts``
    (text_id,item_id,date,text) up to the origin; ``products`` (item_id,name,description);
    ``announced``: items with an announced event in the horizon; ``kinds``: per row of ``texts``, what its words
    mean (``bulk``, ``drop`` or ``chatter``: the pool its template came from), whether or not demand followed;
    ``events``: every demand shift drawn, in history and horizon; ``level`` (per item) and ``weekly`` (items x days of
    history and horizon): the usual demand is ``level x weekly``, the generator's truth behind ``rules_forecast``."""

    history: pd.DataFrame
    future: pd.DataFrame
    texts: pd.DataFrame
    products: pd.DataFrame
    announced: list[str]
    kinds: np.ndarray
    events: tuple[Event, ...] = ()
    level: np.ndarray = field(default_factory=lambda: np.zeros(0))
    weekly: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))


def _fill(template: str, product: str, pool: str, rng: np.random.Generator) -> str:
    values = {name: str(rng.choice(options[pool])) for name, options in SLOTS.items()}
    return template.format(product=product.lower(), **values)


def sample_text(kind: str, product: str, pool: str, rng: np.random.Generator) -> str:
    """One text of ``kind`` (bulk, drop, chatter) about ``product`` from the ``pool`` (train, heldout) phrasings."""
    return _fill(str(rng.choice(POOLS[kind][pool])), product, pool, rng)


def generate_scenario(
    *,
    items: int = 40,
    days: int = 400,
    horizon: int = 14,
    informative: bool = True,
    seed: int = 0,
    heldout_days: int = 7,
    heldout_phrasings: bool = True,
    announced_share: float = 0.45,
    chatter_rate: float = 0.12,
    start: str = "2025-01-01",
) -> Scenario:
    """A scenario of ``items`` products over ``days`` of history plus ``horizon`` days to forecast.

    With ``heldout_phrasings=False`` the last ``heldout_days`` use the same phrasings as the rest: a shop
    whose customers keep writing the way they did, which separates how well the learned signal carries
    over to new wording from how well the forecaster uses a signal that does carry over."""
    rng = np.random.default_rng(seed)
    total = days + horizon
    dates = pd.date_range(start, periods=total, freq="D")
    names = []
    for index in range(items):
        name = f"{ADJECTIVES[index % len(ADJECTIVES)]} {NOUNS[(index * 7 + index // len(ADJECTIVES)) % len(NOUNS)]}"
        names.append(name if name not in names else f"{name} {index}")
    item_ids = [f"SKU-{index:03d}" for index in range(items)]
    level = np.exp(rng.uniform(np.log(3), np.log(25), size=items))
    weekly = 1 + 0.25 * np.sin(2 * np.pi * (np.arange(total)[None, :] + rng.integers(0, 7, size=(items, 1))) / 7)
    multiplier = np.ones((items, total))
    texts: list[tuple[str, int, str, str]] = []  # item_id, day, text, kind

    def pool_for(day: int) -> str:
        return "heldout" if heldout_phrasings and day >= days - heldout_days else "train"

    events: list[Event] = []

    def add_event(item: int, announce: int, kind: str, announced: bool) -> int:
        delays, lengths, factors = EVENT_RULES[kind]
        begin = announce + int(rng.integers(*delays))
        length, factor = int(rng.integers(*lengths)), float(rng.uniform(*factors))
        multiplier[item, begin : begin + length] *= factor
        written = 0
        if announced:
            for _ in range(int(rng.integers(1, 4))):
                day = announce + int(rng.integers(0, 2))
                if day < days:
                    texts.append((item_ids[item], day, sample_text(kind, names[item], pool_for(day), rng), kind))
                    written += 1
        events.append(Event(item, kind, announce, begin, length, factor, written > 0 and informative))
        return begin + length

    announced_items = []
    for item in range(items):
        in_horizon = rng.random() < announced_share
        day = int(rng.integers(5, 40))
        last_allowed = days - 30 if in_horizon else total - 5
        while day < last_allowed:
            kind = "bulk" if rng.random() < 0.5 else "drop"
            end = add_event(item, day, kind, announced=rng.random() < 0.85)
            day = end + int(rng.integers(15, 45))
        if in_horizon:
            announce = days - int(rng.integers(1, heldout_days))
            add_event(item, announce, "bulk" if rng.random() < 0.5 else "drop", announced=True)
            announced_items.append(item_ids[item])
        for _ in range(int(rng.poisson(days / 120))):  # enquiries and complaints that lead to nothing
            day = int(rng.integers(0, days))
            kind = str(rng.choice(["bulk", "drop"]))
            texts.append((item_ids[item], day, sample_text(kind, names[item], pool_for(day), rng), kind))
    for item in range(items):
        for chatter_day in np.flatnonzero(rng.random(days) < chatter_rate).tolist():
            text = sample_text("chatter", names[item], pool_for(chatter_day), rng)
            texts.append((item_ids[item], chatter_day, text, "chatter"))
    if not informative:
        # Same texts, same demand, but each text moved to a random day: the words say nothing about demand.
        texts = [(item, int(rng.integers(0, days)), text, kind) for item, _, text, kind in texts]
        announced_items = []
    demand = rng.poisson(level[:, None] * weekly * multiplier).astype(float)
    frame = pd.DataFrame(
        {"item_id": np.repeat(item_ids, total), "date": np.tile(dates, items), "quantity": demand.reshape(-1)}
    )
    texts.sort(key=lambda row: (row[1], row[0], row[2]))
    text_frame = pd.DataFrame(
        {
            "text_id": [f"T{index:05d}" for index in range(len(texts))],
            "item_id": [row[0] for row in texts],
            "date": [dates[row[1]] for row in texts],
            "text": [row[2] for row in texts],
        }
    )
    products = pd.DataFrame(
        {
            "item_id": item_ids,
            "name": names,
            "description": [f"A {name.lower()} from our home and gifts range." for name in names],
        }
    )
    origin = dates[days - 1]
    return Scenario(
        history=frame[frame["date"] <= origin].reset_index(drop=True),
        future=frame[frame["date"] > origin].reset_index(drop=True),
        texts=text_frame,
        products=products,
        announced=announced_items,
        kinds=np.array([row[3] for row in texts]),
        events=tuple(events),
        level=level,
        weekly=weekly,
    )


def event_multiplier(kind: str, days: np.ndarray, *, announce: int, origin: int) -> np.ndarray:
    """The expected demand factor on ``days`` of an event of ``kind`` announced on day ``announce`` that has not
    begun by day ``origin``: its start, length and factor as the generator draws them, the start after ``origin``."""
    delays, lengths, factors = EVENT_RULES[kind]
    begins = np.arange(announce + delays[0], announce + delays[1])
    begins = begins[begins > origin]
    if not len(begins):
        return np.ones(len(days))
    spans = np.arange(*lengths)
    begin, span = np.meshgrid(begins, spans, indexing="ij")
    inside = (begin[..., None] <= days) & (days < (begin + span)[..., None])
    return 1.0 + inside.mean(axis=(0, 1)) * (np.mean(factors) - 1.0)


def ongoing_multiplier(event: Event, days: np.ndarray, *, origin: int) -> np.ndarray:
    """The expected demand factor on ``days`` of ``event``, under way at ``origin``: its factor, for as long as the
    lengths the generator draws that reach past ``origin`` say it may last."""
    spans = np.arange(*EVENT_RULES[event.kind][1])
    spans = spans[event.begin + spans > origin]
    if not len(spans):
        return np.ones(len(days))
    inside = (days[None, :] < event.begin + spans[:, None]).mean(axis=0)
    return 1.0 + inside * (event.factor - 1.0)


def rules_forecast(scenario: Scenario, *, with_texts: bool) -> pd.DataFrame:
    """item_id,date,mean over the horizon: the expected demand for someone who knows the generator's rules and every
    product's true level and weekly pattern, sees the events under way at the origin (their factor, not yet their
    end) and, ``with_texts``, the events the texts announce (their kind, not yet their start, length or size). Events
    neither under way nor announced are not foreseen, and a text that leads to nothing is known as such. Its WRMSSE
    with texts over without is what reading every text perfectly adds for a forecaster that knows all else; one that
    knows less (the level, the events under way) can gain more, as the texts also tell it about those."""
    origin = scenario.history["date"].nunique() - 1
    dates = pd.DatetimeIndex(sorted(scenario.future["date"].unique()))
    days = np.arange(origin + 1, origin + 1 + len(dates))
    expected = scenario.level[:, None] * scenario.weekly[:, days]
    for event in scenario.events:
        if event.begin <= origin < event.begin + event.length:
            expected[event.item] *= ongoing_multiplier(event, days, origin=origin)
        elif with_texts and event.announced and event.announce <= origin < event.begin:
            expected[event.item] *= event_multiplier(event.kind, days, announce=event.announce, origin=origin)
    items = sorted(scenario.history["item_id"].unique())
    return pd.DataFrame(
        {"item_id": np.repeat(items, len(dates)), "date": np.tile(dates, len(items)), "mean": expected.reshape(-1)}
    )
