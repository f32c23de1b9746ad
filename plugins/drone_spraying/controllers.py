"""Routes of the drone spraying plugin, under ``/api/v1/drone_spraying``. Thin: each calls
one service."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from litestar import Controller, Response, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter

from core.errors import Conflict, NotFound
from core.i18n import Language
from core.identity.access import ANY_USER, MEMBER_OR_ADMIN, STAFF, CurrentPrincipal
from core.pagination import Cursor, Limit
from core.plugin import Context
from plugins.drone_spraying import reports, schemas, services

OrganizationParam = Annotated[
    str | None,
    QueryParameter(description="The organization; defaults to the caller's only one."),
]


class FieldController(Controller):
    path = "/fields"

    @get(access=ANY_USER, summary="Fields")
    async def list(
        self,
        principal: CurrentPrincipal,
        cursor: Cursor = None,
        limit: Limit = 50,
        organization_id: Annotated[str | None, QueryParameter()] = None,
    ) -> schemas.FieldList:
        return await services.list_fields(principal, cursor, limit, organization_id)

    @post(access=MEMBER_OR_ADMIN, summary="Add a field (boundary as GeoJSON, or an area)")
    async def create(
        self, ctx: Context, principal: CurrentPrincipal, data: JSONBody[schemas.FieldCreate]
    ) -> schemas.Field:
        return await services.create_field(ctx, principal, data)

    @get("/{field_id:str}", access=ANY_USER, summary="One field")
    async def get(self, principal: CurrentPrincipal, field_id: FromPath[str]) -> schemas.Field:
        return await services.get_field(principal, field_id)

    @patch("/{field_id:str}", access=MEMBER_OR_ADMIN, summary="Change a field")
    async def update(
        self,
        ctx: Context,
        principal: CurrentPrincipal,
        field_id: FromPath[str],
        data: JSONBody[schemas.FieldUpdate],
    ) -> schemas.Field:
        return await services.update_field(ctx, principal, field_id, data)


class SeasonController(Controller):
    path = "/seasons"

    @get(access=ANY_USER, summary="Crop seasons")
    async def list(
        self,
        principal: CurrentPrincipal,
        cursor: Cursor = None,
        limit: Limit = 50,
        field_id: Annotated[str | None, QueryParameter()] = None,
    ) -> schemas.SeasonList:
        return await services.list_seasons(principal, cursor, limit, field_id)

    @post(access=MEMBER_OR_ADMIN, summary="Start a crop season on a field")
    async def create(
        self, ctx: Context, principal: CurrentPrincipal, data: JSONBody[schemas.SeasonCreate]
    ) -> schemas.Season:
        return await services.create_season(ctx, principal, data)

    @get("/{season_id:str}", access=ANY_USER, summary="One season, with its earliest harvest")
    async def get(self, principal: CurrentPrincipal, season_id: FromPath[str]) -> schemas.Season:
        return await services.get_season(principal, season_id)

    @patch(
        "/{season_id:str}",
        access=MEMBER_OR_ADMIN,
        summary="Change a season; a harvest moved inside a pre-harvest interval raises an alert",
    )
    async def update(
        self,
        ctx: Context,
        principal: CurrentPrincipal,
        season_id: FromPath[str],
        data: JSONBody[schemas.SeasonUpdate],
    ) -> schemas.Season:
        return await services.update_season(ctx, principal, season_id, data)


class DroneController(Controller):
    path = "/drones"

    @get(access=ANY_USER, summary="Drones")
    async def list(
        self, ctx: Context, principal: CurrentPrincipal, cursor: Cursor = None, limit: Limit = 50
    ) -> schemas.DroneList:
        return await services.list_drones(ctx, principal, cursor, limit)

    @post(access=MEMBER_OR_ADMIN, summary="Add a drone", raises=[Conflict])
    async def create(
        self, ctx: Context, principal: CurrentPrincipal, data: JSONBody[schemas.DroneCreate]
    ) -> schemas.Drone:
        return await services.create_drone(ctx, principal, data)

    @get("/{drone_id:str}", access=ANY_USER, summary="One drone")
    async def get(
        self, ctx: Context, principal: CurrentPrincipal, drone_id: FromPath[str]
    ) -> schemas.Drone:
        return await services.get_drone(ctx, principal, drone_id)

    @patch("/{drone_id:str}", access=MEMBER_OR_ADMIN, summary="Change a drone (inspections)")
    async def update(
        self,
        ctx: Context,
        principal: CurrentPrincipal,
        drone_id: FromPath[str],
        data: JSONBody[schemas.DroneUpdate],
    ) -> schemas.Drone:
        return await services.update_drone(ctx, principal, drone_id, data)


class OperatorController(Controller):
    path = "/operators"

    @get(access=ANY_USER, summary="Pilots")
    async def list(
        self, principal: CurrentPrincipal, cursor: Cursor = None, limit: Limit = 50
    ) -> schemas.OperatorList:
        return await services.list_operators(principal, cursor, limit)

    @post(access=MEMBER_OR_ADMIN, summary="Add a pilot with their licence")
    async def create(
        self, ctx: Context, principal: CurrentPrincipal, data: JSONBody[schemas.OperatorCreate]
    ) -> schemas.Operator:
        return await services.create_operator(ctx, principal, data)

    @get("/{operator_id:str}", access=ANY_USER, summary="One pilot")
    async def get(
        self, principal: CurrentPrincipal, operator_id: FromPath[str]
    ) -> schemas.Operator:
        return await services.get_operator(principal, operator_id)

    @patch("/{operator_id:str}", access=MEMBER_OR_ADMIN, summary="Change a pilot (licence)")
    async def update(
        self,
        ctx: Context,
        principal: CurrentPrincipal,
        operator_id: FromPath[str],
        data: JSONBody[schemas.OperatorUpdate],
    ) -> schemas.Operator:
        return await services.update_operator(ctx, principal, operator_id, data)


class PesticideController(Controller):
    path = "/pesticides"

    @get(access=ANY_USER, summary="The city's pesticide catalogue, with label rules")
    async def list(
        self,
        cursor: Cursor = None,
        limit: Limit = 50,
        crop: Annotated[
            str | None, QueryParameter(description="Only products for this crop.")
        ] = None,
    ) -> schemas.PesticideList:
        return await services.list_pesticides(cursor, limit, crop)

    @post(access=STAFF, summary="Add a pesticide to the catalogue", raises=[Conflict])
    async def create(
        self, ctx: Context, data: JSONBody[schemas.PesticideCreate]
    ) -> schemas.Pesticide:
        return await services.create_pesticide(ctx, data)

    @patch("/{pesticide_id:str}", access=STAFF, summary="Change a pesticide or its label rules")
    async def update(
        self, ctx: Context, pesticide_id: FromPath[str], data: JSONBody[schemas.PesticideUpdate]
    ) -> schemas.Pesticide:
        return await services.update_pesticide(ctx, pesticide_id, data)


class SprayRecordController(Controller):
    path = "/spray-records"

    @get(access=ANY_USER, summary="Spray records")
    async def list(
        self,
        principal: CurrentPrincipal,
        language: Language,
        cursor: Cursor = None,
        limit: Limit = 50,
        season_id: Annotated[str | None, QueryParameter()] = None,
        field_id: Annotated[str | None, QueryParameter()] = None,
        status: Annotated[str | None, QueryParameter(pattern="^(planned|done|voided)$")] = None,
    ) -> schemas.SprayRecordList:
        return await services.list_records(
            principal,
            language,
            cursor,
            limit,
            season_id=season_id,
            field_id=field_id,
            status=status,
        )

    @post(
        access=MEMBER_OR_ADMIN,
        summary="Record a spraying; refused (422 with the verdict) when it breaks the label",
    )
    async def create(
        self,
        ctx: Context,
        principal: CurrentPrincipal,
        language: Language,
        data: JSONBody[schemas.SprayCreate],
    ) -> schemas.SprayRecord:
        return await services.create_record(ctx, principal, data, language)

    @get("/{spray_record_id:str}", access=ANY_USER, summary="One spray record")
    async def read(
        self, principal: CurrentPrincipal, language: Language, spray_record_id: FromPath[str]
    ) -> schemas.SprayRecord:
        return await services.get_record(principal, spray_record_id, language)

    @post(
        "/{spray_record_id:str}/corrections",
        access=MEMBER_OR_ADMIN,
        status_code=200,
        raises=[Conflict],
        summary="Correct a record: a new version with the reason; the old one stays",
    )
    async def correct(
        self,
        ctx: Context,
        principal: CurrentPrincipal,
        language: Language,
        spray_record_id: FromPath[str],
        data: JSONBody[schemas.SprayCorrection],
    ) -> schemas.SprayRecord:
        return await services.correct_record(ctx, principal, spray_record_id, data, language)

    @post(
        "/{spray_record_id:str}/void",
        access=MEMBER_OR_ADMIN,
        status_code=200,
        raises=[Conflict],
        summary="Void a record (kept, as a new version, no longer counted)",
    )
    async def void(
        self,
        ctx: Context,
        principal: CurrentPrincipal,
        language: Language,
        spray_record_id: FromPath[str],
        data: JSONBody[schemas.SprayVoid],
    ) -> schemas.SprayRecord:
        return await services.void_record(ctx, principal, spray_record_id, data, language)

    @get(
        "/{spray_record_id:str}/history",
        access=ANY_USER,
        summary="Every version of a record, with who, when and why",
    )
    async def history(
        self, principal: CurrentPrincipal, spray_record_id: FromPath[str]
    ) -> schemas.SprayHistory:
        return await services.record_history(principal, spray_record_id)

    @post(
        "/{spray_record_id:str}/track",
        access=MEMBER_OR_ADMIN,
        raises=[Conflict],
        summary="Import a flight track (GeoJSON or CSV): sprayed area, coverage, drift",
    )
    async def import_track(
        self,
        ctx: Context,
        principal: CurrentPrincipal,
        language: Language,
        spray_record_id: FromPath[str],
        data: JSONBody[schemas.TrackImport],
    ) -> schemas.Track:
        return await services.import_track(ctx, principal, spray_record_id, data, language)

    @get("/{spray_record_id:str}/track", access=ANY_USER, summary="The record's latest track")
    async def track(
        self, principal: CurrentPrincipal, spray_record_id: FromPath[str]
    ) -> schemas.Track:
        return await services.get_track(principal, spray_record_id)


@post(
    "/spray-checks",
    access=MEMBER_OR_ADMIN,
    status_code=200,
    summary="The verdict on a planned spraying, with every reason; saves nothing",
)
async def spray_check(
    ctx: Context,
    principal: CurrentPrincipal,
    language: Language,
    data: JSONBody[schemas.SprayCreate],
) -> schemas.Verdict:
    return await services.check_spray(ctx, principal, data, language)


@get("/spray-refusals", access=ANY_USER, summary="Sprayings Minori refused, newest first")
async def spray_refusals(
    principal: CurrentPrincipal, language: Language, cursor: Cursor = None, limit: Limit = 50
) -> schemas.RefusalList:
    return await services.list_refusals(principal, language, cursor, limit)


class FlightLogController(Controller):
    path = "/flight-logs"

    @get(access=ANY_USER, summary="Flight logs")
    async def list(
        self,
        principal: CurrentPrincipal,
        cursor: Cursor = None,
        limit: Limit = 50,
        drone_id: Annotated[str | None, QueryParameter()] = None,
    ) -> schemas.FlightLogList:
        return await services.list_flight_logs(principal, cursor, limit, drone_id)

    @post(access=MEMBER_OR_ADMIN, summary="Log a flight (aviation-law flight record)")
    async def create(
        self, ctx: Context, principal: CurrentPrincipal, data: JSONBody[schemas.FlightLogCreate]
    ) -> schemas.FlightLog:
        return await services.create_flight_log(ctx, principal, data)

    @get("/{flight_log_id:str}", access=ANY_USER, summary="One flight log")
    async def get(
        self, principal: CurrentPrincipal, flight_log_id: FromPath[str]
    ) -> schemas.FlightLog:
        return await services.get_flight_log(principal, flight_log_id)


class PreflightCheckController(Controller):
    path = "/preflight-checks"

    @get(access=ANY_USER, summary="Daily pre-flight checks")
    async def list(
        self,
        principal: CurrentPrincipal,
        cursor: Cursor = None,
        limit: Limit = 50,
        drone_id: Annotated[str | None, QueryParameter()] = None,
    ) -> schemas.PreflightCheckList:
        return await services.list_preflight_checks(principal, cursor, limit, drone_id)

    @post(access=MEMBER_OR_ADMIN, summary="Record a daily pre-flight check")
    async def create(
        self,
        ctx: Context,
        principal: CurrentPrincipal,
        data: JSONBody[schemas.PreflightCheckCreate],
    ) -> schemas.PreflightCheck:
        return await services.create_preflight_check(ctx, principal, data)

    @get("/{preflight_check_id:str}", access=ANY_USER, summary="One pre-flight check")
    async def get(
        self, principal: CurrentPrincipal, preflight_check_id: FromPath[str]
    ) -> schemas.PreflightCheck:
        return await services.get_preflight_check(principal, preflight_check_id)


YearParam = Annotated[
    int | None, QueryParameter(ge=2000, le=2100, description="Default: this year.")
]
CropParam = Annotated[str | None, QueryParameter(description="Only this crop.")]


@get("/record-book", access=ANY_USER, summary="A farm's spraying record for a year (JSON)")
async def record_book(
    ctx: Context,
    principal: CurrentPrincipal,
    organization_id: OrganizationParam = None,
    year: YearParam = None,
    crop: CropParam = None,
) -> schemas.RecordBook:
    return await services.record_book(ctx, principal, organization_id, year, crop)


@get(
    "/record-book.csv",
    access=ANY_USER,
    media_type="text/csv; charset=utf-8",
    summary="A farm's spraying record for a year, as CSV for the co-op",
)
async def record_book_csv(
    ctx: Context,
    principal: CurrentPrincipal,
    language: Language,
    organization_id: OrganizationParam = None,
    year: YearParam = None,
    crop: CropParam = None,
) -> Response[Any]:
    book = await services.record_book(ctx, principal, organization_id, year, crop)
    filename = f"spray-record-{book.year}.csv"
    return Response(
        reports.record_book_csv(book, language, ctx.city_zone),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@get(
    "/neighbour-notice",
    access=ANY_USER,
    media_type="text/plain; charset=utf-8",
    raises=[NotFound],
    summary="The notice for neighbours of one day's sprayings, ready to print or send",
)
async def neighbour_notice(
    ctx: Context,
    principal: CurrentPrincipal,
    language: Language,
    day: Annotated[date, QueryParameter(name="date", description="The day of the spraying.")],
    organization_id: OrganizationParam = None,
) -> Response[Any]:
    organization, items = await services.notice_items(ctx, principal, organization_id, day)
    text = reports.neighbour_notice(organization, day, items, language, ctx.city_zone)
    return Response(text, media_type="text/plain; charset=utf-8")


@get(
    "/city-summary",
    access=STAFF,
    summary="A month of drone spraying in the city, for advisors (totals only)",
)
async def city_summary(
    ctx: Context,
    month: Annotated[
        str | None, QueryParameter(description="YYYY-MM; default: this month.")
    ] = None,
) -> schemas.CitySummary:
    return await services.city_summary(ctx, month)


ROUTES = [
    FieldController,
    SeasonController,
    DroneController,
    OperatorController,
    PesticideController,
    SprayRecordController,
    spray_check,
    spray_refusals,
    FlightLogController,
    PreflightCheckController,
    record_book,
    record_book_csv,
    neighbour_notice,
    city_summary,
]
