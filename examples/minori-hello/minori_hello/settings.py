from __future__ import annotations

from typing import Annotated

import msgspec


class HelloSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    max_length: Annotated[int, msgspec.Meta(ge=1, le=2000)] = 280
    """Longest greeting accepted, in characters."""
    cheerful_words: tuple[str, ...] = ("hello", "thanks", "great", "こんにちは", "ありがとう")
    """Words that make the mood predictor call a greeting cheerful."""
