"""The community board: every user reads it, reports hide a post until a moderator
decides, and a hidden post stays visible to its author."""

from __future__ import annotations

from tests.conftest import World
from tests.plugins.mentoring.support import BASE, add_advisor, notifications
from tests.support import Api


async def thread_ids(api: Api, username: str) -> list[str]:
    response = await api.get(f"{BASE}/threads", as_=username)
    assert response.status_code == 200, response.text
    return [t["id"] for t in response.json()["items"]]


async def test_reports_hide_a_post_and_a_moderator_restores_it(api: Api, world: World) -> None:
    for name in ("member3", "member4"):
        created = await api.post(
            "/api/v1/users",
            "admin",
            json={
                "username": name,
                "password": api.password,
                "role": "member",
                "organization_id": world.org_ids["fishery"],
            },
        )
        assert created.status_code == 201, created.text
    await add_advisor(api, "advisor2")
    posted = await api.post(
        f"{BASE}/threads",
        "farmer",
        json={
            "title": "秋じゃがの種いもを共同購入しませんか",
            "body": "北部で10kgずつ",
            "category": "crops_soil",
        },
    )
    assert posted.status_code == 201, posted.text
    thread = posted.json()
    # Everyone reads it and may reply; the author hears of the reply.
    for username in ("fisher", "advisor", "admin", "member3"):
        assert thread["id"] in await thread_ids(api, username)
    replied = await api.post(
        f"{BASE}/threads/{thread['id']}/replies", "fisher", json={"body": "参加します"}
    )
    assert replied.status_code == 201, replied.text
    [told] = notifications(api, "farmer", "thread_reply")
    assert told["body"] == "fisher wrote: 参加します"
    listed = (await api.get(f"{BASE}/threads", as_="member3")).json()["items"][0]
    assert listed["reply_count"] == 1

    # Two reports leave it up; the same person reporting twice counts once.
    for username in ("fisher", "fisher", "member3"):
        reported = await api.post(
            f"{BASE}/threads/{thread['id']}/report", username, json={"reason": "宣伝です"}
        )
        assert reported.status_code == 200, reported.text
    assert reported.json() == {"reports": 2, "hidden": False}
    reported = await api.post(f"{BASE}/threads/{thread['id']}/report", "member4", json={})
    assert reported.json() == {"reports": 3, "hidden": True}

    # Hidden: gone for other members, still there for its author (marked) and for staff.
    assert thread["id"] not in await thread_ids(api, "fisher")
    assert (await api.get(f"{BASE}/threads/{thread['id']}", as_="fisher")).status_code == 404
    mine = await api.get(f"{BASE}/threads/{thread['id']}", as_="farmer")
    assert mine.status_code == 200 and mine.json()["hidden"] is True
    assert thread["id"] in await thread_ids(api, "advisor2")
    blocked = await api.post(
        f"{BASE}/threads/{thread['id']}/replies", "member3", json={"body": "?"}
    )
    assert blocked.status_code == 404

    # Members may not moderate; a moderator restores it and its reports are cleared.
    assert (
        await api.post(
            f"{BASE}/threads/{thread['id']}/moderation", "farmer", json={"hidden": False}
        )
    ).status_code == 403
    restored = await api.post(
        f"{BASE}/threads/{thread['id']}/moderation", "advisor", json={"hidden": False}
    )
    assert restored.status_code == 200 and restored.json()["hidden"] is False
    assert thread["id"] in await thread_ids(api, "fisher")
    again = await api.post(f"{BASE}/threads/{thread['id']}/report", "fisher", json={})
    assert again.json() == {"reports": 1, "hidden": False}

    # Replies are reported and moderated alike.
    reply_id = replied.json()["id"]
    hidden = await api.post(f"{BASE}/replies/{reply_id}/moderation", "admin", json={"hidden": True})
    assert hidden.status_code == 200 and hidden.json()["hidden"] is True
    seen = await api.get(f"{BASE}/threads/{thread['id']}", as_="member3")
    assert seen.json()["replies"] == [] and seen.json()["reply_count"] == 0
    own = await api.get(f"{BASE}/threads/{thread['id']}", as_="fisher")
    assert [r["id"] for r in own.json()["replies"]] == [reply_id]

    bad = await api.post(f"{BASE}/threads", "farmer", json={"title": "", "body": "x"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["pointer"] == "/title"
    assert (await thread_ids(api, "admin")) == [thread["id"]]
