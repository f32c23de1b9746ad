"""Delta sync: what changed for this user since their cursor, per source and collection.

The cursor is opaque to the app and survives restarts: base64url JSON
``{"v": 1, "u": <user>, "s": <scope>, "m": {<source>: <µs since the epoch>}}`` followed by
``.`` and an HMAC of it under a key derived from the app's secret. ``m`` keeps one mark per
source (core and each plugin with a ``sync`` slot), so a source that fails or times out this
time keeps its old mark and is asked again next time, while the others move on; a source the
cursor does not know yet (a plugin enabled since) sends everything.

A mark is the time the sync began. The next sync asks each source for changes since the
mark minus ``OVERLAP``, so a change committed just after a sync read the database, or stamped
by a replica whose clock runs a little behind, is not missed; the app may get an object twice,
which an upsert absorbs.

410 Gone, and the app starts over without a cursor, when the cursor: is not one this service
signed (or the secret changed), belongs to another user, was issued while the user belonged
to other organizations or had another role (what they may see has changed), or is older than
``MAX_AGE`` (deletions are only kept that long).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from core.errors import Gone
from core.i18n import Text, _
from core.identity.access import Principal
from core.plugin import PluginContext
from core.registry import PluginRegistry
from core.sync import KEEP_DELETIONS, Changes
from mobile_api import core_sources, schemas

log = logging.getLogger("minori.mobile")

VERSION = 1
OVERLAP = timedelta(seconds=60)
MAX_AGE = KEEP_DELETIONS
SOURCE_TIMEOUT_S = 20.0

Sync = Callable[[PluginContext, Principal, datetime | None], Awaitable[Mapping[str, Changes]]]


class Cursor(msgspec.Struct, forbid_unknown_fields=True):
    v: int
    u: str
    s: str
    m: dict[str, int]


def _signing_key(secret: str) -> bytes:
    return hmac.new(secret.encode(), b"minori mobile sync cursor", hashlib.sha256).digest()


def _scope(principal: Principal) -> str:
    """What the user may see depends on their role and organizations."""
    seen = f"{principal.role.value}|{','.join(sorted(principal.organization_ids))}"
    return hashlib.sha256(seen.encode()).hexdigest()[:16]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode_cursor(secret: str, principal: Principal, marks: dict[str, datetime]) -> str:
    payload = msgspec.json.encode(
        Cursor(
            v=VERSION,
            u=principal.user_id,
            s=_scope(principal),
            m={name: int(mark.timestamp() * 1_000_000) for name, mark in sorted(marks.items())},
        )
    )
    signature = hmac.new(_signing_key(secret), payload, hashlib.sha256).digest()[:16]
    return f"{_b64(payload)}.{_b64(signature)}"


def decode_cursor(
    secret: str, principal: Principal, cursor: str, now: datetime
) -> dict[str, datetime]:
    """The marks of a cursor this service issued to this user, or 410."""
    start_over = _("This sync cursor is not valid any more; sync again without a cursor.")
    payload_part, _sep, signature_part = cursor.partition(".")
    try:
        payload, signature = _unb64(payload_part), _unb64(signature_part)
    except (binascii.Error, ValueError):
        raise Gone(start_over) from None
    expected = hmac.new(_signing_key(secret), payload, hashlib.sha256).digest()[:16]
    if not hmac.compare_digest(signature, expected):
        raise Gone(start_over)
    try:
        decoded = msgspec.json.decode(payload, type=Cursor)
    except msgspec.DecodeError:
        raise Gone(start_over) from None
    if decoded.v != VERSION or decoded.u != principal.user_id or decoded.s != _scope(principal):
        raise Gone(start_over)
    marks = {
        name: datetime.fromtimestamp(micros / 1_000_000, UTC) for name, micros in decoded.m.items()
    }
    if any(mark < now - MAX_AGE for mark in marks.values()):
        raise Gone(
            _(
                "This sync cursor is older than {days} days; sync again without a cursor.",
                days=MAX_AGE.days,
            )
        )
    return marks


def sources(registry: PluginRegistry) -> list[tuple[str, Sync, PluginContext]]:
    found: list[tuple[str, Sync, PluginContext]] = [
        ("core", core_sources.sync, PluginContext.build(registry.services, "core", None))
    ]
    for loaded in registry.active:
        if loaded.plugin is not None and loaded.plugin.sync and loaded.context is not None:
            found.append((loaded.name, loaded.plugin.sync, loaded.context))
    return found


def render(value: Any, language: str) -> Any:
    """Sources may put texts in their objects; they reach the app in its language."""
    if isinstance(value, Text):
        return value.render(language)
    if isinstance(value, dict):
        return {k: render(v, language) for k, v in value.items()}
    if isinstance(value, list):
        return [render(v, language) for v in value]
    return value


async def changes(
    registry: PluginRegistry,
    principal: Principal,
    language: str,
    cursor: str | None,
    secret: str,
    now: datetime,
) -> schemas.Sync:
    marks = decode_cursor(secret, principal, cursor, now) if cursor else {}

    async def ask(name: str, sync: Sync, ctx: PluginContext) -> Mapping[str, Changes]:
        mark = marks.get(name)
        since = mark - OVERLAP if mark is not None else None
        async with asyncio.timeout(SOURCE_TIMEOUT_S):
            return await sync(ctx, principal, since)

    found = sources(registry)
    answers = await asyncio.gather(
        *(ask(name, sync, ctx) for name, sync, ctx in found), return_exceptions=True
    )
    result: dict[str, dict[str, schemas.Changes]] = {}
    next_marks: dict[str, datetime] = {}
    for (name, _sync, _ctx), answer in zip(found, answers, strict=True):
        if isinstance(answer, BaseException):
            log.error("sync of %s failed; it is asked again next time", name, exc_info=answer)
            if name in marks:
                next_marks[name] = marks[name]
            continue
        result[name] = {
            collection: schemas.Changes(
                upserted=render(list(part.upserted), language), deleted=list(part.deleted)
            )
            for collection, part in answer.items()
        }
        next_marks[name] = now
    return schemas.Sync(changes=result, cursor=encode_cursor(secret, principal, next_marks))
