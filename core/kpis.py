"""The city's KPIs, measured live: ``GET /api/v1/kpis?from=&to=``.

Core counts the farmers and fishers using IoT from the devices that reported in the period;
plugins add their KPIs through their ``kpis`` slot (providers of one key are summed, each
plugin's share kept in ``parts``).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

import msgspec
from litestar import get
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from core.clock import Clock
from core.errors import Invalid
from core.i18n import Language, Text, _
from core.identity.access import STAFF
from core.identity.models import OrganizationKind, Role, User
from core.registry import PluginRegistry
from core.telemetry.models import Device, DeviceDay

CITY_KPIS: dict[str, Text] = {
    "online_consultations": _("Online consultations"),
    "farmers_using_iot": _("Farmers using IoT"),
    "fishers_using_iot": _("Fishers using IoT"),
    "wildlife_detection_sites": _("IoT wildlife detection sites"),
    "redtide_detection_sites": _("IoT red-tide detection sites"),
}


class Period(msgspec.Struct):
    start: datetime = msgspec.field(name="from")
    end: datetime = msgspec.field(name="to")


class KPIValue(msgspec.Struct):
    key: str
    label: str
    value: int
    plugin: str | None
    parts: dict[str, int]


class KPIReport(msgspec.Struct):
    period: Period
    kpis: list[KPIValue]


async def active_devices(start: datetime, end: datetime, kind_prefix: str = "") -> list[Device]:
    """Devices that reported on a day of ``[start, end)`` (UTC days), optionally of one
    plugin's kinds (``kind_prefix="wildlife_traps."``)."""
    device_ids = (
        await DeviceDay.filter(
            day__gte=start.date(), day__lte=(end - timedelta(microseconds=1)).date()
        )
        .distinct()
        .values_list("device_id", flat=True)
    )
    queryset = Device.filter(id__in=list(device_ids))
    if kind_prefix:
        queryset = queryset.filter(kind__startswith=kind_prefix)
    return await queryset.prefetch_related("organization")


async def people_using_iot(start: datetime, end: datetime) -> dict[str, dict[str, set[str]]]:
    """For farms and fisheries: per plugin, the members whose organization had a device
    report in the period."""
    users: dict[str, dict[str, set[str]]] = {"farm": defaultdict(set), "fishery": defaultdict(set)}
    orgs: dict[str, dict[str, set[str]]] = {"farm": defaultdict(set), "fishery": defaultdict(set)}
    for device in await active_devices(start, end):
        kind = device.organization.kind
        if kind in (OrganizationKind.FARM, OrganizationKind.FISHERY):
            orgs[kind.value][device.kind.split(".")[0]].add(str(device.organization_id))
    for kind, by_plugin in orgs.items():
        for plugin, org_ids in by_plugin.items():
            members = await User.filter(
                organizations__id__in=list(org_ids), role=Role.MEMBER, is_active=True
            ).values_list("id", flat=True)
            users[kind][plugin] = {str(m) for m in members}
    return users


def default_period(now: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    local = now.astimezone(zone)
    start = datetime.combine(local.date().replace(day=1), time(), tzinfo=zone)
    next_month = (start + timedelta(days=32)).replace(day=1)
    return start, next_month


def _moment(value: str | None, parameter: str, zone: ZoneInfo) -> datetime | None:
    if value is None:
        return None
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), time(), tzinfo=zone)
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise Invalid.parameter(parameter, "a date (YYYY-MM-DD) or an RFC 3339 time") from None
    if moment.tzinfo is None:
        raise Invalid.parameter(parameter, "give the time with its UTC offset")
    return moment


class KPIs:
    """What the KPI route needs: the plugins, the clock and the city's time zone."""

    def __init__(self, registry: PluginRegistry, clock: Clock) -> None:
        self.registry = registry
        self.clock = clock
        self.zone = registry.services.city_zone


@get("/api/v1/kpis", access=STAFF, tags=["kpis"], summary="The city's KPIs for a period")
async def kpis(
    city: NamedDependency[KPIs],
    language: Language,
    start: Annotated[
        str | None,
        QueryParameter(name="from", description="Start (inclusive): a date or RFC 3339 time."),
    ] = None,
    end: Annotated[
        str | None,
        QueryParameter(name="to", description="End (exclusive): a date or RFC 3339 time."),
    ] = None,
) -> KPIReport:
    zone = city.zone
    default_start, default_end = default_period(city.clock.now(), zone)
    period_start = _moment(start, "from", zone) or default_start
    period_end = _moment(end, "to", zone) or default_end
    if period_start > period_end:
        raise Invalid.parameter("from", "from must not be after to")

    values: dict[str, dict[str, int]] = {key: {} for key in CITY_KPIS}
    labels: dict[str, Text] = dict(CITY_KPIS)
    using = await people_using_iot(period_start, period_end)
    for kind, key in (("farm", "farmers_using_iot"), ("fishery", "fishers_using_iot")):
        values[key] = {plugin: len(people) for plugin, people in using[kind].items()}
        values[key]["total"] = len(set().union(*using[kind].values()))
    for loaded in city.registry.active:
        if loaded.plugin is None or loaded.context is None:
            continue
        for kpi in loaded.plugin.kpis:
            part = await kpi.compute(loaded.context, period_start, period_end)
            values.setdefault(kpi.key, {})[loaded.name] = int(part)
            labels.setdefault(kpi.key, _(kpi.label))

    report: list[KPIValue] = []
    for key, parts in values.items():
        total = parts.pop("total", None)
        plugins = sorted(parts)
        report.append(
            KPIValue(
                key=key,
                label=labels[key].render(language),
                value=total if total is not None else sum(parts.values()),
                plugin="core" if total is not None else (plugins[0] if len(plugins) == 1 else None),
                parts=parts,
            )
        )
    return KPIReport(Period(period_start, period_end), report)
