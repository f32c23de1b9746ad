"""The app's day, end to end through uvicorn on loopback: log in, register the phone, a barn
door opens (a critical alert from the sensors test plugin), the push reaches the phone through
firebase-admin and the local FCM server in the user's language, the inbox and the home screen
show it, it is read and acknowledged, and the next sync carries exactly that.

The same scenario runs twice: with plain HTTP calls, and through a client that
openapi-python-client generates from ``/schema/openapi.json`` (proof that the document is
truthful to a real generator).
"""

from __future__ import annotations

import asyncio
import importlib
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol

import httpx
import pytest

from core.app import create_app
from core.clock import FakeClock
from core.settings import Settings
from tests.conftest import PASSWORD, World, sensor_settings
from tests.fcm_server import FCMServer, fcm_sender
from tests.support import serve

APP_VERSION = "2.3.0"
MOBILE = "/mobile/v1"
STEP = timedelta(minutes=2)
"""Between the scenario's moments: more than the minute a sync cursor looks back."""


class Phone(Protocol):
    """What the app does, one call each; every answer as plain JSON-like values."""

    async def log_in(self, username: str) -> None: ...
    async def create_user(self, body: dict[str, Any]) -> dict[str, Any]: ...
    async def register_push(self, token: str, key: str) -> tuple[int, dict[str, Any]]: ...
    async def create_device(self, body: dict[str, Any], key: str) -> dict[str, Any]: ...
    async def ingest(self, device_key: str, readings: list[dict[str, Any]]) -> dict[str, Any]: ...
    async def inbox(self, language: str) -> dict[str, Any]: ...
    async def home(self, language: str, etag: str | None = None) -> tuple[int, Any, str]: ...
    async def mark_read(self, item_id: str, key: str) -> int: ...
    async def acknowledge(self, alert_id: str, key: str) -> dict[str, Any]: ...
    async def sync(self, cursor: str | None, language: str) -> dict[str, Any]: ...


class PlainPhone:
    """The scenario's calls as plain HTTP."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.token = ""

    def _headers(self, language: str = "ja", key: str | None = None) -> dict[str, str]:
        headers = {
            "Authorization": f"Bearer {self.token}",
            "X-App-Version": APP_VERSION,
            "Accept-Language": language,
        }
        return {**headers, "Idempotency-Key": key} if key else headers

    async def log_in(self, username: str) -> None:
        answer = await self.client.post(
            "/api/v1/auth/token", json={"username": username, "password": PASSWORD}
        )
        assert answer.status_code == 200, answer.text
        self.token = answer.json()["access_token"]

    async def create_user(self, body: dict[str, Any]) -> dict[str, Any]:
        answer = await self.client.post("/api/v1/users", json=body, headers=self._headers())
        assert answer.status_code == 201, answer.text
        return answer.json()  # type: ignore[no-any-return]

    async def register_push(self, token: str, key: str) -> tuple[int, dict[str, Any]]:
        body = {"token": token, "kind": "fcm_token", "platform": "android"}
        body["app_version"] = APP_VERSION
        answer = await self.client.post(
            f"{MOBILE}/push-tokens", json=body, headers=self._headers(key=key)
        )
        return answer.status_code, answer.json()

    async def create_device(self, body: dict[str, Any], key: str) -> dict[str, Any]:
        headers = self._headers(key=key)
        answer = await self.client.post("/api/v1/devices", json=body, headers=headers)
        assert answer.status_code == 201, answer.text
        return answer.json()  # type: ignore[no-any-return]

    async def ingest(self, device_key: str, readings: list[dict[str, Any]]) -> dict[str, Any]:
        answer = await self.client.post(
            "/api/v1/ingest",
            json={"readings": readings},
            headers={"Authorization": f"Device {device_key}"},
        )
        assert answer.status_code == 202, answer.text
        return answer.json()  # type: ignore[no-any-return]

    async def inbox(self, language: str) -> dict[str, Any]:
        answer = await self.client.get(f"{MOBILE}/inbox", headers=self._headers(language))
        assert answer.status_code == 200, answer.text
        return answer.json()  # type: ignore[no-any-return]

    async def home(self, language: str, etag: str | None = None) -> tuple[int, Any, str]:
        headers = self._headers(language)
        if etag:
            headers["If-None-Match"] = etag
        answer = await self.client.get(f"{MOBILE}/home", headers=headers)
        body = answer.json() if answer.status_code == 200 else None
        return answer.status_code, body, answer.headers["etag"]

    async def mark_read(self, item_id: str, key: str) -> int:
        answer = await self.client.post(
            f"{MOBILE}/inbox/{item_id}/read", headers=self._headers(key=key)
        )
        return answer.status_code

    async def acknowledge(self, alert_id: str, key: str) -> dict[str, Any]:
        answer = await self.client.post(
            f"/api/v1/alerts/{alert_id}/ack", headers=self._headers(key=key)
        )
        assert answer.status_code == 200, answer.text
        return answer.json()  # type: ignore[no-any-return]

    async def sync(self, cursor: str | None, language: str) -> dict[str, Any]:
        params = {"cursor": cursor} if cursor else {}
        answer = await self.client.get(
            f"{MOBILE}/sync", params=params, headers=self._headers(language)
        )
        assert answer.status_code == 200, answer.text
        return answer.json()  # type: ignore[no-any-return]


def generate_client(base_url: str, where: Path) -> Any:
    """openapi-python-client, run on the served document, offline, into ``where``."""
    document = where / "openapi.json"
    document.write_bytes(httpx.get(f"{base_url}/schema/openapi.json", timeout=30).content)
    config = where / "generator.yaml"
    config.write_text("package_name_override: minori_client\npost_hooks: []\n", encoding="utf-8")
    generator = Path(sys.executable).parent / "openapi-python-client"
    done = subprocess.run(  # noqa: S603 - the generator of this virtual environment
        [
            str(generator),
            "generate",
            "--path",
            str(document),
            "--output-path",
            str(where / "minori_client"),
            "--meta",
            "none",
            "--config",
            str(config),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    sys.path.insert(0, str(where))
    importlib.invalidate_caches()
    return importlib.import_module("minori_client")


class GeneratedPhone:
    """The scenario's calls through the generated client."""

    def __init__(self, package: Any, base_url: str) -> None:
        self.p = package
        self.base_url = base_url
        self.token = ""

    def _module(self, name: str) -> Any:
        return importlib.import_module(f"minori_client.{name}")

    def _client(self, language: str = "ja") -> Any:
        return self.p.AuthenticatedClient(
            base_url=self.base_url,
            token=self.token,
            headers={"Accept-Language": language},
            timeout=httpx.Timeout(30),
        )

    @staticmethod
    def _ok(response: Any, *statuses: int) -> Any:
        assert int(response.status_code) in statuses, (response.status_code, response.content)
        return response.parsed

    async def log_in(self, username: str) -> None:
        api = self._module("api.identity.api_v1_auth_token_token")
        models = self._module("models")
        client = self.p.Client(base_url=self.base_url, timeout=httpx.Timeout(30))
        answer = await api.asyncio_detailed(
            client=client, body=models.TokenRequest(username=username, password=PASSWORD)
        )
        self.token = self._ok(answer, 200).access_token

    async def create_user(self, body: dict[str, Any]) -> dict[str, Any]:
        api = self._module("api.identity.api_v1_users_create_user")
        models = self._module("models")
        answer = await api.asyncio_detailed(
            client=self._client(), body=models.UserCreate.from_dict(body)
        )
        return self._ok(answer, 201).to_dict()  # type: ignore[no-any-return]

    async def register_push(self, token: str, key: str) -> tuple[int, dict[str, Any]]:
        api = self._module("api.mobile.mobile_v1_push_tokens_register_push_token")
        models = self._module("models")
        body = models.PushTokenIn(
            token=token,
            kind=models.PushKind.FCM_TOKEN,
            platform=models.Platform.ANDROID,
            app_version=APP_VERSION,
        )
        answer = await api.asyncio_detailed(
            client=self._client(), body=body, x_app_version=APP_VERSION, idempotency_key=key
        )
        return int(answer.status_code), self._ok(answer, 200, 201).to_dict()

    async def create_device(self, body: dict[str, Any], key: str) -> dict[str, Any]:
        api = self._module("api.devices.api_v1_devices_create")
        models = self._module("models")
        answer = await api.asyncio_detailed(
            client=self._client(), body=models.DeviceCreate.from_dict(body), idempotency_key=key
        )
        return self._ok(answer, 201).to_dict()  # type: ignore[no-any-return]

    async def ingest(self, device_key: str, readings: list[dict[str, Any]]) -> dict[str, Any]:
        api = self._module("api.devices.api_v1_ingest_ingest")
        models = self._module("models")
        device = self.p.AuthenticatedClient(
            base_url=self.base_url, token=device_key, prefix="Device", timeout=httpx.Timeout(30)
        )
        body = models.ReadingsIn(readings=readings)
        answer = await api.asyncio_detailed(client=device, body=body)
        return self._ok(answer, 202).to_dict()  # type: ignore[no-any-return]

    async def inbox(self, language: str) -> dict[str, Any]:
        api = self._module("api.mobile.mobile_v1_inbox_inbox")
        answer = await api.asyncio_detailed(
            client=self._client(language), x_app_version=APP_VERSION
        )
        return self._ok(answer, 200).to_dict()  # type: ignore[no-any-return]

    async def home(self, language: str, etag: str | None = None) -> tuple[int, Any, str]:
        api = self._module("api.mobile.mobile_v1_home_home")
        client = self._client(language)
        if etag:
            client = client.with_headers({"If-None-Match": etag})
        answer = await api.asyncio_detailed(client=client, x_app_version=APP_VERSION)
        status = int(answer.status_code)
        parsed = self._ok(answer, 200, 304)
        body = parsed.to_dict() if status == 200 else None
        return status, body, answer.headers["etag"]

    async def mark_read(self, item_id: str, key: str) -> int:
        api = self._module("api.mobile.mobile_v1_inbox_notification_id_read_mark_read")
        answer = await api.asyncio_detailed(
            item_id, client=self._client(), x_app_version=APP_VERSION, idempotency_key=key
        )
        return int(answer.status_code)

    async def acknowledge(self, alert_id: str, key: str) -> dict[str, Any]:
        api = self._module("api.alerts.api_v1_alerts_alert_id_ack_acknowledge")
        answer = await api.asyncio_detailed(alert_id, client=self._client(), idempotency_key=key)
        return self._ok(answer, 200).to_dict()  # type: ignore[no-any-return]

    async def sync(self, cursor: str | None, language: str) -> dict[str, Any]:
        api = self._module("api.mobile.mobile_v1_sync_sync")
        types = self._module("types")
        answer = await api.asyncio_detailed(
            client=self._client(language),
            cursor=cursor if cursor else types.UNSET,
            x_app_version=APP_VERSION,
        )
        return self._ok(answer, 200).to_dict()  # type: ignore[no-any-return]


@pytest.fixture
def served(settings: Settings, clock: FakeClock, world: World, fcm: FCMServer) -> Iterator[str]:
    """The app with the sensors test plugin, pushing through firebase-admin to ``fcm``."""
    with fcm_sender() as sender:
        app = create_app(
            sensor_settings(settings.database_url), clock=clock, run_jobs=False, push_sender=sender
        )
        with serve(app) as base_url:
            yield base_url


async def a_day_on_the_farm(
    phone: Phone, admin: Phone, world: World, clock: FakeClock, fcm: FCMServer
) -> None:
    # The city's DX office gives a Vietnamese trainee of the farm an account in Vietnamese.
    await admin.log_in("admin")
    hoa = await admin.create_user(
        {
            "username": "hoa",
            "password": PASSWORD,
            "display_name": "Hoa",
            "role": "member",
            "organization_id": world.org_ids["farm"],
            "locale": "vi",
            "timezone": "Asia/Tokyo",
        }
    )
    assert hoa["locale"] == "vi"

    # Her phone logs in and registers for pushes (offline queue: each POST with a key).
    await phone.log_in("hoa")
    status, registered = await phone.register_push("hoa-phone", key="push-1")
    assert status == 201
    assert (registered["token"], registered["app_version"]) == ("hoa-phone", APP_VERSION)
    status, again = await phone.register_push("hoa-phone", key="push-1")
    assert (status, again) == (201, registered)  # a replay of the queued POST

    # The barn door probe and the gate button are set up.
    door = await phone.create_device(
        {
            "kind": "sensors.probe",
            "name": "Barn door",
            "organization_id": world.org_ids["farm"],
            "external_id": "barn-door",
        },
        key="device-1",
    )
    gate = await phone.create_device(
        {
            "kind": "hello.button",
            "name": "Cổng",
            "organization_id": world.org_ids["farm"],
            "external_id": "gate",
        },
        key="device-2",
    )
    clock.advance(STEP)
    first_sync = await phone.sync(None, "vi")

    # Night: the door opens (critical), and someone presses the gate button (info).
    clock.advance(STEP)
    opened = await phone.ingest(
        door["key"],
        [
            {"id": "t-1", "ts": clock.now().isoformat(), "metric": "temperature", "value": 8.5},
            {"id": "d-1", "ts": clock.now().isoformat(), "metric": "door", "value": 1},
        ],
    )
    assert opened == {"accepted": 2, "duplicates": 0, "rejected": []}
    await phone.ingest(
        gate["key"], [{"id": "g-1", "ts": clock.now().isoformat(), "metric": "pressed", "value": 1}]
    )
    pushes = await asyncio.to_thread(fcm.wait_for, 2)
    by_title = {p.message["notification"]["title"]: p for p in pushes}
    assert all(p.token == "hoa-phone" for p in pushes)
    # The sensors test plugin ships no catalog: its text falls back to its English message id.
    # The example plugin's button speaks Vietnamese, her saved language.
    door_push = by_title["Door of Barn door opened"]
    gate_push = by_title["Có lời chào tại Cổng"]
    assert gate_push.message["notification"]["body"] == "Có người đã nhấn Cổng."
    assert door_push.message["android"]["priority"] == "high"
    alert_id = door_push.message["data"]["alert_id"]

    # The app syncs when the push arrives: the new alerts come.
    clock.advance(STEP)
    arrived = await phone.sync(first_sync["cursor"], "vi")
    new_alerts = {a["id"]: a for a in arrived["changes"]["core"]["alerts"]["upserted"]}
    assert len(new_alerts) == 2
    door_alert = new_alerts[alert_id]
    assert (door_alert["severity"], door_alert["status"]) == ("critical", "open")

    # The inbox and the home screen show it, critical first.
    inbox = (await phone.inbox("vi"))["items"]
    assert {i["title"]: i["read"] for i in inbox} == {
        "Door of Barn door opened": False,
        "Có lời chào tại Cổng": False,
    }
    door_item = next(i for i in inbox if i["alert_id"] == alert_id)
    status, home, etag = await phone.home("vi")
    assert status == 200
    assert home["unread"] == 2
    top = home["cards"][0]
    assert (top["type"], top["priority"]) == ("alert.critical", 100)
    assert top["title"] == "Door of Barn door opened"
    assert top["action"] == {"kind": "open", "target": {"kind": "alert", "id": alert_id}}
    assert [c["title"] for c in home["cards"]][1] == "Có lời chào tại Cổng"
    assert (await phone.home("vi", etag))[0] == 304

    # She reads it and acknowledges the alert.
    clock.advance(STEP)
    assert await phone.mark_read(door_item["id"], key="read-1") == 204
    acknowledged = await phone.acknowledge(alert_id, key="ack-1")
    assert acknowledged["status"] == "acknowledged"
    assert acknowledged["acknowledged_by"] == {"id": hoa["id"], "display_name": "Hoa"}
    status, home, _etag = await phone.home("vi", etag)
    assert status == 200 and home["unread"] == 1

    # The next sync carries exactly what changed: the acknowledged alert, the read item.
    clock.advance(STEP)
    synced = await phone.sync(arrived["cursor"], "vi")
    core = synced["changes"]["core"]
    alerts = [(a["id"], a["status"]) for a in core["alerts"]["upserted"]]
    assert alerts == [(alert_id, "acknowledged")]
    assert [(i["id"], i["read"]) for i in core["inbox"]["upserted"]] == [(door_item["id"], True)]
    assert synced["changes"]["hello"]["greetings"] == {"upserted": [], "deleted": []}


async def test_a_day_on_the_farm_over_http(
    served: str, world: World, clock: FakeClock, fcm: FCMServer
) -> None:
    async with httpx.AsyncClient(base_url=served, timeout=30) as client:
        await a_day_on_the_farm(PlainPhone(client), PlainPhone(client), world, clock, fcm)


async def test_a_day_on_the_farm_through_a_generated_client(
    served: str, world: World, clock: FakeClock, fcm: FCMServer, tmp_path: Path
) -> None:
    package = generate_client(served, tmp_path)
    try:
        await a_day_on_the_farm(
            GeneratedPhone(package, served), GeneratedPhone(package, served), world, clock, fcm
        )
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m.partition(".")[0] == "minori_client"]:
            del sys.modules[name]
