"""A generated shop where some demand shifts are announced by customer texts a few days ahead.

Used by the value benchmark and the tests. Bulk or event enquiries come before spikes, complaints
and recall rumours before drops, mixed with chatter that means nothing; some events come unannounced
and some enquiries lead to nothing. Phrasings come from two disjoint template pools: ``train`` for
texts the learned head can be trained on, ``heldout`` for the texts just before the forecast origin
(whose consequences are what is evaluated), so the method is judged on phrasings it has not seen.
With ``informative=False`` the same kinds of texts are written at random times, unrelated to demand.
"""

from __future__ import annotations

from dataclasses import dataclass

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
class Scenario:
    """``history`` and ``future`` (item_id,date,quantity) split at the origin; ``texts``
    (text_id,item_id,date,text) up to the origin; ``products`` (item_id,name,description);
    ``announced``: items with an announced event in the horizon; ``kinds``: per row of ``texts``, what its words
    mean (``bulk``, ``drop`` or ``chatter``: the pool its template came from), whether or not demand followed."""

    history: pd.DataFrame
    future: pd.DataFrame
    texts: pd.DataFrame
    products: pd.DataFrame
    announced: list[str]
    kinds: np.ndarray


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

    def add_event(item: int, announce: int, kind: str, announced: bool) -> int:
        if kind == "bulk":
            begin, length, factor = announce + int(rng.integers(2, 6)), int(rng.integers(3, 7)), rng.uniform(2.5, 5)
        else:
            begin, length, factor = announce + int(rng.integers(1, 4)), int(rng.integers(7, 15)), rng.uniform(0.15, 0.4)
        multiplier[item, begin : begin + length] *= factor
        if announced:
            for _ in range(int(rng.integers(1, 4))):
                day = announce + int(rng.integers(0, 2))
                if day < days:
                    texts.append((item_ids[item], day, sample_text(kind, names[item], pool_for(day), rng), kind))
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
    )
