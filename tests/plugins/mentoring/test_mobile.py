"""What the phone shows: the mentoring cards on the home screen and the offline sync."""

from __future__ import annotations

from datetime import timedelta

from core.clock import FakeClock
from tests.plugins.mentoring.support import (
    BASE,
    advance,
    advisor_profile,
    ask,
    book,
    entrant_profile,
)
from tests.support import Api


async def test_home_cards_and_sync_follow_the_entrants_mentoring(
    api: Api, clock: FakeClock
) -> None:
    advisor = await advisor_profile(api)
    await entrant_profile(api, "farmer")
    asked = await ask(api, "farmer", "トマトの実が割れます")
    soon = await book(
        api, "farmer", advisor_id=advisor["id"], starts_at=clock.now() + timedelta(hours=3)
    )
    later = await book(
        api, "farmer", advisor_id=advisor["id"], starts_at=clock.now() + timedelta(days=3)
    )
    assert soon.status_code == 201 and later.status_code == 201

    advisor_home = await api.get("/mobile/v1/home", as_="advisor")
    assert advisor_home.status_code == 200, advisor_home.text
    cards = {c["id"]: c for c in advisor_home.json()["cards"] if c["plugin"] == "mentoring"}
    assert cards["routed-questions"]["title"] == "回答待ちの質問: 1 件"
    assert cards["routed-questions"]["action"]["target"] == {
        "kind": "mentoring.question",
        "id": asked["id"],
    }

    await api.post(
        f"{BASE}/questions/{asked['id']}/answers", "advisor", json={"text": "水やりを一定に"}
    )
    home = await api.get("/mobile/v1/home", as_="farmer", headers={"Accept-Language": "en"})
    assert home.status_code == 200, home.text
    mine = [c for c in home.json()["cards"] if c["plugin"] == "mentoring"]
    by_id = {c["id"]: c for c in mine}
    assert by_id[f"answered:{asked['id']}"]["title"] == "Your question was answered"
    assert by_id[f"answered:{asked['id']}"]["type"] == "answer_received"
    urgent = by_id[f"consultation:{soon.json()['id']}"]
    relaxed = by_id[f"consultation:{later.json()['id']}"]
    assert urgent["priority"] > relaxed["priority"]  # within a day
    assert urgent["body"] == "video call with advisor"
    assert [c["priority"] for c in mine] == sorted((c["priority"] for c in mine), reverse=True)

    synced = await api.get("/mobile/v1/sync", as_="farmer")
    assert synced.status_code == 200, synced.text
    changes = synced.json()["changes"]["mentoring"]
    assert [q["id"] for q in changes["questions"]["upserted"]] == [asked["id"]]
    assert changes["questions"]["upserted"][0]["answers"][0]["text"] == "水やりを一定に"
    assert {c["id"] for c in changes["consultations"]["upserted"]} == {
        soon.json()["id"],
        later.json()["id"],
    }
    assert changes["follow_ups"] == {"upserted": [], "deleted": []}

    # The next sync brings what changed since (objects near the cursor may come again).
    cursor = synced.json()["cursor"]
    advance(api, clock, timedelta(minutes=5))
    await api.post(f"{BASE}/consultations/{later.json()['id']}/cancel", "farmer", json={})
    again = await api.get("/mobile/v1/sync", as_="farmer", params={"cursor": cursor})
    assert again.status_code == 200, again.text
    delta = again.json()["changes"]["mentoring"]
    statuses = {c["id"]: c["status"] for c in delta["consultations"]["upserted"]}
    assert statuses[later.json()["id"]] == "cancelled"
