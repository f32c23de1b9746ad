"""A local server that speaks the FCM HTTP v1 protocol, for tests and benchmarks.

firebase-admin itself sends to it: ``messaging._MessagingService.FCM_URL`` is pointed here
and the app gets an :class:`core.alerts.push.FCMSender` built from a static OAuth token.
Every request is recorded; answers can be scripted per registration token.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from firebase_admin import messaging
from google.oauth2.credentials import Credentials
from litestar import Litestar, Request, Response, post
from litestar.params import FromPath

from core.alerts.push import FCMSender
from tests.support import serve

PROJECT = "minori-test"
TOKEN = "fcm-test-oauth-token"

_ERRORS = {
    "UNREGISTERED": (404, "NOT_FOUND"),
    "SENDER_ID_MISMATCH": (403, "PERMISSION_DENIED"),
    "QUOTA_EXCEEDED": (429, "RESOURCE_EXHAUSTED"),
    "INTERNAL": (500, "INTERNAL"),
    "UNAVAILABLE": (503, "UNAVAILABLE"),
    "INVALID_ARGUMENT": (400, "INVALID_ARGUMENT"),
}


@dataclass
class Received:
    at: float
    authorization: str
    message: dict[str, Any]

    @property
    def token(self) -> str | None:
        return self.message.get("token") or self.message.get("fid")


@dataclass
class FCMServer:
    base_url: str = ""
    received: list[Received] = field(default_factory=list)
    _script: dict[str, deque[str]] = field(default_factory=dict)
    _ids: Iterator[int] = field(default_factory=itertools.count)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _arrived: threading.Condition = field(default_factory=threading.Condition)

    def fail(self, token: str, *codes: str) -> None:
        """Answer the next requests for ``token`` with these FCM error codes, in order."""
        self._script.setdefault(token, deque()).extend(codes)

    def for_token(self, token: str) -> list[Received]:
        return [r for r in self.received if r.token == token]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """Wait until ``count`` messages arrived (a bounded wait on a condition, not a sleep)."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self.received) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"expected {count} pushes at the FCM server, got {len(self.received)}"
                    )
                self._arrived.wait(left)
            return list(self.received)

    def app(self) -> Litestar:
        @post("/v1/projects/{project:str}/messages:send", status_code=200)
        async def send(project: FromPath[str], request: Request[Any, Any, Any]) -> Response[Any]:
            body = await request.json()
            message = body["message"]
            with self._arrived:
                self.received.append(
                    Received(time.perf_counter(), request.headers.get("authorization", ""), message)
                )
                self._arrived.notify_all()
            token = message.get("token") or message.get("fid")
            with self._lock:
                script = self._script.get(token)
                code = script.popleft() if script else None
            if code is not None:
                status, state = _ERRORS[code]
                return Response(
                    {
                        "error": {
                            "code": status,
                            "message": f"scripted {code}",
                            "status": state,
                            "details": [
                                {
                                    "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
                                    "errorCode": code,
                                }
                            ],
                        }
                    },
                    status_code=status,
                )
            return Response({"name": f"projects/{project}/messages/{next(self._ids)}"})

        return Litestar([send], logging_config=None)


@contextmanager
def fcm_server() -> Iterator[FCMServer]:
    """Serve the FCM stand-in on loopback and point firebase-admin at it."""
    server = FCMServer()
    original = messaging._MessagingService.FCM_URL
    with serve(server.app()) as base_url:
        server.base_url = base_url
        messaging._MessagingService.FCM_URL = base_url + "/v1/projects/{0}/messages:send"
        try:
            yield server
        finally:
            messaging._MessagingService.FCM_URL = original


_app_names = itertools.count()


@contextmanager
def fcm_sender() -> Iterator[FCMSender]:
    """The real firebase-admin sender with a static access token (no Google account).

    Its firebase app is left alive: ``firebase_admin.delete_app`` closes its HTTP client with
    ``asyncio.run``, which cannot run inside the test's event loop.
    """
    yield FCMSender.from_credential(
        Credentials(token=TOKEN), PROJECT, name=f"minori-test-{next(_app_names)}"
    )
