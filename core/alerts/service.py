"""Raising, updating and resolving alerts, and the notifications they cause.

Plugins reach this through ``ctx.alerts`` (bound to their name); the routes in
``controllers.py`` use the same service. Each alert and the notification rows of its
recipients are written in one transaction, then the push sender is woken.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import msgspec
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from core import tenancy
from core.alerts import schemas
from core.alerts.models import Alert, AlertStatus, Notification, Severity
from core.alerts.outbox import PushDispatcher, rendered
from core.clock import Clock
from core.errors import Conflict, Invalid
from core.i18n import DEFAULT_LANGUAGE, Text, as_text
from core.identity.access import Principal
from core.identity.models import Organization, Role, User
from core.pagination import page


@dataclass(frozen=True, slots=True)
class Subject:
    """What an alert is about: ``kind`` is namespaced by plugin (``wildlife_traps.trap``)."""

    kind: str
    id: str
    label: str = ""


def _open_key(organization_id: str, plugin: str, type_: str, subject: Subject) -> str:
    return f"{organization_id}|{plugin}|{type_}|{subject.kind}|{subject.id}"


def _message(title: Text, body: Text) -> dict[str, Any]:
    return {"title": msgspec.to_builtins(title), "body": msgspec.to_builtins(body)}


async def organization_members(organization_id: str) -> list[str]:
    ids = await User.filter(
        organizations__id=organization_id, is_active=True, role=Role.MEMBER
    ).values_list("id", flat=True)
    return [str(i) for i in ids]


class Notifier:
    """Writes notifications (inbox items that are also push outbox rows) and wakes the
    push dispatcher once they are committed."""

    def __init__(self, clock: Clock, dispatcher: PushDispatcher) -> None:
        self.clock = clock
        self.dispatcher = dispatcher

    def wake_sender(self) -> None:
        self.dispatcher.wake()

    async def notify(
        self,
        user_ids: Sequence[str],
        *,
        plugin: str,
        title: Text | str,
        body: Text | str,
        data: dict[str, Any] | None = None,
        alert: Alert | None = None,
        critical: bool = False,
    ) -> list[Notification]:
        """Write an inbox item (and push outbox row) per user; call inside the cause's
        transaction so both commit together."""
        message = _message(as_text(title), as_text(body))
        payload = dict(data or {})
        if alert is not None:
            payload["alert_id"] = str(alert.id)
        rows = [
            Notification(
                user_id=user_id,
                plugin=plugin,
                alert=alert,
                message=message,
                data=payload,
                critical=critical,
                next_attempt_at=self.clock.now(),
            )
            for user_id in dict.fromkeys(user_ids)
        ]
        if rows:
            await Notification.bulk_create(rows)
        return rows


class AlertService:
    def __init__(self, clock: Clock, notifier: Notifier) -> None:
        self.clock = clock
        self.notifier = notifier

    async def raise_(
        self,
        *,
        plugin: str,
        organization_id: str,
        type: str,
        severity: Severity,
        title: Text | str,
        body: Text | str,
        subject: Subject,
        data: dict[str, Any] | None = None,
        model_version: str | None = None,
        notify: Sequence[Sequence[str]] | None = None,
        escalate_after: timedelta | None = None,
        dedupe: bool = True,
    ) -> Alert:
        """Open an alert, or count a repeat of the open one for the same subject and type.

        ``notify`` lists recipients in tiers: the first tier hears at once; for a critical
        alert not acknowledged within ``escalate_after``, each further tier in turn. Without
        it, the organization's members are told. A repeat notifies nobody again.
        """
        now = self.clock.now()
        key = _open_key(organization_id, plugin, type, subject) if dedupe else None
        title_text, body_text = as_text(title), as_text(body)
        for _attempt in range(3):
            async with in_transaction():
                existing = await Alert.get_or_none(open_key=key) if key else None
                if existing is not None:
                    existing.count += 1
                    existing.last_seen = now
                    existing.title = title_text.render(DEFAULT_LANGUAGE)
                    existing.body = body_text.render(DEFAULT_LANGUAGE)
                    existing.message = _message(title_text, body_text)
                    existing.data = {**existing.data, **(data or {})}
                    existing.model_version = model_version or existing.model_version
                    if _rank(severity) < _rank(existing.severity):
                        existing.severity = severity
                    await existing.save()
                    return existing
                tiers = [list(t) for t in notify] if notify else []
                if not tiers:
                    tiers = [await organization_members(organization_id)]
                escalates = severity is Severity.CRITICAL and escalate_after and len(tiers) > 1
                try:
                    alert = await Alert.create(
                        organization_id=organization_id,
                        plugin=plugin,
                        type=type,
                        severity=severity,
                        title=title_text.render(DEFAULT_LANGUAGE),
                        body=body_text.render(DEFAULT_LANGUAGE),
                        message=_message(title_text, body_text),
                        subject_kind=subject.kind,
                        subject_id=subject.id,
                        subject_label=subject.label,
                        open_key=key,
                        first_seen=now,
                        last_seen=now,
                        model_version=model_version,
                        data=data or {},
                        escalation=tiers,
                        escalate_at=now + escalate_after if escalates else None,
                        escalate_after_s=int(escalate_after.total_seconds()) if escalates else None,
                    )
                except IntegrityError:
                    continue  # another request opened it first: count this as its repeat
                await self.notifier.notify(
                    tiers[0],
                    plugin=plugin,
                    title=title_text,
                    body=body_text,
                    alert=alert,
                    critical=severity is Severity.CRITICAL,
                )
            self.notifier.wake_sender()
            return alert
        raise RuntimeError(f"could not open or update alert {key}")

    async def resolve(
        self,
        *,
        plugin: str,
        organization_id: str,
        type: str,
        subject: Subject,
        note: str | None = None,
    ) -> Alert | None:
        """Resolve the open alert for this subject and type, if there is one."""
        alert = await Alert.get_or_none(open_key=_open_key(organization_id, plugin, type, subject))
        if alert is None:
            return None
        return await self.mark_resolved(alert, None, note)

    async def mark_resolved(self, alert: Alert, user_id: str | None, note: str | None) -> Alert:
        if alert.status is AlertStatus.RESOLVED:
            return alert
        alert.status = AlertStatus.RESOLVED
        alert.resolved_at = self.clock.now()
        alert.resolved_by_id = user_id  # type: ignore[assignment]
        alert.resolution_note = note
        alert.open_key = None
        alert.escalate_at = None
        await alert.save()
        return alert

    async def escalate_due(self) -> int:
        """Notify the next tier of every critical alert still unacknowledged past its delay."""
        now = self.clock.now()
        escalated = 0
        due = await Alert.filter(status=AlertStatus.OPEN, escalate_at__lte=now)
        for alert in due:
            level = alert.escalation_level + 1
            async with in_transaction():
                claimed = await Alert.filter(
                    id=alert.id, escalation_level=alert.escalation_level, status=AlertStatus.OPEN
                ).update(
                    escalation_level=level,
                    escalate_at=(
                        now + timedelta(seconds=alert.escalate_after_s or 0)
                        if level + 1 < len(alert.escalation)
                        else None
                    ),
                )
                if not claimed or level >= len(alert.escalation):
                    continue
                message = msgspec.convert(alert.message, dict[str, Text])
                await self.notifier.notify(
                    alert.escalation[level],
                    plugin=alert.plugin,
                    title=message["title"],
                    body=message["body"],
                    data={"escalation_level": level},
                    alert=alert,
                    critical=True,
                )
                escalated += 1
        if escalated:
            self.notifier.wake_sender()
        return escalated


_SEVERITY_ORDER = [s for s in Severity]


def _rank(severity: Severity) -> int:
    return _SEVERITY_ORDER.index(Severity(severity))


class PluginAlerts:
    """``ctx.alerts``: raise and resolve alerts under the plugin's name."""

    def __init__(self, service: AlertService, plugin: str) -> None:
        self._service = service
        self._plugin = plugin

    async def raise_(self, **kwargs: Any) -> Alert:
        return await self._service.raise_(plugin=self._plugin, **kwargs)

    async def resolve(self, **kwargs: Any) -> Alert | None:
        return await self._service.resolve(plugin=self._plugin, **kwargs)


class PluginNotifier:
    """``ctx.notifier``: tell users something (an answer arrived) under the plugin's name.

    Call it inside the transaction that records the cause, then ``wake()`` after it commits.
    """

    def __init__(self, notifier: Notifier, plugin: str) -> None:
        self._notifier = notifier
        self._plugin = plugin

    async def notify(self, user_ids: Sequence[str], **kwargs: Any) -> list[Notification]:
        return await self._notifier.notify(user_ids, plugin=self._plugin, **kwargs)

    def wake(self) -> None:
        self._notifier.wake_sender()


class AlertQueries:
    """What the alert routes read and change, with tenancy applied."""

    def __init__(self, service: AlertService) -> None:
        self.service = service

    @staticmethod
    def alert_out(alert: Alert, language: str) -> schemas.Alert:
        def person(user: User | None) -> schemas.Person | None:
            return schemas.Person(str(user.id), user.display_name) if user else None

        return schemas.Alert(
            id=str(alert.id),
            plugin=alert.plugin,
            type=alert.type,
            severity=alert.severity,
            status=alert.status,
            title=rendered(alert.message, "title", language) if alert.message else alert.title,
            body=rendered(alert.message, "body", language) if alert.message else alert.body,
            subject=schemas.AlertSubject(alert.subject_kind, alert.subject_id, alert.subject_label),
            organization_id=str(alert.organization_id),
            count=alert.count,
            first_seen=alert.first_seen,
            last_seen=alert.last_seen,
            acknowledged_by=person(alert.acknowledged_by),
            acknowledged_at=alert.acknowledged_at,
            resolved_by=person(alert.resolved_by),
            resolved_at=alert.resolved_at,
            resolution_note=alert.resolution_note,
            feedback=alert.feedback,
            model_version=alert.model_version,
            data=alert.data,
        )

    async def list(
        self,
        principal: Principal,
        language: str,
        *,
        status: AlertStatus | None,
        severity: Severity | None,
        plugin: str | None,
        subject_kind: str | None,
        subject_id: str | None,
        cursor: str | None,
        limit: int,
    ) -> schemas.AlertList:
        queryset = tenancy.scope(Alert.all(), principal)
        if status is None:
            queryset = queryset.filter(status__in=[AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED])
        else:
            queryset = queryset.filter(status=status)
        for name, value in (
            ("severity", severity),
            ("plugin", plugin),
            ("subject_kind", subject_kind),
            ("subject_id", subject_id),
        ):
            if value is not None:
                queryset = queryset.filter(**{name: value})
        rows, next_cursor = await page(
            queryset.prefetch_related("acknowledged_by", "resolved_by"),
            cursor,
            limit,
            newest_first=True,
        )
        return schemas.AlertList([self.alert_out(a, language) for a in rows], next_cursor)

    async def get(self, principal: Principal, alert_id: str, language: str) -> schemas.Alert:
        alert = await tenancy.get(
            Alert.all().prefetch_related("acknowledged_by", "resolved_by"), alert_id, principal
        )
        return self.alert_out(alert, language)

    async def _writable(self, principal: Principal, alert_id: str) -> Alert:
        return await tenancy.get(Alert.all(), alert_id, principal, write=True)

    async def acknowledge(
        self, principal: Principal, alert_id: str, language: str
    ) -> schemas.Alert:
        alert = await self._writable(principal, alert_id)
        if alert.status is AlertStatus.RESOLVED:
            raise Conflict("This alert is resolved; there is nothing to acknowledge.")
        if alert.status is AlertStatus.OPEN:
            await Alert.filter(id=alert.id, status=AlertStatus.OPEN).update(
                status=AlertStatus.ACKNOWLEDGED,
                acknowledged_by_id=principal.user_id,
                acknowledged_at=self.service.clock.now(),
                escalate_at=None,
            )
        return await self.get(principal, alert_id, language)

    async def resolve(
        self, principal: Principal, alert_id: str, note: str | None, language: str
    ) -> schemas.Alert:
        alert = await self._writable(principal, alert_id)
        await self.service.mark_resolved(alert, principal.user_id, note)
        return await self.get(principal, alert_id, language)

    async def feedback(
        self, principal: Principal, alert_id: str, data: schemas.Feedback, language: str
    ) -> schemas.Alert:
        alert = await self._writable(principal, alert_id)
        alert.feedback = data.verdict
        alert.feedback_note = data.note
        await alert.save(update_fields=["feedback", "feedback_note"])
        return await self.get(principal, alert_id, language)

    async def create_manual(
        self, principal: Principal, data: schemas.ManualAlert, language: str
    ) -> schemas.Alert:
        organization = await Organization.get_or_none(
            id=tenancy.parse_id(data.organization_id) or uuid.uuid4()
        )
        if organization is None:
            raise Invalid.field("/organization_id", "unknown or not accessible")
        alert = await self.service.raise_(
            plugin="core",
            organization_id=str(organization.id),
            type="manual",
            severity=data.severity,
            title=data.title,
            body=data.body,
            subject=Subject("organization", str(organization.id), organization.name),
            data={"author_id": principal.user_id},
            dedupe=False,
        )
        return await self.get(
            Principal(principal.user_id, Role.ADMIN, principal.organization_ids),
            str(alert.id),
            language,
        )
