"""Helpers of the livestock tests: animals and their devices through the API, hourly sensor
history shaped like a cow's, and the scoring job run as an admin would."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from core.clock import FakeClock
from tests.conftest import World
from tests.support import Api

BASE = "/api/v1/livestock"
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


@dataclass
class Cow:
    id: str
    ear_tag: str
    collar_key: str
    thermo_key: str | None
    seed: int


async def make_animal(
    api: Api, world: World, ear_tag: str, org: str = "farm", as_: str = "farmer", **fields: Any
) -> dict[str, Any]:
    body = {"organization_id": world.org_ids[org], "ear_tag": ear_tag, **fields}
    response = await api.post(f"{BASE}/animals", as_, json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def bind(
    api: Api, world: World, animal_id: str, kind: str, org: str = "farm", as_: str = "farmer"
) -> str:
    response = await api.post(
        "/api/v1/devices",
        as_,
        json={
            "kind": f"livestock.{kind}",
            "name": f"{kind} of {animal_id[:8]}",
            "organization_id": world.org_ids[org],
            "external_id": f"{kind}-{animal_id}",
            "subject": {"kind": "livestock.animal", "id": animal_id},
        },
    )
    assert response.status_code == 201, response.text
    return str(response.json()["key"])


async def cow(
    api: Api,
    world: World,
    ear_tag: str,
    *,
    thermo: bool = False,
    org: str = "farm",
    **fields: Any,
) -> Cow:
    animal = await make_animal(api, world, ear_tag, org, **fields)
    collar = await bind(api, world, animal["id"], "collar", org)
    thermometer = await bind(api, world, animal["id"], "thermo", org) if thermo else None
    return Cow(animal["id"], ear_tag, collar, thermometer, int(ear_tag) % 100_000)


def hours(first: datetime, last: datetime) -> list[datetime]:
    count = int((last - first) / HOUR)
    return [first + i * HOUR for i in range(count + 1)]


def profile(moment: datetime) -> float:
    """Activity by local hour (UTC+9): quiet nights, milking at 5 and 16."""
    local = (moment.hour + 9) % 24
    value = 0.55 if local >= 22 or local < 4 else 1.0
    value += 0.9 if local in (5, 16) else 0.4 if local in (6, 17) else 0.0
    return value


def collar_readings(
    cow: Cow,
    first: datetime,
    last: datetime,
    *,
    activity: dict[datetime, float] | None = None,
    rumination: dict[datetime, float] | None = None,
    level: float = 40.0,
) -> list[dict[str, Any]]:
    """Hourly activity and rumination from ``first`` to ``last``; ``activity`` and
    ``rumination`` multiply the hours they name."""
    rng = np.random.default_rng(cow.seed + int(first.timestamp()))
    out = []
    for moment in hours(first, last):
        local = (moment.hour + 9) % 24
        moving = level * profile(moment) * float(np.exp(rng.normal(0, 0.2)))
        chewing = 18 * (1.35 if local >= 21 or local < 5 else 0.85) + float(rng.normal(0, 2))
        moving *= (activity or {}).get(moment, 1.0)
        chewing *= (rumination or {}).get(moment, 1.0)
        stamp = moment.strftime("%Y%m%d%H")
        out.append(
            {
                "id": f"a-{stamp}",
                "ts": moment.isoformat(),
                "metric": "activity",
                "value": round(moving, 2),
            }
        )
        out.append(
            {
                "id": f"r-{stamp}",
                "ts": moment.isoformat(),
                "metric": "rumination",
                "value": round(min(max(chewing, 0.0), 60.0), 2),
            }
        )
    return out


def thermo_readings(
    cow: Cow, first: datetime, last: datetime, *, change: dict[datetime, float] | None = None
) -> list[dict[str, Any]]:
    rng = np.random.default_rng(cow.seed + 7 + int(first.timestamp()))
    out = []
    for moment in hours(first, last):
        local = (moment.hour + 9) % 24
        value = 38.9 + 0.15 * float(np.cos(2 * np.pi * (local - 17) / 24))
        value += float(rng.normal(0, 0.08)) + (change or {}).get(moment, 0.0)
        out.append(
            {
                "id": f"t-{moment.strftime('%Y%m%d%H')}",
                "ts": moment.isoformat(),
                "metric": "temperature",
                "value": round(value, 2),
            }
        )
    return out


def window(first: datetime, last: datetime, value: float) -> dict[datetime, float]:
    return {moment: value for moment in hours(first, last)}


async def ingest(api: Api, key: str, readings: list[dict[str, Any]]) -> None:
    for start in range(0, len(readings), 1000):
        response = await api.client.post(
            "/api/v1/ingest",
            json={"readings": readings[start : start + 1000]},
            headers={"Authorization": f"Device {key}"},
        )
        assert response.status_code == 202, response.text
        assert not response.json()["rejected"], response.json()["rejected"]


async def history(
    api: Api,
    cow: Cow,
    clock: FakeClock,
    days: float = 8,
    *,
    activity: dict[datetime, float] | None = None,
    rumination: dict[datetime, float] | None = None,
    temperature: dict[datetime, float] | None = None,
    level: float = 40.0,
) -> None:
    """``days`` of hourly readings ending now."""
    last = clock.now().replace(minute=0, second=0, microsecond=0)
    first = last - round(days * 24) * HOUR
    await ingest(
        api,
        cow.collar_key,
        collar_readings(cow, first, last, activity=activity, rumination=rumination, level=level),
    )
    if cow.thermo_key is not None:
        await ingest(api, cow.thermo_key, thermo_readings(cow, first, last, change=temperature))


def advance(api: Api, clock: FakeClock, delta: timedelta) -> None:
    """Move the test clock; everyone logs in again (access tokens live 15 minutes)."""
    clock.advance(delta)
    for username in ("farmer", "fisher", "advisor", "admin"):
        api.forget(username)


async def score(api: Api) -> None:
    response = await api.post("/api/v1/jobs/livestock.score/run", as_="admin")
    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "succeeded", response.json()


async def alerts(
    api: Api, type_: str | None = None, as_: str = "farmer", status: str | None = None
) -> list[dict[str, Any]]:
    query = "?plugin=livestock&limit=200" + (f"&status={status}" if status else "")
    response = await api.get(f"/api/v1/alerts{query}", as_=as_)
    assert response.status_code == 200, response.text
    return [a for a in response.json()["items"] if type_ is None or a["type"] == type_]


async def get_animal(api: Api, animal_id: str, as_: str = "farmer") -> dict[str, Any]:
    response = await api.get(f"{BASE}/animals/{animal_id}", as_=as_)
    assert response.status_code == 200, response.text
    return response.json()


async def record(
    api: Api, animal_id: str, kind: str, at: datetime, **fields: Any
) -> dict[str, Any]:
    response = await api.post(
        f"{BASE}/animals/{animal_id}/events",
        "farmer",
        json={"kind": kind, "at": at.isoformat(), **fields},
    )
    assert response.status_code == 201, response.text
    return response.json()
