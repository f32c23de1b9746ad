"""The seed corpus and the glossary, and the held-out split both predictors are measured on.

The corpus (``corpus.json``) holds question-answer pairs written for Minori: what new
farmers, fishers and hunters around Sasebo ask city advisors, in eight categories, mostly in
Japanese with some English and Vietnamese. Some questions carry ``paraphrases``: the same
question asked in other words, used only to measure retrieval, never to fit anything the
similar-question model serves.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
CORPUS = HERE / "corpus.json"
GLOSSARY = HERE / "glossary.json"
HELD_OUT = 0.25
"""Share of the items of every (category, language) group kept out of training."""


@dataclass(frozen=True, slots=True)
class Item:
    id: str
    category: str
    language: str
    question: str
    answer: str
    paraphrases: tuple[str, ...]


@cache
def corpus() -> tuple[Item, ...]:
    document = json.loads(CORPUS.read_text(encoding="utf-8"))
    return tuple(
        Item(
            id=raw["id"],
            category=raw["category"],
            language=raw["language"],
            question=raw["question"],
            answer=raw["answer"],
            paraphrases=tuple(raw.get("paraphrases", ())),
        )
        for raw in document["items"]
    )


@cache
def categories() -> tuple[str, ...]:
    return tuple(json.loads(CORPUS.read_text(encoding="utf-8"))["categories"])


@cache
def glossary() -> tuple[tuple[str, str], ...]:
    """``(term, category)`` pairs."""
    terms = json.loads(GLOSSARY.read_text(encoding="utf-8"))["terms"]
    return tuple((term, category) for category, words in terms.items() for term in words)


def held_out_ids(seed: int, share: float = HELD_OUT) -> frozenset[str]:
    """A stratified split: ``share`` of every (category, language) group, at least one."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible split, not a secret
    groups: dict[tuple[str, str], list[Item]] = {}
    for item in corpus():
        groups.setdefault((item.category, item.language), []).append(item)
    chosen: set[str] = set()
    for _key, members in sorted(groups.items()):
        members = sorted(members, key=lambda i: i.id)
        rng.shuffle(members)
        chosen.update(i.id for i in members[: max(1, round(len(members) * share))])
    return frozenset(chosen)


def describe() -> dict[str, Any]:
    items = corpus()
    return {
        "source": "models_ml/mentoring/corpus.json, written for this project (not scraped)",
        "items": len(items),
        "paraphrases": sum(len(i.paraphrases) for i in items),
        "languages": dict(sorted(Counter(i.language for i in items).items())),
        "categories": dict(sorted(Counter(i.category for i in items).items())),
    }
