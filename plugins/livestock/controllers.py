"""Routes under /api/v1/livestock: thin handlers over services.py."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated

from litestar import Controller, delete, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter

from core.errors import Conflict, Invalid
from core.identity.access import ANY_USER, MEMBER_OR_ADMIN, CurrentPrincipal
from core.pagination import Cursor, Limit
from core.plugin import Context
from plugins.livestock import schemas, services
from plugins.livestock.models import AnimalStatus

MAX_SERIES = timedelta(days=31)
MAX_CALENDAR_DAYS = 366

From = Annotated[
    str | None,
    QueryParameter(name="from", description="Start (inclusive): a date or an RFC 3339 time."),
]
To = Annotated[
    str | None,
    QueryParameter(name="to", description="End (exclusive): a date or an RFC 3339 time."),
]
OrganizationFilter = Annotated[
    str | None, QueryParameter(description="Only this organization's animals.")
]


def _moment(value: str | None, parameter: str, ctx: Context) -> datetime | None:
    if value is None:
        return None
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return datetime.combine(day, time(), tzinfo=ctx.city_zone)
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise Invalid.parameter(parameter, "a date (YYYY-MM-DD) or an RFC 3339 time") from None
    if moment.tzinfo is None:
        raise Invalid.parameter(parameter, "give the time with its UTC offset")
    return moment


def _day(value: str | None, parameter: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Invalid.parameter(parameter, "a date: YYYY-MM-DD") from None


def _whole_hour(moment: datetime) -> datetime:
    floor = moment.replace(minute=0, second=0, microsecond=0)
    return floor if floor == moment else floor + timedelta(hours=1)


class AnimalController(Controller):
    path = "/animals"

    @get(access=ANY_USER, summary="The animals of the caller's farms")
    async def list_animals(
        self,
        ctx: Context,
        principal: CurrentPrincipal,
        organization_id: OrganizationFilter = None,
        status: Annotated[
            AnimalStatus | None, QueryParameter(description="Only this status.")
        ] = None,
        group: Annotated[str | None, QueryParameter(description="Only this group.")] = None,
        ear_tag: Annotated[str | None, QueryParameter(description="Only this ear tag.")] = None,
        cursor: Cursor = None,
        limit: Limit = 50,
    ) -> schemas.AnimalList:
        return await services.list_animals(
            ctx,
            principal,
            cursor,
            limit,
            organization_id=organization_id,
            status=status,
            group=group,
            ear_tag=ear_tag,
        )

    @post(access=MEMBER_OR_ADMIN, raises=[Conflict], summary="Register an animal")
    async def create_animal(
        self, ctx: Context, principal: CurrentPrincipal, data: JSONBody[schemas.AnimalCreate]
    ) -> schemas.Animal:
        """409 when the farm has an animal with this ear tag already."""
        return await services.create_animal(ctx, principal, data)

    @get("/{animal_id:str}", access=ANY_USER, summary="One animal with its reproductive state")
    async def get_animal(
        self, ctx: Context, principal: CurrentPrincipal, animal_id: FromPath[str]
    ) -> schemas.Animal:
        return await services.get_animal(ctx, principal, animal_id)

    @patch("/{animal_id:str}", access=MEMBER_OR_ADMIN, summary="Change an animal")
    async def update_animal(
        self,
        ctx: Context,
        principal: CurrentPrincipal,
        animal_id: FromPath[str],
        data: JSONBody[schemas.AnimalUpdate],
    ) -> schemas.Animal:
        return await services.update_animal(ctx, principal, animal_id, data)

    @delete(
        "/{animal_id:str}", access=MEMBER_OR_ADMIN, raises=[Conflict], summary="Delete an animal"
    )
    async def delete_animal(
        self, ctx: Context, principal: CurrentPrincipal, animal_id: FromPath[str]
    ) -> None:
        """For records made by mistake: an animal that leaves the herd is culled or sold.
        409 while devices are bound to it."""
        await services.delete_animal(ctx, principal, animal_id)

    @get("/{animal_id:str}/events", access=ANY_USER, summary="An animal's events, newest first")
    async def list_events(
        self,
        principal: CurrentPrincipal,
        animal_id: FromPath[str],
        cursor: Cursor = None,
        limit: Limit = 50,
    ) -> schemas.EventList:
        return await services.list_events(principal, animal_id, cursor, limit)

    @post("/{animal_id:str}/events", access=MEMBER_OR_ADMIN, summary="Record an event")
    async def create_event(
        self,
        ctx: Context,
        principal: CurrentPrincipal,
        animal_id: FromPath[str],
        data: JSONBody[schemas.EventCreate],
    ) -> schemas.Event:
        """Calving, heat observed, insemination (with its sire), pregnancy check (with its
        result), dry-off or cull. An insemination or a positive pregnancy check resolves the
        animal's estrus alert, a calving its calving alert, a cull all of them."""
        return await services.create_event(ctx, principal, animal_id, data)

    @get(
        "/{animal_id:str}/series",
        access=ANY_USER,
        summary="An animal's hourly readings with its baseline band",
    )
    async def series(
        self,
        ctx: Context,
        principal: CurrentPrincipal,
        animal_id: FromPath[str],
        start: From = None,
        end: To = None,
    ) -> schemas.Series:
        """Activity, rumination and temperature hour by hour in ``[from, to)`` (default: the
        last 7 days, at most 31), each with the animal's usual for that hour of day: the
        median and the 10th-90th percentile band of the 6 days before."""
        last = _whole_hour(_moment(end, "to", ctx) or ctx.clock.now())
        first = _moment(start, "from", ctx) or last - timedelta(days=7)
        first = first.replace(minute=0, second=0, microsecond=0)
        if first >= last:
            raise Invalid.parameter("from", "from must be before to")
        if last - first > MAX_SERIES:
            raise Invalid.parameter("from", "at most 31 days at a time")
        return await services.animal_series(ctx, principal, animal_id, first, last)


class EventController(Controller):
    path = "/events"

    @get("/{event_id:str}", access=ANY_USER, summary="One event")
    async def get_event(
        self, principal: CurrentPrincipal, event_id: FromPath[str]
    ) -> schemas.Event:
        return await services.get_event(principal, event_id)

    @patch("/{event_id:str}", access=MEMBER_OR_ADMIN, summary="Correct an event")
    async def update_event(
        self,
        ctx: Context,
        principal: CurrentPrincipal,
        event_id: FromPath[str],
        data: JSONBody[schemas.EventUpdate],
    ) -> schemas.Event:
        return await services.update_event(ctx, principal, event_id, data)

    @delete("/{event_id:str}", access=MEMBER_OR_ADMIN, summary="Delete an event")
    async def delete_event(
        self, ctx: Context, principal: CurrentPrincipal, event_id: FromPath[str]
    ) -> None:
        await services.delete_event(ctx, principal, event_id)


@get("/heats", access=ANY_USER, summary="Heats the collars found, newest first")
async def list_heats(
    ctx: Context,
    principal: CurrentPrincipal,
    since: Annotated[
        str | None, QueryParameter(description="Found at or after this RFC 3339 time.")
    ] = None,
    animal_id: Annotated[str | None, QueryParameter(description="Only this animal.")] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> schemas.HeatList:
    return await services.list_heats(
        ctx, principal, cursor, limit, since=_moment(since, "since", ctx), animal_id=animal_id
    )


@get("/calendar", access=ANY_USER, summary="The breeding calendar")
async def breeding_calendar(
    ctx: Context,
    principal: CurrentPrincipal,
    start: Annotated[
        str | None, QueryParameter(name="from", description="First day (default: today).")
    ] = None,
    end: Annotated[
        str | None,
        QueryParameter(name="to", description="Last day, inclusive (default: 30 days on)."),
    ] = None,
    organization_id: OrganizationFilter = None,
) -> schemas.Calendar:
    """Heats expected a cycle (21 days) after the last, pregnancy checks due 30-40 days after
    an insemination, calvings expected 283 days after the confirmed one."""
    today = ctx.local_day(ctx.clock.now())
    first = _day(start, "from") or today
    last = _day(end, "to") or first + timedelta(days=30)
    if first > last:
        raise Invalid.parameter("from", "from must not be after to")
    if (last - first).days > MAX_CALENDAR_DAYS:
        raise Invalid.parameter("to", f"at most {MAX_CALENDAR_DAYS} days at a time")
    return await services.calendar(ctx, principal, first, last, organization_id)


@get("/overview", access=ANY_USER, summary="Each farm's herd at a glance")
async def overview(
    ctx: Context, principal: CurrentPrincipal, organization_id: OrganizationFilter = None
) -> schemas.Overview:
    return await services.herd_overview(ctx, principal, organization_id)


@get("/performance", access=ANY_USER, summary="Sensitivity and PPV each farm actually got")
async def performance(
    ctx: Context, principal: CurrentPrincipal, start: From = None, end: To = None
) -> schemas.Performance:
    """Estimated from the farms' feedback on alerts and from their records (default: the
    last 90 days)."""
    last = _moment(end, "to", ctx) or ctx.clock.now()
    first = _moment(start, "from", ctx) or last - timedelta(
        days=services.settings_of(ctx).performance_days
    )
    if first > last:
        raise Invalid.parameter("from", "from must not be after to")
    return await services.performance(ctx, principal, first, last)


routes = [
    AnimalController,
    EventController,
    list_heats,
    breeding_calendar,
    overview,
    performance,
]
