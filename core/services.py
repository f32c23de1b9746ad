"""Building the platform services that plugins receive through their context."""

from __future__ import annotations

from core.clock import Clock
from core.ml.registry import PredictorRegistry
from core.plugin import Services
from core.settings import Settings


def build_services(settings: Settings, clock: Clock) -> Services:
    return Services(clock=clock, predictors=PredictorRegistry())
