from __future__ import annotations

from datetime import datetime
from typing import Annotated, TypeAlias

from litestar import Controller, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from core.errors import Conflict, NotFound
from core.identity.access import ANY_USER, DEVICE, MEMBER_OR_ADMIN, CurrentPrincipal
from core.pagination import Cursor, Limit
from core.telemetry import schemas
from core.telemetry.devices import Caller, DeviceService
from core.telemetry.ingest import Ingestor, ReadingsIn
from core.telemetry.models import Device, Gateway

Devices: TypeAlias = NamedDependency[DeviceService]
ReadingLimit = Annotated[
    int, QueryParameter(ge=1, le=10_000, description="Readings per page, 1 to 10000.")
]


class DeviceController(Controller):
    path = "/api/v1/devices"
    tags = ["devices"]

    @post(
        access=MEMBER_OR_ADMIN,
        raises=[Conflict],
        summary="Register a device; its key is shown once",
    )
    async def create(
        self, principal: CurrentPrincipal, devices: Devices, data: JSONBody[schemas.DeviceCreate]
    ) -> schemas.DeviceWithKey:
        return await devices.create_device(principal, data)

    @get(access=ANY_USER, summary="Devices the caller may see")
    async def list_devices(
        self,
        principal: CurrentPrincipal,
        devices: Devices,
        organization_id: FromQuery[str | None] = None,
        kind: FromQuery[str | None] = None,
        status: FromQuery[str | None] = None,
        cursor: Cursor = None,
        limit: Limit = 50,
    ) -> schemas.DeviceList:
        return await devices.list_devices(principal, organization_id, kind, status, cursor, limit)

    @get("/{device_id:str}", access=ANY_USER, raises=[NotFound], summary="One device")
    async def get_device(
        self, principal: CurrentPrincipal, devices: Devices, device_id: FromPath[str]
    ) -> schemas.Device:
        return await devices.get_device(principal, device_id)

    @post(
        "/{device_id:str}/rotate-key",
        access=MEMBER_OR_ADMIN,
        raises=[NotFound],
        status_code=200,
        summary="A new key; the old one stops working at once",
    )
    async def rotate_key(
        self, principal: CurrentPrincipal, devices: Devices, device_id: FromPath[str]
    ) -> schemas.Key:
        return await devices.rotate_key(Device, principal, device_id)

    @delete(
        "/{device_id:str}",
        access=MEMBER_OR_ADMIN,
        raises=[NotFound],
        summary="Revoke: the key stops working, the device and its readings stay",
    )
    async def revoke(
        self, principal: CurrentPrincipal, devices: Devices, device_id: FromPath[str]
    ) -> None:
        await devices.revoke(Device, principal, device_id)

    @get(
        "/{device_id:str}/readings",
        access=ANY_USER,
        raises=[NotFound],
        summary="Readings in time order (from inclusive, to exclusive)",
    )
    async def readings(
        self,
        principal: CurrentPrincipal,
        devices: Devices,
        device_id: FromPath[str],
        metric: FromQuery[str | None] = None,
        start: Annotated[datetime | None, QueryParameter(name="from")] = None,
        end: Annotated[datetime | None, QueryParameter(name="to")] = None,
        cursor: Cursor = None,
        limit: ReadingLimit = 1000,
    ) -> schemas.ReadingPage:
        return await devices.readings(principal, device_id, metric, start, end, cursor, limit)


class GatewayController(Controller):
    path = "/api/v1/gateways"
    tags = ["devices"]

    @post(access=MEMBER_OR_ADMIN, summary="Register a gateway; its key is shown once")
    async def create(
        self, principal: CurrentPrincipal, devices: Devices, data: JSONBody[schemas.GatewayCreate]
    ) -> schemas.GatewayWithKey:
        return await devices.create_gateway(principal, data)

    @get(access=ANY_USER, summary="Gateways the caller may see")
    async def list_gateways(
        self,
        principal: CurrentPrincipal,
        devices: Devices,
        cursor: Cursor = None,
        limit: Limit = 50,
    ) -> schemas.GatewayList:
        return await devices.list_gateways(principal, cursor, limit)

    @post(
        "/{gateway_id:str}/rotate-key",
        access=MEMBER_OR_ADMIN,
        raises=[NotFound],
        status_code=200,
        summary="A new key; the old one stops working at once",
    )
    async def rotate_key(
        self, principal: CurrentPrincipal, devices: Devices, gateway_id: FromPath[str]
    ) -> schemas.Key:
        return await devices.rotate_key(Gateway, principal, gateway_id)

    @delete("/{gateway_id:str}", access=MEMBER_OR_ADMIN, raises=[NotFound], summary="Revoke")
    async def revoke(
        self, principal: CurrentPrincipal, devices: Devices, gateway_id: FromPath[str]
    ) -> None:
        await devices.revoke(Gateway, principal, gateway_id)


@post(
    "/api/v1/ingest",
    access=DEVICE,
    status_code=202,
    tags=["devices"],
    summary="Readings from a device or gateway (answered once they are stored)",
)
async def ingest(
    device_caller: NamedDependency[Caller],
    ingestor: NamedDependency[Ingestor],
    data: JSONBody[ReadingsIn],
) -> schemas.IngestResult:
    return await ingestor.ingest(device_caller, data.readings)
