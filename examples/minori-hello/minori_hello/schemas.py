from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import msgspec


class GreetingCreate(msgspec.Struct, forbid_unknown_fields=True):
    organization_id: str
    text: Annotated[str, msgspec.Meta(min_length=1)]


class Greeting(msgspec.Struct):
    id: str
    organization_id: str
    author_id: str
    text: str
    mood: str
    created_at: datetime


class GreetingList(msgspec.Struct):
    items: list[Greeting]
    next_cursor: str | None


class Tally(msgspec.Struct):
    organization_id: str
    day: date
    greetings: int
