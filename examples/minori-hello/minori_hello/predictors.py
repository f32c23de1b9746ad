"""``hello.mood``: calls a greeting cheerful or plain from the configured words."""

from __future__ import annotations

from core.plugin import PluginContext, PredictorSpec


class MoodPredictor:
    version = "words-1"

    def __init__(self, cheerful_words: tuple[str, ...]) -> None:
        self.cheerful_words = [w.lower() for w in cheerful_words]

    def predict(self, text: str) -> str:
        lowered = text.lower()
        return "cheerful" if any(w in lowered for w in self.cheerful_words) else "plain"


def load_mood(ctx: PluginContext) -> MoodPredictor:
    return MoodPredictor(ctx.settings.cheerful_words)


mood = PredictorSpec(name="mood", load=load_mood, description="Cheerful or plain greeting")
