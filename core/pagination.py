"""Cursor pages: ``{"items": [...], "next_cursor": ...}`` ordered by creation, then id."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from datetime import datetime
from typing import Annotated, TypeVar

from litestar.params import QueryParameter
from tortoise.expressions import Q
from tortoise.models import Model
from tortoise.queryset import QuerySet

from core.errors import Invalid

M = TypeVar("M", bound=Model)

Limit = Annotated[int, QueryParameter(ge=1, le=200, description="Page size, 1 to 200.")]
Cursor = Annotated[str | None, QueryParameter(description="next_cursor of the previous page.")]


def encode_cursor(*values: object) -> str:
    raw = json.dumps([str(v) for v in values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, parameter: str = "cursor") -> list[str]:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if isinstance(values, list) and all(isinstance(v, str) for v in values):
            return values
    except (binascii.Error, ValueError):
        pass
    raise Invalid.parameter(parameter, "not a cursor this service issued")


async def page(
    queryset: QuerySet[M], cursor: str | None, limit: int, *, newest_first: bool = False
) -> tuple[list[M], str | None]:
    """One page of ``queryset`` ordered by ``(created_at, id)``."""
    if cursor:
        values = decode_cursor(cursor)
        try:
            created_at, last_id = datetime.fromisoformat(values[0]), uuid.UUID(values[1])
        except (IndexError, ValueError):
            raise Invalid.parameter("cursor", "not a cursor this service issued") from None
        if newest_first:
            after = Q(created_at__lt=created_at) | Q(created_at=created_at, id__lt=last_id)
        else:
            after = Q(created_at__gt=created_at) | Q(created_at=created_at, id__gt=last_id)
        queryset = queryset.filter(after)
    order = ("-created_at", "-id") if newest_first else ("created_at", "id")
    rows = await queryset.order_by(*order).limit(limit + 1)
    if len(rows) <= limit:
        return rows, None
    last = rows[limit - 1]
    return rows[:limit], encode_cursor(last.created_at.isoformat(), last.id)
