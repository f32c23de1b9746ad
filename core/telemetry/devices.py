"""Devices and gateways: registration, keys, status, readings. The only telemetry module
(with the writer) that touches the database."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q

from core import tenancy
from core.clock import Clock
from core.errors import Conflict, Invalid, Unauthorized
from core.identity.access import Principal
from core.identity.models import Organization
from core.identity.tokens import new_secret, token_hash
from core.pagination import decode_cursor, encode_cursor, page
from core.telemetry import schemas
from core.telemetry.kinds import DeviceKinds
from core.telemetry.models import Device, Gateway, Reading

K = TypeVar("K")
V = TypeVar("V")

KEY_CACHE_S = 30.0
"""How long a key lookup is remembered. Rotation and revocation clear it at once in this
process; other replicas notice within this time."""


_DEVICE_CHALLENGE = {"WWW-Authenticate": "Device"}


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is posting readings: a device (for itself) or a gateway (for its organization)."""

    kind: str
    id: uuid.UUID
    organization_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class DeviceRef:
    """What ingestion and plugin handlers need to know of a device."""

    id: uuid.UUID
    organization_id: uuid.UUID
    kind: str
    name: str
    subject_kind: str | None
    subject_id: str | None
    revoked: bool


def _ref(device: Device) -> DeviceRef:
    return DeviceRef(
        id=device.id,
        organization_id=device.organization_id,  # type: ignore[arg-type]
        kind=device.kind,
        name=device.name,
        subject_kind=device.subject_kind,
        subject_id=device.subject_id,
        revoked=device.revoked_at is not None,
    )


class _TTLCache(Generic[K, V]):
    def __init__(self, ttl_s: float) -> None:
        self.ttl_s = ttl_s
        self._items: dict[K, tuple[float, V]] = {}

    def get(self, key: K) -> V | None:
        hit = self._items.get(key)
        if hit is None or hit[0] < time.monotonic():
            return None
        return hit[1]

    def put(self, key: K, value: V) -> None:
        if len(self._items) > 200_000:
            self._items.clear()
        self._items[key] = (time.monotonic() + self.ttl_s, value)

    def drop(self, predicate: Callable[[K, V], bool]) -> None:
        self._items = {k: v for k, v in self._items.items() if not predicate(k, v[1])}


class DeviceService:
    def __init__(self, clock: Clock, kinds: DeviceKinds) -> None:
        self.clock = clock
        self.kinds = kinds
        self._callers: _TTLCache[str, Caller] = _TTLCache(KEY_CACHE_S)
        self._devices: _TTLCache[uuid.UUID, DeviceRef] = _TTLCache(KEY_CACHE_S)

    # authentication of device traffic

    async def authenticate(self, header: str | None) -> Caller:
        scheme, _, key = (header or "").partition(" ")
        if scheme.lower() != "device" or not key:
            raise Unauthorized("Send Authorization: Device <key>.", headers=_DEVICE_CHALLENGE)
        digest = token_hash(key.strip())
        caller = self._callers.get(digest)
        if caller is None:
            caller = await self._lookup(digest)
            if caller is None:
                raise Unauthorized("Unknown, rotated or revoked key.", headers=_DEVICE_CHALLENGE)
            self._callers.put(digest, caller)
        return caller

    async def _lookup(self, digest: str) -> Caller | None:
        device = await Device.get_or_none(key_hash=digest, revoked_at__isnull=True)
        if device is not None:
            return Caller("device", device.id, device.organization_id)  # type: ignore[arg-type]
        gateway = await Gateway.get_or_none(key_hash=digest, revoked_at__isnull=True)
        if gateway is not None:
            return Caller("gateway", gateway.id, gateway.organization_id)  # type: ignore[arg-type]
        return None

    async def device(self, device_id: uuid.UUID) -> DeviceRef | None:
        ref = self._devices.get(device_id)
        if ref is None:
            device = await Device.get_or_none(id=device_id)
            if device is None:
                return None
            ref = _ref(device)
            self._devices.put(device_id, ref)
        return ref

    def _forget(self, object_id: uuid.UUID) -> None:
        self._callers.drop(lambda _k, caller: caller.id == object_id)
        self._devices.drop(lambda key, _v: key == object_id)

    # devices

    def status(self, device: Device) -> schemas.DeviceStatus:
        if device.revoked_at is not None:
            return "revoked"
        if device.last_seen is None:
            return "never_seen"
        kind = self.kinds.get(device.kind)
        if kind is not None and self.clock.now() - device.last_seen > kind.offline_after:
            return "offline"
        return "online"

    def device_out(self, device: Device) -> schemas.Device:
        kind = self.kinds.get(device.kind)
        return schemas.Device(
            id=str(device.id),
            kind=device.kind,
            name=device.name,
            organization_id=str(device.organization_id),
            external_id=device.external_id,
            subject=(
                schemas.Subject(device.subject_kind, device.subject_id)
                if device.subject_kind and device.subject_id
                else None
            ),
            expected_interval_s=int(kind.spec.expected_interval.total_seconds()) if kind else 0,
            status=self.status(device),
            last_seen=device.last_seen,
            battery=device.battery,
            created_at=device.created_at,
        )

    async def create_device(
        self, principal: Principal, data: schemas.DeviceCreate
    ) -> schemas.DeviceWithKey:
        kind = self.kinds.get(data.kind)
        if kind is None:
            raise Invalid.field(
                "/kind", f"unknown device kind; known: {', '.join(self.kinds.names())}"
            )
        organization = await tenancy.referenced(
            Organization.all(), data.organization_id, principal, "/organization_id", field=None
        )
        subject_kind = subject_id = None
        if data.subject is not None:
            if data.subject.kind != kind.subject_kind:
                raise Invalid.field(
                    "/subject/kind", f"a {data.kind} describes a {kind.subject_kind or 'nothing'}"
                )
            resolve = kind.resolve_subject
            if resolve is None or not await resolve(
                kind.context, str(organization.id), data.subject.id
            ):
                raise Invalid.field("/subject/id", "unknown or not accessible")
            subject_kind, subject_id = data.subject.kind, data.subject.id
        key = new_secret()
        try:
            device = await Device.create(
                organization=organization,
                kind=data.kind,
                name=data.name,
                external_id=data.external_id,
                subject_kind=subject_kind,
                subject_id=subject_id,
                key_hash=token_hash(key),
            )
        except IntegrityError:
            raise Conflict(
                f"This organization already has a device with external_id {data.external_id!r}."
            ) from None
        return schemas.DeviceWithKey(**_fields(self.device_out(device)), key=key)

    async def list_devices(
        self,
        principal: Principal,
        organization_id: str | None,
        kind: str | None,
        status: str | None,
        cursor: str | None,
        limit: int,
    ) -> schemas.DeviceList:
        queryset = tenancy.scope(Device.all(), principal)
        if organization_id is not None:
            queryset = queryset.filter(
                organization_id=tenancy.parse_id(organization_id) or uuid.uuid4()
            )
        if kind is not None:
            queryset = queryset.filter(kind=kind)
        if status is not None:
            queryset = self._status_filter(queryset, status)
        rows, next_cursor = await page(queryset, cursor, limit)
        return schemas.DeviceList([self.device_out(d) for d in rows], next_cursor)

    def _status_filter(self, queryset, status: str):  # type: ignore[no-untyped-def]
        if status == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        active = queryset.filter(revoked_at__isnull=True)
        if status == "never_seen":
            return active.filter(last_seen__isnull=True)
        now = self.clock.now()
        online = Q()
        for kind in self.kinds:
            cutoff = now - kind.offline_after
            online |= Q(kind=kind.name, last_seen__gte=cutoff)
        if status == "online":
            return active.filter(online)
        if status == "offline":
            return active.filter(last_seen__isnull=False).exclude(online)
        raise Invalid.parameter("status", "one of online, offline, never_seen, revoked")

    async def get_device(self, principal: Principal, device_id: str) -> schemas.Device:
        return self.device_out(await tenancy.get(Device.all(), device_id, principal))

    async def rotate_key(
        self, model: type[Device] | type[Gateway], principal: Principal, object_id: str
    ) -> schemas.Key:
        """A new key for a device or gateway; the old one stops working at once."""
        keyed = await tenancy.get(
            model.filter(revoked_at__isnull=True), object_id, principal, write=True
        )
        key = new_secret()
        keyed.key_hash = token_hash(key)
        await keyed.save(update_fields=["key_hash"])
        self._forget(keyed.id)
        return schemas.Key(key)

    async def revoke(
        self, model: type[Device] | type[Gateway], principal: Principal, object_id: str
    ) -> None:
        """Revoke a device or gateway: it stays listed (a device keeps its readings), but its
        key can never match again."""
        keyed = await tenancy.get(model.all(), object_id, principal, write=True)
        if keyed.revoked_at is None:
            keyed.revoked_at = self.clock.now()
            keyed.key_hash = f"revoked:{uuid.uuid4().hex}"[:64]
            await keyed.save(update_fields=["revoked_at", "key_hash"])
        self._forget(keyed.id)

    async def readings(
        self,
        principal: Principal,
        device_id: str,
        metric: str | None,
        start: datetime | None,
        end: datetime | None,
        cursor: str | None,
        limit: int,
    ) -> schemas.ReadingPage:
        device = await tenancy.get(Device.all(), device_id, principal)
        queryset = Reading.filter(device_id=device.id)
        if metric is not None:
            queryset = queryset.filter(metric=metric)
        if start is not None:
            queryset = queryset.filter(ts__gte=start)
        if end is not None:
            queryset = queryset.filter(ts__lt=end)
        if cursor:
            values = decode_cursor(cursor)
            try:
                after_ts, after_id = datetime.fromisoformat(values[0]), int(values[1])
            except (IndexError, ValueError):
                raise Invalid.parameter("cursor", "not a cursor this service issued") from None
            queryset = queryset.filter(Q(ts__gt=after_ts) | Q(ts=after_ts, id__gt=after_id))
        rows = await queryset.order_by("ts", "id").limit(limit + 1)
        next_cursor = None
        if len(rows) > limit:
            rows = rows[:limit]
            next_cursor = encode_cursor(rows[-1].ts.isoformat(), rows[-1].id)
        return schemas.ReadingPage(
            [schemas.ReadingOut(r.ts, r.metric, r.value, r.received_at) for r in rows],
            next_cursor,
        )

    # gateways

    @staticmethod
    def gateway_out(gateway: Gateway) -> schemas.Gateway:
        return schemas.Gateway(
            id=str(gateway.id),
            name=gateway.name,
            organization_id=str(gateway.organization_id),
            status="revoked" if gateway.revoked_at else "active",
            last_seen=gateway.last_seen,
            created_at=gateway.created_at,
        )

    async def create_gateway(
        self, principal: Principal, data: schemas.GatewayCreate
    ) -> schemas.GatewayWithKey:
        organization = await tenancy.referenced(
            Organization.all(), data.organization_id, principal, "/organization_id", field=None
        )
        key = new_secret()
        gateway = await Gateway.create(
            organization=organization, name=data.name, key_hash=token_hash(key)
        )
        return schemas.GatewayWithKey(**_fields(self.gateway_out(gateway)), key=key)

    async def list_gateways(
        self, principal: Principal, cursor: str | None, limit: int
    ) -> schemas.GatewayList:
        rows, next_cursor = await page(tenancy.scope(Gateway.all(), principal), cursor, limit)
        return schemas.GatewayList([self.gateway_out(g) for g in rows], next_cursor)


def _fields(struct: object) -> dict[str, object]:
    return {name: getattr(struct, name) for name in struct.__struct_fields__}  # type: ignore[attr-defined]
