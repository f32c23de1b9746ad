"""``Idempotency-Key`` on every POST: a replay returns the first answer, so an app's offline
queue can resend without creating anything twice.

One ASGI middleware does it for every route of the app (core, plugins, facades):

- The key is scoped to the caller (the user of the bearer token, or the device of a device
  key), the method and the path. Public routes have no caller to scope to and ignore the
  header; so does ingest, which is idempotent per reading id (``exclude_path_pattern``), and any
  route declared with ``opt={"idempotency_exempt": True}``.
- The first request claims the key by inserting its row (the unique index decides the race),
  runs, and stores a 2xx answer before sending it; any other answer releases the claim so the
  client may retry. A replay with the same body (JSON compared after parsing) gets the stored
  answer with ``Idempotent-Replayed: true``; another body answers 422.
- A request arriving while the first is still running waits for it (woken at once in this
  process, polling the row across processes) and then gets its answer; after ``WAIT_S`` it
  answers 409 with ``Retry-After``. A claim left by a crashed process is taken over after
  ``LEASE``.
- An answer that carries a secret (a device or gateway ``key``) is stored without it, and its
  replay answers 409 naming the created object's id (``object_id``).
- Keys expire after 24 hours: an expired row is replaced when its key comes again, and the
  ``core.idempotency_purge`` job deletes the rest hourly.

The answer is stored before it is sent, so a client that saw it will always get it again. A
process that dies after the handler committed but before the answer was stored leaves a claim
that is taken over (and the request run again) after ``LEASE``: making that exactly-once would
need the key written in the handler's own transaction.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from contextlib import suppress
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import msgspec
from litestar.enums import ParamType, ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.openapi.spec import (
    Components,
    OpenAPIMediaType,
    OpenAPIResponse,
    Parameter,
    Reference,
    Schema,
)
from litestar.openapi.spec.enums import OpenAPIType
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from tortoise import fields
from tortoise.exceptions import IntegrityError
from tortoise.models import Model

from core.clock import Clock
from core.errors import PROBLEM_JSON, Conflict, Invalid, Problem, send_problem
from core.i18n import _
from core.identity.access import declared_access, principal_from_header

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.handlers import HTTPRouteHandler

    from core.plugin import JobSpec, PluginContext

log = logging.getLogger("minori.idempotency")

HEADER = "Idempotency-Key"
TTL = timedelta(hours=24)
LEASE = timedelta(minutes=5)
"""A claim older than this whose answer never came belongs to a process that died."""
WAIT_S = 10.0
"""How long a duplicate waits for the first request to finish before answering 409."""
MAX_KEY_LENGTH = 200
MAX_STORED_BYTES = 1024 * 1024
"""A larger answer is sent but not kept (no POST of this API answers that much)."""
SECRET_FIELDS = frozenset({"key", "secret", "access_token", "refresh_token"})
"""Top-level answer members never stored: their replay answers 409 instead."""
EXEMPT_OPT = "idempotency_exempt"
IN_PROGRESS = 0
"""``status_code`` of a claimed key whose answer is not known yet."""


class IdempotentRequest(Model):
    """The first 2xx answer to a POST, kept 24 hours under the caller's key."""

    id = fields.BigIntField(primary_key=True)
    caller = fields.CharField(max_length=80)
    method = fields.CharField(max_length=10)
    path = fields.CharField(max_length=500)
    key = fields.CharField(max_length=200)
    request_hash = fields.CharField(max_length=64)
    status_code = fields.IntField()
    content_type = fields.CharField(max_length=100, default="application/json")
    body = fields.BinaryField()
    created_object_id = fields.CharField(max_length=64, null=True)
    """Set when the answer carried a secret that was not stored: the replay answers 409."""
    created_at = fields.DatetimeField()

    class Meta:
        unique_together = (("caller", "method", "path", "key"),)
        indexes = (("created_at",),)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


def fingerprint(content_type: str, body: bytes) -> str | None:
    """What makes two requests "the same": JSON compared after parsing, multipart form
    data part by part (each send has its own boundary), anything else byte for byte.
    None for a body that does not parse (the route answers 400; nothing is stored)."""
    media, _sep, options = content_type.partition(";")
    media = media.strip().lower()
    if not body.strip():
        canonical = b""
    elif media == "application/json" or media.endswith("+json"):
        try:
            canonical = msgspec.json.encode(msgspec.json.decode(body), order="sorted")
        except msgspec.DecodeError:
            return None
        media = "json"
    elif media == "multipart/form-data":
        canonical = _multipart_canonical(body, options)
    else:
        canonical = body
    return hashlib.sha256(media.encode() + b"\n" + canonical).hexdigest()


_BOUNDARY = re.compile(r'boundary="?([^";]+)"?', re.IGNORECASE)


def _multipart_canonical(body: bytes, options: str) -> bytes:
    match = _BOUNDARY.search(options)
    if match is None:
        return body
    parts = []
    for chunk in body.split(b"--" + match[1].encode("latin-1"))[1:]:
        if chunk.startswith(b"--"):
            break
        head, _sep, content = chunk.partition(b"\r\n\r\n")
        headers = sorted(line.strip() for line in head.split(b"\r\n") if line.strip())
        digest = hashlib.sha256(content.removesuffix(b"\r\n")).hexdigest().encode()
        parts.append(b"\n".join([*headers, digest]))
    return b"\n\n".join(parts)


def _caller(scope: Scope, handler: HTTPRouteHandler, clock: Clock) -> str | None:
    """Who the key belongs to: ``user:<id>`` or ``device:<key digest>``; None for a public
    route or a request the access guard is about to refuse anyway."""
    access = declared_access(handler)
    if access is None or access.public:
        return None
    header = _header(scope, b"authorization")
    if access.device:
        scheme, _sep, key = (header or "").partition(" ")
        if scheme.lower() != "device" or not key.strip():
            return None
        return "device:" + hashlib.sha256(key.strip().encode()).hexdigest()
    state = scope["litestar_app"].state
    try:
        principal = principal_from_header(header, state.secret_key, clock.now().timestamp())
    except Problem:
        return None
    return f"user:{principal.user_id}"


async def _read_body(receive: Receive, limit: int | None) -> tuple[list[Message], bool]:
    """The request's body messages, stopping past ``limit``; True when the body is whole."""
    messages: list[Message] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages, False
        size += len(message.get("body", b""))
        if limit is not None and size > limit:
            return messages, False
        if not message.get("more_body", False):
            return messages, True


def _replaying(messages: list[Message], receive: Receive) -> Receive:
    """A ``receive`` that hands out the messages already read, then the rest."""
    pending = list(messages)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay


def _object_id(document: dict[str, Any], scope: Scope) -> str:
    """The id a secret-carrying answer is about: its own ``id``, else the path's object."""
    value = document.get("id") or next(iter(scope.get("path_params", {}).values()), None)
    return str(value or "")[:64]


class Idempotency(ASGIMiddleware):
    """The app-wide ``Idempotency-Key`` middleware; it sits after the database binding."""

    scopes = (ScopeType.HTTP,)
    exclude_opt_key = EXEMPT_OPT

    def __init__(self, clock: Clock, *, exclude_path_pattern: tuple[str, ...] = ()) -> None:
        self.clock = clock
        self.exclude_path_pattern = exclude_path_pattern or None
        self._exempt = [re.compile(p) for p in exclude_path_pattern]
        self._finished: dict[tuple[str, str, str, str], asyncio.Event] = {}
        """Claims held in this process: duplicates here wait on the event, not the database."""

    def applies_to(self, handler: HTTPRouteHandler, path: str) -> bool:
        """Whether a POST to this route honours the header (for the OpenAPI document)."""
        access = declared_access(handler)
        return (
            "POST" in handler.http_methods
            and not handler.opt.get(EXEMPT_OPT)
            and access is not None
            and not access.public
            and not any(p.search(path) for p in self._exempt)
        )

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        key = _header(scope, b"idempotency-key") if scope.get("method") == "POST" else None
        if key is None:
            await next_app(scope, receive, send)
            return
        handler = scope["route_handler"]
        caller = _caller(scope, handler, self.clock)  # type: ignore[arg-type]
        if caller is None:
            await next_app(scope, receive, send)
            return
        key = key.strip()
        if not 1 <= len(key) <= MAX_KEY_LENGTH or not key.isprintable():
            detail = _("Send 1 to {max} printable characters.", max=MAX_KEY_LENGTH)
            await send_problem(Invalid.parameter(HEADER, detail), scope, receive, send)
            return
        limit = handler.resolve_request_max_body_size()  # type: ignore[union-attr]
        messages, whole = await _read_body(receive, limit)
        receive = _replaying(messages, receive)
        body = b"".join(m.get("body", b"") for m in messages)
        digest = fingerprint(_header(scope, b"content-type") or "", body) if whole else None
        if digest is None:  # too large (413) or not JSON (400): the route refuses it itself
            await next_app(scope, receive, send)
            return
        path = scope["path"]
        if len(path) > 500:
            path = "sha256:" + hashlib.sha256(path.encode()).hexdigest()
        ident = (caller, "POST", path, key)
        outcome, row = await self._claim(ident, digest)
        if outcome == "run":
            await self._run(ident, row, scope, receive, send, next_app)
        elif outcome == "replay":
            await self._replay(row, scope, receive, send)
        elif outcome == "mismatch":
            detail = _("This Idempotency-Key was already used with another body.")
            await send_problem(Invalid.parameter(HEADER, detail), scope, receive, send)
        else:
            busy = Conflict(
                _("A request with this Idempotency-Key is still being processed; retry later."),
                headers={"Retry-After": "1"},
            )
            await send_problem(busy, scope, receive, send)

    async def _claim(
        self, ident: tuple[str, str, str, str], digest: str
    ) -> tuple[str, IdempotentRequest]:
        """``run`` (this request holds the key now), ``replay``, ``mismatch`` or ``busy``."""
        caller, method, path, key = ident
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAIT_S
        delay = 0.01
        while True:
            now = self.clock.now()
            try:
                row = await IdempotentRequest.create(
                    caller=caller,
                    method=method,
                    path=path,
                    key=key,
                    request_hash=digest,
                    status_code=IN_PROGRESS,
                    content_type="",
                    body=b"",
                    created_at=now,
                )
                self._finished[ident] = asyncio.Event()
                return "run", row
            except IntegrityError:
                pass
            found = await IdempotentRequest.get_or_none(
                caller=caller, method=method, path=path, key=key
            )
            if found is None:
                continue  # released meanwhile: claim it again
            in_progress = found.status_code == IN_PROGRESS
            if found.created_at <= now - (LEASE if in_progress else TTL):
                await IdempotentRequest.filter(
                    id=found.id, created_at=found.created_at, status_code=found.status_code
                ).delete()
                continue  # expired, or abandoned by a process that died
            if found.request_hash != digest:
                return "mismatch", found
            if not in_progress:
                return "replay", found
            if loop.time() >= deadline:
                return "busy", found
            finished = self._finished.get(ident)
            if finished is not None:
                with suppress(TimeoutError):
                    async with asyncio.timeout_at(deadline):
                        await finished.wait()
            else:
                await asyncio.sleep(delay)
                delay = min(delay * 2, 0.2)

    async def _run(
        self,
        ident: tuple[str, str, str, str],
        claim: IdempotentRequest,
        scope: Scope,
        receive: Receive,
        send: Send,
        next_app: ASGIApp,
    ) -> None:
        """Run the request holding the claim; keep a 2xx answer before sending it."""
        held: list[Message] = []
        size = 0
        streaming = False  # the answer outgrew what is kept: pass it on as it comes
        complete = False

        async def capture(message: Message) -> None:
            nonlocal size, streaming, complete
            if streaming:
                await send(message)
                return
            held.append(message)
            if message["type"] == "http.response.body":
                size += len(message.get("body", b""))
                complete = not message.get("more_body", False)
                if size > MAX_STORED_BYTES:
                    streaming = True
                    for earlier in held:
                        await send(earlier)
                    held.clear()

        stored = False
        try:
            await next_app(scope, receive, capture)
            start = held[0] if held and held[0]["type"] == "http.response.start" else None
            if start is not None and complete and not streaming and 200 <= start["status"] < 300:
                stored = await self._store(claim, start, held[1:], scope)
        finally:
            if not stored:
                with suppress(Exception):
                    await IdempotentRequest.filter(id=claim.id, status_code=IN_PROGRESS).delete()
            finished = self._finished.pop(ident, None)
            if finished is not None:
                finished.set()
        for message in held:
            await send(message)

    async def _store(
        self, claim: IdempotentRequest, start: Message, body: list[Message], scope: Scope
    ) -> bool:
        content = b"".join(m.get("body", b"") for m in body)
        headers = start.get("headers", ())
        content_type = next(
            (v.decode("latin-1") for k, v in headers if k.lower() == b"content-type"), ""
        )
        created_object_id = None
        if content and "json" in content_type:
            with suppress(msgspec.DecodeError):
                document = msgspec.json.decode(content)
                if isinstance(document, dict) and SECRET_FIELDS & document.keys():
                    created_object_id = _object_id(document, scope)
                    content = msgspec.json.encode(
                        {k: v for k, v in document.items() if k not in SECRET_FIELDS}
                    )
        try:
            await IdempotentRequest.filter(id=claim.id).update(
                status_code=start["status"],
                content_type=content_type[:100],
                body=content,
                created_object_id=created_object_id,
            )
        except Exception:
            log.exception("could not keep the answer to %s %s", claim.method, claim.path)
            return False
        return True

    async def _replay(
        self, row: IdempotentRequest, scope: Scope, receive: Receive, send: Send
    ) -> None:
        if row.created_object_id is not None:
            detail = _(
                "The first request with this Idempotency-Key created {id}; its answer held a "
                "secret that is not kept. Read the object, or rotate its key.",
                id=row.created_object_id,
            )
            conflict = Conflict(detail, extra={"object_id": row.created_object_id})
            await send_problem(conflict, scope, receive, send)
            return
        body = bytes(row.body)
        headers = [(b"content-length", str(len(body)).encode()), (b"idempotent-replayed", b"true")]
        if row.content_type:
            headers.append((b"content-type", row.content_type.encode("latin-1")))
        await send({"type": "http.response.start", "status": row.status_code, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})


def document(app: Litestar, middleware: Idempotency) -> None:
    """Describe the header and its answers on every POST it applies to (OpenAPI); call after
    ``core.openapi.document``. Safe to call again on the same document."""
    from litestar._openapi.plugin import OpenAPIPlugin
    from litestar.routes import HTTPRoute

    openapi = app.plugins.get(OpenAPIPlugin).provide_openapi()
    assert isinstance(openapi.components, Components)
    problem = {PROBLEM_JSON: OpenAPIMediaType(schema=Reference("#/components/schemas/Problem"))}
    parameter = Parameter(
        name=HEADER,
        param_in=ParamType.HEADER,
        required=False,
        schema=Schema(type=OpenAPIType.STRING, min_length=1, max_length=MAX_KEY_LENGTH),
        description=(
            "Makes the request safe to resend for 24 hours: a replay with the same body "
            "answers the stored first answer; another body answers 422."
        ),
    )
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or route.path_format not in (openapi.paths or {}):
            continue
        operation = openapi.paths[route.path_format].post  # type: ignore[index]
        handler = next((h for h in route.route_handlers if "POST" in h.http_methods), None)
        if operation is None or handler is None or not middleware.applies_to(handler, route.path):
            continue
        present = operation.parameters or []
        if any(getattr(p, "name", None) == HEADER for p in present):
            continue  # a document shared by apps with the same routes is completed once
        operation.parameters = [*present, parameter]
        responses: dict[str, Any] = operation.responses or {}
        for status, description in (
            ("409", "Conflicts with the current state, or the same key is still in progress"),
            ("422", "Well formed but invalid; `errors` points at each problem"),
        ):
            responses.setdefault(status, OpenAPIResponse(description=description, content=problem))
        operation.responses = responses


def jobs() -> list[JobSpec]:
    """``core.idempotency_purge``: delete the keys older than 24 hours, hourly."""
    from apscheduler.triggers.interval import IntervalTrigger

    from core.plugin import JobSpec

    return [
        JobSpec(
            id="idempotency_purge",
            trigger=IntervalTrigger(hours=1),
            run=purge_expired,
            side_effects=False,
        )
    ]


async def purge_expired(_ctx: PluginContext | None, due: datetime) -> None:
    deleted = await IdempotentRequest.filter(created_at__lt=due - TTL).delete()
    if deleted:
        log.info("purged %d expired idempotency keys", deleted)
