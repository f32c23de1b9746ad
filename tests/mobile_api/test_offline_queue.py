"""An app's offline queue, replayed: 50 POSTs across the API, each sent twice in a shuffled
order and concurrently through uvicorn, create each record exactly once."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
from litestar import Litestar
from minori_hello.models import Greeting

from core.alerts.models import Alert, AlertStatus, Notification, PushToken
from core.settings import Settings
from core.telemetry.models import Device
from tests.conftest import PASSWORD, World, run_in_database
from tests.mobile_api.support import GREETINGS, MOBILE
from tests.support import serve

REPLAYED = "idempotent-replayed"


@dataclass
class Queued:
    key: str
    path: str
    body: dict[str, Any] | None
    answers: list[httpx.Response] = field(default_factory=list)


async def login(client: httpx.AsyncClient, username: str) -> dict[str, str]:
    answer = await client.post(
        "/api/v1/auth/token", json={"username": username, "password": PASSWORD}
    )
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def offline_queue(world: World, alerts: list[str], inbox: list[str]) -> list[Queued]:
    farm = world.org_ids["farm"]
    queue = [
        Queued(f"greet-{i}", GREETINGS, {"organization_id": farm, "text": f"greeting {i}"})
        for i in range(15)
    ]
    queue += [Queued(f"ack-{i}", f"/api/v1/alerts/{alerts[i]}/ack", None) for i in range(8)]
    queue += [
        Queued(f"resolve-{i}", f"/api/v1/alerts/{alerts[i]}/resolve", {"note": f"done {i}"})
        for i in range(8, 10)
    ]
    queue += [
        Queued(f"feedback-{i}", f"/api/v1/alerts/{alerts[i]}/feedback", {"verdict": "confirmed"})
        for i in range(5)
    ]
    queue += [
        Queued(
            f"token-{i}",
            f"{MOBILE}/push-tokens",
            {"token": f"phone-{i}", "kind": "fcm_token", "platform": "android"},
        )
        for i in range(10)
    ]
    queue += [
        Queued(
            f"device-{i}",
            "/api/v1/devices",
            {
                "kind": "hello.button",
                "name": f"Button {i}",
                "organization_id": farm,
                "external_id": f"b{i}",
            },
        )
        for i in range(5)
    ]
    queue += [Queued(f"read-{i}", f"{MOBILE}/inbox/{inbox[i]}/read", None) for i in range(5)]
    assert len(queue) == 50
    return queue


async def counts(settings: Settings, world: World) -> dict[str, Any]:
    async def work() -> dict[str, Any]:
        farmer = world.user_ids["farmer"]
        statuses = Counter(a.status for a in await Alert.all())
        return {
            "greetings": sorted(await Greeting.all().values_list("text", flat=True)),
            "devices": await Device.all().count(),
            "tokens": await PushToken.filter(user_id=farmer).count(),
            "acknowledged": statuses[AlertStatus.ACKNOWLEDGED],
            "resolved": statuses[AlertStatus.RESOLVED],
            "confirmed": await Alert.filter(feedback="confirmed").count(),
            "read": await Notification.filter(user_id=farmer, read_at__isnull=False).count(),
        }

    return await run_in_database(settings, work)


async def test_fifty_queued_posts_sent_twice_shuffled_create_each_record_once(
    app: Litestar, world: World, settings: Settings
) -> None:
    with serve(app) as base_url:
        async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
            admin, farmer = await login(client, "admin"), await login(client, "farmer")
            alerts = []
            for i in range(10):
                created = await client.post(
                    "/api/v1/alerts",
                    headers=admin,
                    json={
                        "organization_id": world.org_ids["farm"],
                        "severity": "major",
                        "title": f"A{i}",
                    },
                )
                alerts.append(created.json()["id"])
            inbox = [
                item["id"]
                for item in (await client.get(f"{MOBILE}/inbox", headers=farmer)).json()["items"]
            ]
            queue = offline_queue(world, alerts, inbox)

            sends = [item for item in queue for _twice in range(2)]
            random.Random(5).shuffle(sends)  # a fixed order, so a failure can be replayed
            gate = asyncio.Semaphore(8)  # the app sends a few at a time

            async def send(item: Queued) -> None:
                async with gate:
                    kwargs: dict[str, Any] = {"json": item.body} if item.body is not None else {}
                    item.answers.append(
                        await client.post(
                            item.path, headers={**farmer, "Idempotency-Key": item.key}, **kwargs
                        )
                    )

            await asyncio.gather(*(send(item) for item in sends))

            for item in queue:
                first, second = item.answers
                if item.key.startswith("device-"):
                    # The answer carried the device's key, which is never kept: 409 names the id.
                    created, replayed = sorted(item.answers, key=lambda a: a.status_code)
                    assert created.status_code == 201, created.text
                    assert replayed.status_code == 409, replayed.text
                    assert replayed.json()["object_id"] == created.json()["id"]
                    continue
                assert first.status_code == second.status_code, (item.key, first.text, second.text)
                assert 200 <= first.status_code < 300, (item.key, first.text)
                assert first.content == second.content, item.key
                assert sorted(REPLAYED in a.headers for a in item.answers) == [False, True]

            # A third send of everything, in another order: only replays.
            random.Random(6).shuffle(queue)
            for item in queue:
                item.answers.clear()
            await asyncio.gather(*(send(item) for item in queue))
            for item in queue:
                [answer] = item.answers
                if item.key.startswith("device-"):
                    assert answer.status_code == 409
                else:
                    assert answer.headers[REPLAYED] == "true", item.key

    assert await counts(settings, world) == {
        "greetings": sorted(f"greeting {i}" for i in range(15)),
        "devices": 5,
        "tokens": 10,
        "acknowledged": 8,
        "resolved": 2,
        "confirmed": 5,
        "read": 5,
    }
