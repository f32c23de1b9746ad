"""Routes under ``/api/v1/red_tide``: thin handlers over :mod:`plugins.red_tide.services`.

Sea areas, stations and samples are public: every user reads them, city staff (advisors and
admins) write them. Farms, cages, feeding plans and logs follow core's tenancy rule.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from litestar import Controller, Response, delete, get, patch, post, put
from litestar.params import FromPath, JSONBody, MultipartBody, QueryParameter

from core.errors import Conflict, Invalid
from core.i18n import Language
from core.identity.access import ANY_USER, MEMBER, MEMBER_OR_ADMIN, STAFF, CurrentPrincipal
from core.pagination import Cursor, Limit
from core.plugin import Context
from plugins.red_tide import schemas, services

Moment = Annotated[str | None, QueryParameter(description="An RFC 3339 time with its UTC offset.")]


def _moment(value: str | None, parameter: str) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise Invalid.parameter(parameter, "an RFC 3339 time") from None
    if moment.tzinfo is None:
        raise Invalid.parameter(parameter, "give the time with its UTC offset")
    return moment


class AreaController(Controller):
    path = "/areas"
    tags = ["red_tide"]

    @get(access=ANY_USER, summary="Sea areas with their level, trend, latest counts and risk")
    async def list(
        self, ctx: Context, cursor: Cursor = None, limit: Limit = 50
    ) -> schemas.AreaList:
        return await services.list_areas(ctx, cursor, limit)

    @post(access=STAFF, raises=[Conflict], summary="Add a sea area (GeoJSON polygon)")
    async def create(self, ctx: Context, data: JSONBody[schemas.AreaCreate]) -> schemas.Area:
        return await services.create_area(ctx, data)

    @patch(
        "/{sea_area_id:str}", access=STAFF, raises=[Conflict], summary="Rename or redraw a sea area"
    )
    async def update(
        self, ctx: Context, sea_area_id: FromPath[str], data: JSONBody[schemas.AreaPatch]
    ) -> schemas.Area:
        return await services.update_area(ctx, sea_area_id, data)


class StationController(Controller):
    path = "/stations"
    tags = ["red_tide"]

    @get(access=ANY_USER, summary="Sampling stations and the buoys bound to them")
    async def list(
        self,
        area_id: Annotated[str | None, QueryParameter(description="Only this area's.")] = None,
        cursor: Cursor = None,
        limit: Limit = 50,
    ) -> schemas.StationList:
        return await services.list_stations(area_id, cursor, limit)

    @post(access=STAFF, raises=[Conflict], summary="Add a sampling station")
    async def create(self, ctx: Context, data: JSONBody[schemas.StationCreate]) -> schemas.Station:
        return await services.create_station(ctx, data)

    @patch("/{station_id:str}", access=STAFF, summary="Rename or move a station")
    async def update(
        self, ctx: Context, station_id: FromPath[str], data: JSONBody[schemas.StationPatch]
    ) -> schemas.Station:
        return await services.update_station(ctx, station_id, data)


class SampleController(Controller):
    path = "/samples"
    tags = ["red_tide"]

    @get(access=ANY_USER, summary="Water samples and their cell counts, newest first")
    async def list(
        self,
        station_id: Annotated[str | None, QueryParameter()] = None,
        area_id: Annotated[str | None, QueryParameter()] = None,
        start: Annotated[str | None, QueryParameter(name="from")] = None,
        end: Annotated[str | None, QueryParameter(name="to")] = None,
        cursor: Cursor = None,
        limit: Limit = 50,
    ) -> schemas.SampleList:
        return await services.list_samples(
            station_id, area_id, _moment(start, "from"), _moment(end, "to"), cursor, limit
        )

    @post(access=STAFF, summary="Enter a sample's cell counts (re-entering one updates it)")
    async def create(
        self, ctx: Context, principal: CurrentPrincipal, data: JSONBody[schemas.SampleCreate]
    ) -> schemas.Sample:
        return await services.record_sample(ctx, principal, data)

    @post(
        "/import",
        access=STAFF,
        status_code=200,
        summary="Import a flash-report CSV file (per-row errors; re-importing changes nothing)",
    )
    async def import_csv(
        self, ctx: Context, principal: CurrentPrincipal, data: MultipartBody[schemas.CsvUpload]
    ) -> schemas.ImportResult:
        """Multipart ``file``: UTF-8 CSV with the columns station, date, time, depth_m,
        temperature_c, salinity and one per species (plugins/red_tide/README.md)."""
        return await services.import_samples(ctx, principal, await data.file.read())


@get("/thresholds", access=ANY_USER, tags=["red_tide"], summary="The thresholds in force")
async def thresholds(ctx: Context) -> schemas.Thresholds:
    return services.thresholds_out(ctx)


@get("/series", access=ANY_USER, tags=["red_tide"], summary="A station's series for charts")
async def series(
    ctx: Context,
    station_id: Annotated[str, QueryParameter(description="The station.")],
    start: Annotated[str | None, QueryParameter(name="from")] = None,
    end: Annotated[str | None, QueryParameter(name="to")] = None,
    metric: Annotated[
        list[str] | None, QueryParameter(description="Buoy metrics (default: all).")
    ] = None,
    resolution: Annotated[
        Literal["hour", "raw"], QueryParameter(description="hour: hourly means; raw: as read.")
    ] = "hour",
) -> schemas.StationSeries:
    return await services.station_series(
        station_id,
        _moment(start, "from"),
        _moment(end, "to"),
        metric,
        resolution,
        ctx.clock.now(),
    )


@get(
    "/map",
    access=ANY_USER,
    tags=["red_tide"],
    media_type="application/geo+json",
    summary="GeoJSON of sea areas (with level), stations and buoys",
)
async def map_features(ctx: Context) -> Response[dict[str, Any]]:
    return Response(await services.geojson(ctx), media_type="application/geo+json")


class FarmController(Controller):
    path = "/farms"
    tags = ["red_tide"]

    @get(access=ANY_USER, summary="Fish farms of the caller's organizations")
    async def list(
        self,
        principal: CurrentPrincipal,
        area_id: Annotated[str | None, QueryParameter()] = None,
        cursor: Cursor = None,
        limit: Limit = 50,
    ) -> schemas.FarmList:
        return await services.list_farms(principal, area_id, cursor, limit)

    @post(access=MEMBER_OR_ADMIN, summary="Add a fish farm of a fishery organization")
    async def create(
        self, ctx: Context, principal: CurrentPrincipal, data: JSONBody[schemas.FarmCreate]
    ) -> schemas.Farm:
        return await services.create_farm(ctx, principal, data)

    @get("/{fish_farm_id:str}", access=ANY_USER, summary="One fish farm")
    async def get(self, principal: CurrentPrincipal, fish_farm_id: FromPath[str]) -> schemas.Farm:
        return await services.get_farm(principal, fish_farm_id)

    @patch("/{fish_farm_id:str}", access=MEMBER_OR_ADMIN, summary="Change a fish farm")
    async def update(
        self,
        ctx: Context,
        principal: CurrentPrincipal,
        fish_farm_id: FromPath[str],
        data: JSONBody[schemas.FarmPatch],
    ) -> schemas.Farm:
        return await services.update_farm(ctx, principal, fish_farm_id, data)


class CageController(Controller):
    path = "/cages"
    tags = ["red_tide"]

    @get(access=ANY_USER, summary="Cages with today's feeding advice")
    async def list(
        self,
        ctx: Context,
        principal: CurrentPrincipal,
        farm_id: Annotated[str | None, QueryParameter()] = None,
        cursor: Cursor = None,
        limit: Limit = 50,
    ) -> schemas.CageList:
        return await services.list_cages(ctx, principal, farm_id, cursor, limit)

    @post(access=MEMBER_OR_ADMIN, summary="Add a cage to a farm")
    async def create(
        self, ctx: Context, principal: CurrentPrincipal, data: JSONBody[schemas.CageCreate]
    ) -> schemas.Cage:
        return await services.create_cage(ctx, principal, data)

    @get("/{cage_id:str}", access=ANY_USER, summary="One cage with today's feeding advice")
    async def get(
        self, ctx: Context, principal: CurrentPrincipal, cage_id: FromPath[str]
    ) -> schemas.Cage:
        return await services.get_cage(ctx, principal, cage_id)

    @patch("/{cage_id:str}", access=MEMBER_OR_ADMIN, summary="Change a cage")
    async def update(
        self,
        ctx: Context,
        principal: CurrentPrincipal,
        cage_id: FromPath[str],
        data: JSONBody[schemas.CagePatch],
    ) -> schemas.Cage:
        return await services.update_cage(ctx, principal, cage_id, data)


class FeedingController(Controller):
    path = "/feedings"
    tags = ["red_tide"]

    @get(access=ANY_USER, summary="Feeding logs, newest first")
    async def list(
        self,
        principal: CurrentPrincipal,
        cage_id: Annotated[str | None, QueryParameter()] = None,
        needs_reason: Annotated[
            bool | None, QueryParameter(description="Only feedings during a stop without a reason.")
        ] = None,
        cursor: Cursor = None,
        limit: Limit = 50,
    ) -> schemas.FeedingList:
        return await services.list_feedings(principal, cage_id, needs_reason, cursor, limit)

    @post(
        access=MEMBER_OR_ADMIN,
        summary="Log a feeding (during a stop: 422 at /override_reason unless one is given)",
    )
    async def create(
        self, ctx: Context, principal: CurrentPrincipal, data: JSONBody[schemas.FeedingCreate]
    ) -> schemas.Feeding:
        return await services.log_feeding(ctx, principal, data)

    @get("/{feeding_log_id:str}", access=ANY_USER, summary="One feeding")
    async def get(
        self, principal: CurrentPrincipal, feeding_log_id: FromPath[str]
    ) -> schemas.Feeding:
        return await services.get_feeding(principal, feeding_log_id)

    @post(
        "/{feeding_log_id:str}/override",
        access=MEMBER_OR_ADMIN,
        status_code=200,
        raises=[Conflict],
        summary="Give the reason a feeding during a stop happened (kept; given once)",
    )
    async def override(
        self,
        ctx: Context,
        principal: CurrentPrincipal,
        feeding_log_id: FromPath[str],
        data: JSONBody[schemas.Override],
    ) -> schemas.Feeding:
        return await services.give_reason(ctx, principal, feeding_log_id, data.reason)


class PlanController(Controller):
    path = "/feeding-plans"
    tags = ["red_tide"]

    @get(access=ANY_USER, summary="Feeding plans (suspended while feeding is stopped)")
    async def list(
        self,
        principal: CurrentPrincipal,
        cage_id: Annotated[str | None, QueryParameter()] = None,
        cursor: Cursor = None,
        limit: Limit = 50,
    ) -> schemas.PlanList:
        return await services.list_plans(principal, cage_id, cursor, limit)

    @post(access=MEMBER_OR_ADMIN, summary="Plan a daily feeding of a cage")
    async def create(
        self, ctx: Context, principal: CurrentPrincipal, data: JSONBody[schemas.PlanCreate]
    ) -> schemas.Plan:
        return await services.create_plan(ctx, principal, data)

    @patch("/{feeding_plan_id:str}", access=MEMBER_OR_ADMIN, summary="Change a feeding plan")
    async def update(
        self,
        ctx: Context,
        principal: CurrentPrincipal,
        feeding_plan_id: FromPath[str],
        data: JSONBody[schemas.PlanPatch],
    ) -> schemas.Plan:
        return await services.update_plan(ctx, principal, feeding_plan_id, data)

    @delete("/{feeding_plan_id:str}", access=MEMBER_OR_ADMIN, summary="Delete a feeding plan")
    async def remove(
        self, ctx: Context, principal: CurrentPrincipal, feeding_plan_id: FromPath[str]
    ) -> None:
        await services.delete_plan(ctx, principal, feeding_plan_id)


@get("/advice", access=ANY_USER, tags=["red_tide"], summary="Feeding advice issued, newest first")
async def advice(
    principal: CurrentPrincipal,
    cage_id: Annotated[str | None, QueryParameter()] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> schemas.AdviceList:
    return await services.list_advice(principal, cage_id, cursor, limit)


class BulletinController(Controller):
    path = "/bulletin"
    tags = ["red_tide"]

    @get(access=ANY_USER, summary="Today's bulletin for the caller, in their language")
    async def today(
        self, ctx: Context, principal: CurrentPrincipal, language: Language
    ) -> schemas.Bulletin:
        return await services.bulletin_for(ctx, principal, language)

    @get("/subscription", access=MEMBER, summary="The caller's bulletin subscription")
    async def subscription(self, ctx: Context, principal: CurrentPrincipal) -> schemas.Subscription:
        return await services.get_subscription(ctx, principal)

    @put("/subscription", access=MEMBER, summary="Subscribe to the morning bulletin")
    async def subscribe(
        self, ctx: Context, principal: CurrentPrincipal, data: JSONBody[schemas.SubscriptionIn]
    ) -> schemas.Subscription:
        return await services.subscribe(ctx, principal, data)


routes = [
    AreaController,
    StationController,
    SampleController,
    thresholds,
    series,
    map_features,
    FarmController,
    CageController,
    FeedingController,
    PlanController,
    advice,
    BulletinController,
]
