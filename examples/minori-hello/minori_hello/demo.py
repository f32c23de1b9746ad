"""The example's part of the demo city: a farm with a gate button that visitors press."""

from __future__ import annotations

import itertools
from datetime import timedelta

from core.demo import DemoCity, DemoSpec, Simulator
from core.identity.models import OrganizationKind, Role
from core.plugin import PluginContext


async def seed(ctx: PluginContext, city: DemoCity) -> None:
    farm = await city.organization("ひなた農園", OrganizationKind.FARM)
    await city.user("hinata", Role.MEMBER, farm, display_name="日向 健", note="farmer (hello)")
    button = await city.device(farm, "hello.button", "門のボタン", "hello-gate")
    # A week of hourly battery reports, so the button has a history.
    now = ctx.clock.now().replace(minute=0, second=0, microsecond=0)
    history = [
        {
            "id": f"battery-{(now - timedelta(hours=h)).isoformat()}",
            "ts": (now - timedelta(hours=h)).isoformat(),
            "metric": "battery_v",
            "value": round(3.0 - h * 0.0005, 4),
        }
        for h in range(7 * 24, 0, -1)
    ]
    await city.backfill(button, history)


async def simulate(ctx: PluginContext, city: DemoCity, sim: Simulator) -> None:
    farm = await city.organization("ひなた農園", OrganizationKind.FARM)
    button = await city.device(farm, "hello.button", "門のボタン", "hello-gate")
    for visit in itertools.count():
        await sim.sleep(timedelta(minutes=1))
        now = sim.clock.now()
        press = {"id": f"press-{visit}-{now.isoformat()}", "ts": now.isoformat()}
        await sim.post(button, [{**press, "metric": "pressed", "value": 1}])
        await sim.sleep(timedelta(minutes=20))


demo = DemoSpec(seed=seed, simulate=simulate)
