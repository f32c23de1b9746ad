"""Delivering the notification outbox: claim due rows, push them, record every attempt.

Any instance may deliver: a row is claimed by a conditional update, and a claim that is not
finished within ``CLAIM_S`` (a crashed instance) becomes due again. The instance that wrote a
notification is woken at once; the others find stragglers on their next poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, time, timedelta
from typing import Any

import msgspec
from tortoise.expressions import Q

from core.alerts.models import DeliveryAttempt, Notification, PushStatus, PushToken
from core.alerts.push import PushMessage, PushResult, PushSender
from core.clock import Clock, zone_named
from core.i18n import Text
from core.identity.models import User

log = logging.getLogger("minori.outbox")

CLAIM_S = 60
MAX_ATTEMPTS = 8
BACKOFF_CAP_S = 600
BATCH = 500


def rendered(message: dict[str, Any], part: str, language: str) -> str:
    """One part (``title`` or ``body``) of a stored message, in ``language``."""
    return msgspec.convert(message[part], Text).render(language)


def backoff(attempts: int) -> timedelta:
    """2 s, 4 s, 8 s … capped at ten minutes."""
    return timedelta(seconds=min(2**attempts, BACKOFF_CAP_S))


def quiet_until(user: User, now: datetime) -> datetime | None:
    """When the user's quiet hours end, if ``now`` falls inside them."""
    if user.quiet_start is None or user.quiet_end is None or user.quiet_start == user.quiet_end:
        return None
    zone = zone_named(user.timezone)
    local = now.astimezone(zone)
    start, end = time.fromisoformat(user.quiet_start), time.fromisoformat(user.quiet_end)
    clock_time = local.time()
    inside = start <= clock_time < end if start < end else clock_time >= start or clock_time < end
    if not inside:
        return None
    end_day = local.date() if clock_time < end else local.date() + timedelta(days=1)
    return datetime.combine(end_day, end, tzinfo=zone)


class PushDispatcher:
    def __init__(self, clock: Clock, sender: PushSender, poll_s: float = 1.0) -> None:
        self.clock = clock
        self.sender = sender
        self.poll_s = poll_s
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run_forever(self) -> None:
        while True:
            # asyncio.timeout, not wait_for: Python 3.11's wait_for loses a cancellation that
            # arrives as the wait ends, and shutdown would then wait for this loop forever.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.poll_s):
                    await self._wake.wait()
            self._wake.clear()
            try:
                while await self.deliver_due() == BATCH:
                    pass
            except Exception:
                log.exception("push delivery round failed")

    async def deliver_due(self) -> int:
        """Deliver every notification that is due now; return how many were claimed."""
        now = self.clock.now()
        due = (
            await Notification.filter(
                push_status__in=[PushStatus.PENDING, PushStatus.SENDING], next_attempt_at__lte=now
            )
            .order_by("next_attempt_at")
            .limit(BATCH)
            .values_list("id", "next_attempt_at")
        )
        claimed: list[Notification] = []
        for notification_id, due_at in due:
            won = await Notification.filter(Q(id=notification_id, next_attempt_at=due_at)).update(
                push_status=PushStatus.SENDING, next_attempt_at=now + timedelta(seconds=CLAIM_S)
            )
            if won:
                claimed.append(await Notification.get(id=notification_id))
        if claimed:
            await self._deliver(claimed, now)
        return len(claimed)

    async def _deliver(self, notifications: list[Notification], now: datetime) -> None:
        user_ids = {n.user_id for n in notifications}
        users = {u.id: u for u in await User.filter(id__in=user_ids)}
        tokens: dict[object, list[PushToken]] = {}
        for token in await PushToken.filter(user_id__in=user_ids):
            tokens.setdefault(token.user_id, []).append(token)

        outgoing: list[tuple[Notification, PushMessage]] = []
        for notification in notifications:
            user = users[notification.user_id]
            if not notification.critical and (resume := quiet_until(user, now)):
                notification.push_status = PushStatus.PENDING
                notification.next_attempt_at = resume
                await notification.save(update_fields=["push_status", "next_attempt_at"])
                continue
            user_tokens = tokens.get(notification.user_id, [])
            if not user_tokens:
                notification.push_status = PushStatus.NO_DEVICE
                notification.next_attempt_at = None
                await notification.save(update_fields=["push_status", "next_attempt_at"])
                continue
            data = {k: str(v) for k, v in notification.data.items()}
            data |= {"notification_id": str(notification.id), "plugin": notification.plugin}
            for token in user_tokens:
                outgoing.append(
                    (
                        notification,
                        PushMessage(
                            token=token.token,
                            kind=token.kind,
                            title=rendered(notification.message, "title", user.locale),
                            body=rendered(notification.message, "body", user.locale),
                            data=data,
                            critical=notification.critical,
                        ),
                    )
                )
        if not outgoing:
            return
        try:
            results = await self.sender.send([message for _n, message in outgoing])
        except Exception as exc:  # the sender itself broke: every message is retried
            log.exception("push sender failed")
            results = [
                PushResult(m.token, "retry", f"{type(exc).__name__}: {exc}") for _n, m in outgoing
            ]
        await self._record(outgoing, results, now)

    async def _record(
        self,
        outgoing: list[tuple[Notification, PushMessage]],
        results: list[PushResult],
        now: datetime,
    ) -> None:
        await DeliveryAttempt.bulk_create(
            [
                DeliveryAttempt(
                    notification_id=n.id, token=r.token, outcome=r.outcome, error=r.error
                )
                for (n, _m), r in zip(outgoing, results, strict=True)
            ]
        )
        dead = [r.token for r in results if r.outcome == "dead_token"]
        if dead:
            await PushToken.filter(token__in=dead).delete()
            log.info("pruned %d dead push tokens", len(dead))
        by_notification: dict[object, list[PushResult]] = {}
        for (notification, _m), result in zip(outgoing, results, strict=True):
            by_notification.setdefault(notification.id, []).append(result)
        for notification in {n.id: n for n, _m in outgoing}.values():
            outcomes = by_notification[notification.id]
            notification.attempts += 1
            errors = [r.error for r in outcomes if r.error]
            notification.last_error = "; ".join(errors)[:2000] or None
            if any(r.outcome == "sent" for r in outcomes):
                notification.push_status, notification.next_attempt_at = PushStatus.SENT, None
            elif (
                any(r.outcome == "retry" for r in outcomes) and notification.attempts < MAX_ATTEMPTS
            ):
                notification.push_status = PushStatus.PENDING
                notification.next_attempt_at = now + backoff(notification.attempts)
            elif all(r.outcome == "dead_token" for r in outcomes):
                notification.push_status, notification.next_attempt_at = PushStatus.NO_DEVICE, None
            else:
                notification.push_status, notification.next_attempt_at = PushStatus.FAILED, None
            await notification.save(
                update_fields=["attempts", "last_error", "push_status", "next_attempt_at"]
            )
