"""Building the platform services that plugins receive through their context."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from core.alerts.outbox import PushDispatcher
from core.alerts.push import FCMSender, LogSender, PushSender
from core.alerts.service import AlertService, Notifier
from core.clock import Clock
from core.events import EventBus
from core.media.services import MediaService
from core.ml.registry import PredictorRegistry
from core.plugin import Services
from core.settings import Settings


def push_sender(settings: Settings) -> PushSender:
    """FCM when a service account is configured, the log otherwise."""
    if settings.fcm_credentials_file:
        return FCMSender.from_service_account(settings.fcm_credentials_file)
    return LogSender()


def build_services(settings: Settings, clock: Clock, sender: PushSender | None = None) -> Services:
    notifications = Notifier(clock, PushDispatcher(clock, sender or push_sender(settings)))
    return Services(
        clock=clock,
        city_zone=ZoneInfo(settings.city_timezone),
        predictors=PredictorRegistry(),
        media=MediaService(settings),
        alert_service=AlertService(clock, notifications),
        notifications=notifications,
        events=EventBus(),
    )
