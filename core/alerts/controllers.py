from __future__ import annotations

from typing import TypeAlias

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody

from core.alerts import schemas
from core.alerts.models import AlertStatus, Severity
from core.alerts.service import AlertQueries
from core.errors import Conflict, NotFound
from core.i18n import Language
from core.identity.access import ANY_USER, MEMBER, MEMBER_OR_ADMIN, STAFF, CurrentPrincipal
from core.pagination import Cursor, Limit

Alerts: TypeAlias = NamedDependency[AlertQueries]


class AlertController(Controller):
    path = "/api/v1/alerts"
    tags = ["alerts"]

    @get(access=ANY_USER, summary="Alerts the caller may see (default: open and acknowledged)")
    async def list_alerts(
        self,
        principal: CurrentPrincipal,
        alerts: Alerts,
        language: Language,
        status: FromQuery[AlertStatus | None] = None,
        severity: FromQuery[Severity | None] = None,
        plugin: FromQuery[str | None] = None,
        subject_kind: FromQuery[str | None] = None,
        subject_id: FromQuery[str | None] = None,
        cursor: Cursor = None,
        limit: Limit = 50,
    ) -> schemas.AlertList:
        return await alerts.list(
            principal,
            language,
            status=status,
            severity=severity,
            plugin=plugin,
            subject_kind=subject_kind,
            subject_id=subject_id,
            cursor=cursor,
            limit=limit,
        )

    @post(access=STAFF, summary="Announce something to an organization's members")
    async def create_manual(
        self,
        principal: CurrentPrincipal,
        alerts: Alerts,
        language: Language,
        data: JSONBody[schemas.ManualAlert],
    ) -> schemas.Alert:
        return await alerts.create_manual(principal, data, language)

    @get("/{alert_id:str}", access=ANY_USER, raises=[NotFound], summary="One alert")
    async def get_alert(
        self,
        principal: CurrentPrincipal,
        alerts: Alerts,
        language: Language,
        alert_id: FromPath[str],
    ) -> schemas.Alert:
        return await alerts.get(principal, alert_id, language)

    @post(
        "/{alert_id:str}/ack",
        access=MEMBER_OR_ADMIN,
        raises=[NotFound, Conflict],
        status_code=200,
        summary="Acknowledge: someone is on it (stops escalation)",
    )
    async def acknowledge(
        self,
        principal: CurrentPrincipal,
        alerts: Alerts,
        language: Language,
        alert_id: FromPath[str],
    ) -> schemas.Alert:
        return await alerts.acknowledge(principal, alert_id, language)

    @post(
        "/{alert_id:str}/resolve",
        access=MEMBER_OR_ADMIN,
        raises=[NotFound],
        status_code=200,
        summary="Resolve, with a note",
    )
    async def resolve(
        self,
        principal: CurrentPrincipal,
        alerts: Alerts,
        language: Language,
        alert_id: FromPath[str],
        data: JSONBody[schemas.Resolution],
    ) -> schemas.Alert:
        return await alerts.resolve(principal, alert_id, data.note, language)

    @post(
        "/{alert_id:str}/feedback",
        access=MEMBER,
        raises=[NotFound],
        status_code=200,
        summary="Was it real? (confirmed or false alarm)",
    )
    async def feedback(
        self,
        principal: CurrentPrincipal,
        alerts: Alerts,
        language: Language,
        alert_id: FromPath[str],
        data: JSONBody[schemas.Feedback],
    ) -> schemas.Alert:
        return await alerts.feedback(principal, alert_id, data, language)
