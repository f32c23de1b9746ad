"""The wildlife trap routes, under ``/api/v1/wildlife_traps`` (thin: the work is in services)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter

from core.errors import Conflict, Invalid
from core.identity.access import ANY_USER, MEMBER_OR_ADMIN, CurrentPrincipal
from core.pagination import Cursor, Limit
from core.plugin import Context
from plugins.wildlife_traps import schemas, services
from plugins.wildlife_traps.models import TrapState

OrganizationParam = Annotated[
    str | None,
    QueryParameter(
        description="The organization; may be left out by a member of exactly one organization."
    ),
]
MonthParam = Annotated[
    str | None,
    QueryParameter(description="YYYY-MM, in the plugin's time zone; default: this month."),
]
OrganizationFilter = Annotated[str | None, QueryParameter(description="Only this organization's.")]
StateFilter = Annotated[
    TrapState | None, QueryParameter(name="state", description="Only traps in this state.")
]
CSV = "text/csv; charset=utf-8"


def _csv(text: str, filename: str) -> Response[str]:
    return Response(
        text,
        media_type=CSV,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


class TrapController(Controller):
    path = "/traps"

    @get(access=ANY_USER, summary="Traps the caller may see")
    async def index(
        self,
        ctx: Context,
        principal: CurrentPrincipal,
        organization_id: OrganizationFilter = None,
        trap_state: StateFilter = None,
        cursor: Cursor = None,
        limit: Limit = 50,
    ) -> schemas.TrapList:
        return await services.list_traps(ctx, principal, organization_id, trap_state, cursor, limit)

    @post(access=MEMBER_OR_ADMIN, summary="Register a trap")
    async def create(
        self, ctx: Context, principal: CurrentPrincipal, data: JSONBody[schemas.TrapCreate]
    ) -> schemas.Trap:
        return await services.create_trap(ctx, principal, data)

    @get("/{trap_id:str}", access=ANY_USER, summary="One trap, its sensors and today's record")
    async def read(
        self, ctx: Context, principal: CurrentPrincipal, trap_id: FromPath[str]
    ) -> schemas.Trap:
        return await services.get_trap(ctx, principal, trap_id)

    @patch("/{trap_id:str}", access=MEMBER_OR_ADMIN, summary="Change a trap or its state")
    async def update(
        self,
        ctx: Context,
        principal: CurrentPrincipal,
        trap_id: FromPath[str],
        data: JSONBody[schemas.TrapUpdate],
    ) -> schemas.Trap:
        return await services.update_trap(ctx, principal, trap_id, data)

    @delete(
        "/{trap_id:str}",
        access=MEMBER_OR_ADMIN,
        raises=[Conflict],
        summary="Delete a trap with nothing on record (others are set removed)",
    )
    async def remove(
        self, ctx: Context, principal: CurrentPrincipal, trap_id: FromPath[str]
    ) -> None:
        await services.delete_trap(ctx, principal, trap_id)

    @post(
        "/{trap_id:str}/reset",
        access=MEMBER_OR_ADMIN,
        status_code=200,
        raises=[Conflict],
        summary="Reset a sprung trap: armed again, or disarmed",
    )
    async def reset(
        self,
        ctx: Context,
        principal: CurrentPrincipal,
        trap_id: FromPath[str],
        data: JSONBody[schemas.Reset],
    ) -> schemas.Trap:
        return await services.reset_trap(ctx, principal, trap_id, data)

    @get(
        "/{trap_id:str}/timeline", access=ANY_USER, summary="What happened to a trap, newest first"
    )
    async def timeline(
        self,
        principal: CurrentPrincipal,
        trap_id: FromPath[str],
        cursor: Cursor = None,
        limit: Limit = 50,
    ) -> schemas.EventList:
        return await services.timeline(principal, trap_id, cursor, limit)

    @get("/{trap_id:str}/inspections", access=ANY_USER, summary="Inspections of a trap")
    async def inspections(
        self,
        principal: CurrentPrincipal,
        trap_id: FromPath[str],
        cursor: Cursor = None,
        limit: Limit = 50,
    ) -> schemas.InspectionList:
        return await services.list_inspections(principal, trap_id, cursor, limit)

    @post("/{trap_id:str}/inspections", access=MEMBER_OR_ADMIN, summary="Record an inspection")
    async def inspect(
        self,
        ctx: Context,
        principal: CurrentPrincipal,
        trap_id: FromPath[str],
        data: JSONBody[schemas.InspectionCreate],
    ) -> schemas.Inspection:
        return await services.create_inspection(ctx, principal, trap_id, data)

    @get("/{trap_id:str}/captures", access=ANY_USER, summary="Captures of a trap")
    async def captures(
        self,
        principal: CurrentPrincipal,
        trap_id: FromPath[str],
        cursor: Cursor = None,
        limit: Limit = 50,
    ) -> schemas.CaptureList:
        return await services.list_captures(principal, trap_id, cursor, limit)

    @post(
        "/{trap_id:str}/captures",
        access=MEMBER_OR_ADMIN,
        summary="Record a capture (closes the trap's sprung and welfare alerts)",
    )
    async def capture(
        self,
        ctx: Context,
        principal: CurrentPrincipal,
        trap_id: FromPath[str],
        data: JSONBody[schemas.CaptureCreate],
    ) -> schemas.Capture:
        return await services.create_capture(ctx, principal, trap_id, data)


@get(
    "/traps.geojson",
    access=ANY_USER,
    media_type="application/geo+json",
    summary="The traps on a map: a GeoJSON FeatureCollection with their state",
)
async def trap_map(
    ctx: Context, principal: CurrentPrincipal, organization_id: OrganizationFilter = None
) -> schemas.FeatureCollection:
    return await services.geojson(ctx, principal, organization_id)


@get("/inspections/{inspection_id:str}", access=ANY_USER, summary="One inspection")
async def inspection(
    principal: CurrentPrincipal, inspection_id: FromPath[str]
) -> schemas.Inspection:
    return await services.get_inspection(principal, inspection_id)


@get("/captures/{capture_id:str}", access=ANY_USER, summary="One capture")
async def capture(principal: CurrentPrincipal, capture_id: FromPath[str]) -> schemas.Capture:
    return await services.get_capture(principal, capture_id)


@get(
    "/compliance",
    access=ANY_USER,
    raises=[Invalid],
    summary="Daily inspection record of every trap of an organization for a month",
)
async def compliance(
    ctx: Context,
    principal: CurrentPrincipal,
    organization_id: OrganizationParam = None,
    month: MonthParam = None,
) -> schemas.ComplianceReport:
    return await services.compliance(ctx, principal, organization_id, month)


@get(
    "/compliance.csv",
    access=ANY_USER,
    media_type=CSV,
    raises=[Invalid],
    summary="The compliance report as CSV: one row per trap and day",
)
async def compliance_csv(
    ctx: Context,
    principal: CurrentPrincipal,
    organization_id: OrganizationParam = None,
    month: MonthParam = None,
) -> Response[str]:
    report = await services.compliance(ctx, principal, organization_id, month)
    return _csv(services.compliance_csv(report), f"trap-inspections-{report.month}.csv")


@get(
    "/bounty-report",
    access=ANY_USER,
    raises=[Invalid],
    summary="Captures of a month for bounty claims: date, place, species, count, sex, photos",
)
async def bounty_report(
    ctx: Context,
    principal: CurrentPrincipal,
    organization_id: OrganizationParam = None,
    month: MonthParam = None,
) -> schemas.BountyReport:
    return await services.bounty(ctx, principal, organization_id, month)


@get(
    "/bounty-report.csv",
    access=ANY_USER,
    media_type=CSV,
    raises=[Invalid],
    summary="The bounty report as CSV, photo links included",
)
async def bounty_report_csv(
    ctx: Context,
    request: Request,
    principal: CurrentPrincipal,
    organization_id: OrganizationParam = None,
    month: MonthParam = None,
) -> Response[str]:
    report = await services.bounty(ctx, principal, organization_id, month)
    base_url = str(request.base_url).rstrip("/")
    return _csv(services.bounty_csv(report, base_url), f"bounty-{report.month}.csv")


@get(
    "/training-data.csv",
    access=MEMBER_OR_ADMIN,
    media_type=CSV,
    raises=[Invalid],
    summary="Confirmed triggers with their recorded outcome, to retrain the capture model",
)
async def training_data(
    principal: CurrentPrincipal, organization_id: OrganizationParam = None
) -> Response[str]:
    return _csv(await services.training_data(principal, organization_id), "trap-triggers.csv")


routes = [
    TrapController,
    trap_map,
    inspection,
    capture,
    compliance,
    compliance_csv,
    bounty_report,
    bounty_report_csv,
    training_data,
]
