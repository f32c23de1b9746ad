"""Home-screen cards and offline sync of the drone spraying plugin.

Cards: a pre-harvest interval ending within ``interval_card_days`` (priority 38), a pilot
licence expiring within ``licence_warning_days`` (35) and a drone inspection due within
``inspection_warning_days`` (30): heads-ups, below every alert. Once a licence has expired or
an inspection is overdue it is an alert instead (``licence_expired``,
``inspection_overdue``), and core shows every open alert, so there is no card for it.

Sync: ``fields``, ``seasons``, ``spray_records``, ``drones``, ``operators`` and
``pesticides`` (the catalogue with its label rules), each only when something changed.
Nothing is ever deleted here, so every ``deleted`` list is empty; a voided record comes as an
upsert with ``status: voided``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from core.feed import Card
from core.identity.access import Principal
from core.plugin import PluginContext
from core.sync import Changes
from plugins.drone_spraying import services
from plugins.drone_spraying.i18n import _

INTERVAL_PRIORITY = 38
LICENCE_PRIORITY = 35
INSPECTION_PRIORITY = 30


async def feed(ctx: PluginContext, principal: Principal) -> list[Card]:
    today = ctx.today()
    cards: list[Card] = []
    for season in await services.seasons_with_interval_ending(ctx, principal):
        day = season.earliest_harvest_date
        assert day is not None
        cards.append(
            Card(
                id=f"interval:{season.id}:{day.isoformat()}",
                type="interval_ends",
                priority=INTERVAL_PRIORITY,
                title=_("Harvest allowed from {date}", date=day.isoformat()),
                body=_(
                    "{field} ({crop}): the pre-harvest interval of the last spraying ends "
                    "in {days} days.",
                    field=season.field.name,
                    crop=season.crop,
                    days=(day - today).days,
                ),
                created_at=season.updated_at,
                target_kind=f"{services.PLUGIN}.season",
                target_id=str(season.id),
            )
        )
    for operator in await services.operators_expiring(ctx, principal):
        expires = operator.licence_expires
        assert expires is not None
        cards.append(
            Card(
                id=f"licence:{operator.id}:{expires.isoformat()}",
                type="licence_expiring",
                priority=LICENCE_PRIORITY,
                title=_("Pilot licence expires soon"),
                body=_(
                    "The licence of {operator} expires on {date}, in {days} days.",
                    operator=operator.name,
                    date=expires.isoformat(),
                    days=(expires - today).days,
                ),
                created_at=operator.updated_at,
                target_kind=f"{services.PLUGIN}.operator",
                target_id=str(operator.id),
            )
        )
    for drone in await services.drones_due(ctx, principal):
        due = services.inspection_due(services.settings_of(ctx), drone)
        assert due is not None
        cards.append(
            Card(
                id=f"inspection:{drone.id}:{due.isoformat()}",
                type="inspection_due",
                priority=INSPECTION_PRIORITY,
                title=_("Drone inspection due soon"),
                body=_(
                    "The inspection of drone {drone} is due on {date}.",
                    drone=drone.registration_number,
                    date=due.isoformat(),
                ),
                created_at=drone.updated_at,
                target_kind=f"{services.PLUGIN}.drone",
                target_id=str(drone.id),
            )
        )
    return cards


async def sync(
    ctx: PluginContext, principal: Principal, since: datetime | None
) -> Mapping[str, Changes]:
    changed = await services.changes(ctx, principal, since)
    return {name: Changes(upserted=rows, deleted=[]) for name, rows in changed.items() if rows}
