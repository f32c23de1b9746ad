"""The one rule of tenancy: a member reaches only their organizations' rows.

Every service that reads or changes a domain row goes through :func:`scope` or :func:`get`.
Rows carry an ``organization`` foreign key. An object the caller may not see answers 404,
exactly like one that does not exist, so ids cannot be probed.
"""

from __future__ import annotations

import uuid
from typing import TypeVar

from tortoise.expressions import Q
from tortoise.models import Model
from tortoise.queryset import QuerySet

from core.errors import Invalid, NotFound
from core.identity.access import Principal
from core.identity.models import Role

M = TypeVar("M", bound=Model)


def scope(
    queryset: QuerySet[M],
    principal: Principal,
    *,
    write: bool = False,
    field: str | None = "organization",
) -> QuerySet[M]:
    """The rows of ``queryset`` the caller may read (or, with ``write``, change).

    ``field`` names the row's organization foreign key; ``None`` when the rows are
    organizations. Admins reach everything; members their organizations; advisors read what
    organizations share with advisors and change only their own organizations' rows.
    """
    if principal.role is Role.ADMIN:
        return queryset
    prefix = f"{field}_" if field else ""
    own = Q(**{f"{prefix}id__in": list(principal.organization_ids)})
    if principal.role is Role.ADVISOR and not write:
        shared = f"{field}__share_with_advisors" if field else "share_with_advisors"
        return queryset.filter(own | Q(**{shared: True}))
    return queryset.filter(own)


def parse_id(raw: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(raw)
    except (ValueError, TypeError, AttributeError):
        return None


async def get(
    queryset: QuerySet[M],
    object_id: str,
    principal: Principal,
    *,
    write: bool = False,
    field: str | None = "organization",
) -> M:
    """The object with this id if the caller may see it; 404 otherwise."""
    key = parse_id(object_id)
    found = None
    if key is not None:
        found = await scope(queryset, principal, write=write, field=field).get_or_none(id=key)
    if found is None:
        raise NotFound(f"No {queryset.model.__name__.lower()} with id {object_id}.")
    return found


async def referenced(
    queryset: QuerySet[M],
    object_id: str,
    principal: Principal,
    pointer: str,
    *,
    field: str | None = "organization",
) -> M:
    """An object a request body refers to: 422 at ``pointer`` when unknown or not visible."""
    try:
        return await get(queryset, object_id, principal, write=True, field=field)
    except NotFound:
        raise Invalid.field(pointer, "unknown or not accessible") from None
