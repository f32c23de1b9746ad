"""Home-screen cards and offline sync of the mentoring plugin.

Cards: answers received (the asker's questions an advisor answered in the last week),
upcoming consultations (the next week; urgent within a day), pending follow-up tasks, and
for advisors the open questions routed to them and the entrants at risk. Alerts
(``answer_overdue``) need no card: core shows every open alert.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from core.feed import Card
from core.identity.access import Principal
from core.identity.models import Role
from core.plugin import PluginContext
from core.sync import Changes
from plugins.mentoring import services
from plugins.mentoring.i18n import _

ANSWER_PRIORITY = 60
SOON_PRIORITY = 70
UPCOMING_PRIORITY = 50
FOLLOW_UP_PRIORITY = 40
ROUTED_PRIORITY = 55
OVERDUE_PRIORITY = 75
AT_RISK_PRIORITY = 45


async def feed(ctx: PluginContext, principal: Principal) -> list[Card]:
    now = ctx.clock.now()
    cards: list[Card] = []
    if principal.role is Role.MEMBER:
        for question in await services.answered_since(principal, now - timedelta(days=7)):
            assert question.answered_at is not None
            cards.append(
                Card(
                    id=f"answered:{question.id}",
                    type="answer_received",
                    priority=ANSWER_PRIORITY,
                    title=_("Your question was answered"),
                    body=_("You asked: {text}", text=services.excerpt(question.text)),
                    created_at=question.answered_at,
                    target_kind="mentoring.question",
                    target_id=str(question.id),
                )
            )
    for consultation in await services.upcoming(principal, now, now + timedelta(days=7)):
        other = consultation.advisor if principal.role is Role.MEMBER else consultation.entrant.user
        soon = consultation.starts_at - now <= timedelta(days=1)
        cards.append(
            Card(
                id=f"consultation:{consultation.id}",
                type="upcoming_consultation",
                priority=SOON_PRIORITY if soon else UPCOMING_PRIORITY,
                title=_(
                    "Consultation {when}",
                    when=services.local_time(consultation.starts_at, principal.timezone),
                ),
                body=_(
                    "{mode} with {name}",
                    mode=services.MODE_LABELS[consultation.mode],
                    name=other.display_name or other.username,
                ),
                created_at=consultation.created_at,
                target_kind="mentoring.consultation",
                target_id=str(consultation.id),
            )
        )
    count, latest = await services.pending_follow_ups(principal)
    if latest is not None:
        cards.append(
            Card(
                id="follow-ups",
                type="pending_follow_ups",
                priority=FOLLOW_UP_PRIORITY,
                title=_("Follow-up tasks: {count}", count=count),
                body=_("Latest: {title}", title=latest.title),
                created_at=latest.created_at,
                target_kind="mentoring.follow_up",
                target_id=str(latest.id),
            )
        )
    if principal.role is Role.ADVISOR:
        routed, overdue, oldest = await services.routed_open(principal, now)
        if oldest is not None:
            cards.append(
                Card(
                    id="routed-questions",
                    type="questions_waiting",
                    priority=OVERDUE_PRIORITY if overdue else ROUTED_PRIORITY,
                    title=_("Questions waiting for you: {count}", count=routed),
                    body=_("Oldest: {text}", text=services.excerpt(oldest.text)),
                    created_at=oldest.created_at,
                    target_kind="mentoring.question",
                    target_id=str(oldest.id),
                )
            )
        risky = await services.at_risk(ctx, principal)
        if risky:
            cards.append(
                Card(
                    id="at-risk",
                    type="entrants_at_risk",
                    priority=AT_RISK_PRIORITY,
                    title=_("Entrants to check in with: {count}", count=len(risky)),
                    body=_(
                        "{entrant}: no activity for {days} days",
                        entrant=risky[0].entrant.display_name,
                        days=risky[0].inactive_days,
                    ),
                    created_at=risky[0].last_active_at,
                    target_kind="mentoring.entrant",
                    target_id=risky[0].entrant_id,
                )
            )
    return cards


async def sync(
    ctx: PluginContext, principal: Principal, since: datetime | None
) -> Mapping[str, Changes]:
    collections = await services.changes(principal, since)
    return {
        name: Changes(upserted=upserted, deleted=deleted)
        for name, (upserted, deleted) in collections.items()
    }
