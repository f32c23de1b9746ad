"""Push senders: Firebase Cloud Messaging through firebase-admin, or the log in development."""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from typing import Any, Protocol

import firebase_admin
from firebase_admin import credentials, exceptions, messaging

log = logging.getLogger("minori.push")


@dataclass(frozen=True, slots=True)
class PushMessage:
    token: str
    kind: str
    """``fcm_token`` (a registration token) or ``fid`` (a Firebase installation id)."""
    title: str
    body: str
    data: dict[str, str]
    critical: bool


@dataclass(frozen=True, slots=True)
class PushResult:
    token: str
    outcome: str
    """``sent``, ``dead_token`` (prune it), ``retry`` (try again later) or ``failed``."""
    error: str | None = None


class PushSender(Protocol):
    name: str

    async def send(self, messages: list[PushMessage]) -> list[PushResult]: ...


class LogSender:
    """Development: every push is a log line."""

    name = "log"

    async def send(self, messages: list[PushMessage]) -> list[PushResult]:
        for message in messages:
            log.info(
                "push to %s: %s — %s",
                message.token[:12],
                message.title,
                message.body,
                extra={"push": {"data": message.data, "critical": message.critical}},
            )
        return [PushResult(m.token, "sent") for m in messages]


class _GoogleCredential(credentials.Base):  # type: ignore[misc]
    """Wraps any google-auth credential (for a local FCM server in tests and benchmarks)."""

    def __init__(self, credential: Any) -> None:
        self._credential = credential

    def get_credential(self) -> Any:
        return self._credential


_DEAD = (messaging.UnregisteredError, messaging.SenderIdMismatchError)
_RETRY = (
    messaging.QuotaExceededError,
    exceptions.UnavailableError,
    exceptions.InternalError,
    exceptions.DeadlineExceededError,
    exceptions.UnknownError,
)


class FCMSender:
    """Sends through FCM's v1 API with firebase-admin's ``send_each_async``."""

    name = "fcm"

    def __init__(self, app: firebase_admin.App) -> None:
        self.app = app

    @classmethod
    def from_service_account(cls, path: str) -> FCMSender:
        return cls(firebase_admin.initialize_app(credentials.Certificate(path), name=f"fcm-{path}"))

    @classmethod
    def from_credential(cls, credential: Any, project_id: str, name: str) -> FCMSender:
        app = firebase_admin.initialize_app(
            _GoogleCredential(credential), options={"projectId": project_id}, name=name
        )
        return cls(app)

    async def send(self, messages: list[PushMessage]) -> list[PushResult]:
        results: list[PushResult] = []
        for start in range(0, len(messages), 500):
            chunk = messages[start : start + 500]
            batch = await messaging.send_each_async([_fcm_message(m) for m in chunk], app=self.app)
            for message, response in zip(chunk, batch.responses, strict=True):
                results.append(_result(message.token, response))
        return results


def _fcm_message(message: PushMessage) -> messaging.Message:
    target: dict[str, str] = (
        {"fid": message.token} if message.kind == "fid" else {"token": message.token}
    )
    with warnings.catch_warnings():
        # Apps still hand out registration tokens; firebase-admin 7 prefers installation ids.
        warnings.simplefilter("ignore", DeprecationWarning)
        return messaging.Message(
            notification=messaging.Notification(title=message.title, body=message.body),
            data=message.data,
            android=messaging.AndroidConfig(priority="high" if message.critical else "normal"),
            apns=messaging.APNSConfig(headers={"apns-priority": "10" if message.critical else "5"}),
            **target,
        )


def _result(token: str, response: messaging.SendResponse) -> PushResult:
    if response.success:
        return PushResult(token, "sent")
    error = response.exception
    detail = f"{type(error).__name__}: {error}"
    if isinstance(error, _DEAD):
        return PushResult(token, "dead_token", detail)
    if isinstance(error, _RETRY):
        return PushResult(token, "retry", detail)
    return PushResult(token, "failed", detail)
