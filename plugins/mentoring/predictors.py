"""``mentoring.topic`` (what a question is about) and ``mentoring.similar`` (answered
questions like it). Training code and data: ``models_ml/mentoring/``; model cards:
``docs/models/mentoring.topic.md`` and ``docs/models/mentoring.similar.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.ml.registry import Predictor
from core.ml.training import TrainedModel, TrainingRun
from core.plugin import PredictorSpec

MAX_MATCHES = 20
"""The most suggestions a route may ask for."""


@dataclass(frozen=True, slots=True)
class TopicGuess:
    category: str
    confidence: float
    """The classifier's probability of ``category``."""


@dataclass(frozen=True, slots=True)
class LibraryMatch:
    id: str
    question: str
    answer: str
    category: str
    language: str
    score: float


def _train_topic(run: TrainingRun) -> TrainedModel:
    from models_ml.mentoring.training import train_topic

    return train_topic(run)


def _train_similar(run: TrainingRun) -> TrainedModel:
    from models_ml.mentoring.training import train_similar

    return train_similar(run)


def predict_topic(model: Predictor[str, TopicGuess], text: str) -> TopicGuess:
    probabilities = model.estimator.predict_proba([text])[0]
    best = int(probabilities.argmax())
    return TopicGuess(str(model.estimator.classes_[best]), round(float(probabilities[best]), 4))


def predict_similar(model: Predictor[str, list[LibraryMatch]], text: str) -> list[LibraryMatch]:
    """The library entries scoring at least the plugin's ``similar_min_score``, best first
    (at most :data:`MAX_MATCHES`; callers keep as many as they show)."""
    from models_ml.mentoring.similar import rank

    settings = model.context.settings
    library: dict[str, Any] = model.estimator
    scores = rank(library, text)
    order = scores.argsort()[::-1][:MAX_MATCHES]
    return [
        LibraryMatch(
            id=library["ids"][i],
            question=library["questions"][i],
            answer=library["answers"][i],
            category=library["categories"][i],
            language=library["languages"][i],
            score=round(float(scores[i]), 4),
        )
        for i in order
        if scores[i] >= settings.similar_min_score
    ]


topic: PredictorSpec[str, TopicGuess] = PredictorSpec(
    name="topic",
    description="Category of a question (character n-gram TF-IDF, logistic loss)",
    train=_train_topic,
    predict=predict_topic,
)

similar: PredictorSpec[str, list[LibraryMatch]] = PredictorSpec(
    name="similar",
    description="Answered questions like a new one (character n-gram TF-IDF, cosine)",
    train=_train_similar,
    predict=predict_similar,
)
