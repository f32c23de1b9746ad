"""What the app keeps offline (delta sync) and the plugin's part of the city KPIs."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import msgspec

from core import tenancy
from core.identity.access import Principal
from core.plugin import PluginContext
from core.sync import Tombstone
from plugins.red_tide.models import Cage, FeedingLog, FeedingPlan, FishFarm, SeaArea
from plugins.red_tide.services.common import BUOY, PLUGIN, SYNC_PLANS, as_id
from plugins.red_tide.services.farms import (
    FEEDING_RELATED,
    cages_out,
    farms_out,
    feeding_out,
    plans_out,
)
from plugins.red_tide.services.sea import areas_out


def _builtins(value: Any) -> dict[str, Any]:
    result: dict[str, Any] = msgspec.to_builtins(value, builtin_types=(datetime, date))
    return result


async def changes(
    ctx: PluginContext, principal: Principal, since: datetime | None
) -> dict[str, tuple[list[dict[str, Any]], list[str]]]:
    """What changed since ``since`` per collection: areas (public), and the caller's farms,
    cages, feeding plans and feeding logs."""

    def changed(queryset: Any) -> Any:
        return queryset.filter(updated_at__gte=since) if since is not None else queryset

    areas = await changed(SeaArea.all()).order_by("updated_at", "id")
    farms = await changed(tenancy.scope(FishFarm.all(), principal)).prefetch_related("area")
    cages = await changed(tenancy.scope(Cage.all(), principal)).prefetch_related("farm__area")
    plans = await changed(tenancy.scope(FeedingPlan.all(), principal))
    logs = await changed(tenancy.scope(FeedingLog.all(), principal)).prefetch_related(
        *FEEDING_RELATED
    )
    deleted_plans: list[str] = []
    if since is not None:
        gone = Tombstone.filter(plugin=PLUGIN, collection=SYNC_PLANS, deleted_at__gte=since)
        if not principal.is_admin:
            gone = gone.filter(organization_id__in=list(principal.organization_ids))
        deleted_plans = [as_id(i) for i in await gone.values_list("object_id", flat=True)]
    return {
        "areas": ([_builtins(a) for a in await areas_out(ctx, areas)], []),
        "farms": ([_builtins(f) for f in await farms_out(farms)], []),
        "cages": ([_builtins(c) for c in await cages_out(ctx, cages)], []),
        SYNC_PLANS: ([_builtins(p) for p in await plans_out(plans)], deleted_plans),
        "feeding_logs": ([_builtins(feeding_out(log)) for log in logs], []),
    }


async def detection_sites(start: datetime, end: datetime) -> int:
    """Buoys that reported in the period (the city KPI ``redtide_detection_sites``)."""
    from core.kpis import active_devices

    return len(await active_devices(start, end, BUOY))
