"""The seed corpus, the two predictors' held-out metrics (in their metadata and in their
model cards), and that retraining reproduces them."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from litestar import Litestar

from core.ml.training import TrainingRun
from models_ml.mentoring import data
from models_ml.mentoring.training import train_similar, train_topic
from tests.conftest import ROOT

ARTIFACTS = ROOT / "models_ml" / "artifacts" / "mentoring"
CARDS = ROOT / "docs" / "models"


def metadata(name: str) -> dict:
    return json.loads((ARTIFACTS / name / "metadata.json").read_text(encoding="utf-8"))


def test_the_seed_corpus_is_large_multilingual_and_covers_every_category() -> None:
    items = data.corpus()
    assert len(items) >= 300
    assert len({i.id for i in items}) == len(items)
    languages = Counter(i.language for i in items)
    assert languages["ja"] > len(items) / 2 and languages["en"] >= 20 and languages["vi"] >= 20
    categories = Counter(i.category for i in items)
    assert set(categories) == set(data.categories()) and len(categories) == 8
    assert min(categories.values()) >= 30
    assert all(i.question.strip() and len(i.answer) >= 40 for i in items)
    assert sum(len(i.paraphrases) for i in items) >= 60


def card_figures(card: Path) -> str:
    return card.read_text(encoding="utf-8")


def test_held_out_metrics_meet_the_goals_and_the_cards_quote_them() -> None:
    topic = metadata("topic")
    assert topic["predictor"] == "mentoring.topic"
    assert topic["metrics"]["top1_accuracy"] >= 0.85  # issue 9: topic top-1 >= 0.85
    assert topic["data"]["held_out"].startswith("25% of the items")
    similar = metadata("similar")
    assert 0 < similar["metrics"]["top3_hit_rate"] <= 1  # reported, no goal
    for name, meta in [("topic", topic), ("similar", similar)]:
        text = card_figures(CARDS / f"mentoring.{name}.md")
        for key, value in meta["metrics"].items():
            assert f"{value:.3f}" in text, (name, key, "update the model card")


def test_retraining_reproduces_the_shipped_metrics() -> None:
    run = TrainingRun(predictor="mentoring.topic", context=None)  # type: ignore[arg-type]
    assert dict(train_topic(run).metrics) == metadata("topic")["metrics"]
    assert dict(train_similar(run).metrics) == metadata("similar")["metrics"]


def test_the_predictors_load_and_answer_in_three_languages(app: Litestar) -> None:
    predictors = app.state.services.predictors
    topic = predictors.get("mentoring.topic")
    assert topic.version.startswith("mentoring.topic@")
    for text, category in [
        ("子牛が下痢をして哺乳しません", "livestock_health"),
        ("経営開始資金の申請書の書き方", "subsidies_paperwork"),
        ("くくりわなにシカがかかりました", "hunting_traps"),
        ("The tractor engine will not start", "machinery"),
        ("Cá nuôi trong lồng bị chết nhiều", "fisheries_aquaculture"),
    ]:
        guess = topic.predict(text)
        assert guess.category == category, (text, guess)
        assert 0 < guess.confidence <= 1
    matches = predictors.get("mentoring.similar").predict("赤潮のときに給餌を止めるべきか")
    assert matches[0].id == "fisheries_aquaculture-002"
    assert matches[0].score >= matches[-1].score
