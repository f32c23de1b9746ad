"""Questions: who sees which, instant similar answers, routing, the answer time and its
escalation, photos, and the push an answer sends."""

from __future__ import annotations

import asyncio
import io
from datetime import timedelta
from typing import Any

from PIL import Image

from core.clock import FakeClock
from core.settings import Settings
from tests.conftest import World
from tests.core.test_alerts_and_push import add_token
from tests.fcm_server import FCMServer
from tests.plugins.mentoring.support import (
    BASE,
    add_advisor,
    advance,
    advisor_profile,
    ask,
    entrant_profile,
    notifications,
    run_job,
)
from tests.support import Api

ELECTRIC_FENCE = "電気柵は何段に張ればいいですか"
FENCE_ENTRY = "library:hunting_traps-008"  # 電気柵の設置のポイントは？


async def ids(api: Api, username: str, path: str = f"{BASE}/questions") -> set[str]:
    response = await api.get(path, as_=username)
    assert response.status_code == 200, response.text
    return {q["id"] for q in response.json()["items"]}


async def set_accepting(api: Api, username: str, accepting: bool) -> None:
    me = (await api.get("/api/v1/me", as_=username)).json()["id"]
    changed = await api.patch(f"{BASE}/advisors/{me}", username, json={"accepting": accepting})
    assert changed.status_code == 200, changed.text


async def test_members_see_community_and_their_own_advisors_their_routed_and_open_ones(
    api: Api,
) -> None:
    crops = await advisor_profile(api, expertise=["crops_soil", "pests_diseases"])
    await add_advisor(api, "advisor2", "相談員 加藤")
    fish = await advisor_profile(api, "advisor2", expertise=["fisheries_aquaculture"], as_="admin")

    private = await ask(api, "farmer", "畑の土が酸性か調べたい", category="crops_soil")
    public = await ask(
        api,
        "farmer",
        "堆肥は完熟と未熟でどう違いますか",
        category="crops_soil",
        visibility="community",
    )
    theirs = await ask(api, "fisher", "生け簀のブリの餌の量は？", category="fisheries_aquaculture")
    assert private["assigned_advisor"]["id"] == crops["id"]
    assert theirs["assigned_advisor"]["id"] == fish["id"]
    # With every advisor away, a question is open to all advisors.
    await set_accepting(api, "advisor", False)
    await set_accepting(api, "advisor2", False)
    pooled = await ask(api, "fisher", "漁船の燃料代が高い", category="fisheries_aquaculture")
    assert pooled["assigned_advisor"] is None and pooled["routes"] == []

    assert await ids(api, "farmer") == {private["id"], public["id"]}
    assert await ids(api, "fisher") == {public["id"], theirs["id"], pooled["id"]}
    assert await ids(api, "advisor") == {private["id"], public["id"], pooled["id"]}
    assert await ids(api, "advisor2") == {public["id"], theirs["id"], pooled["id"]}
    assert await ids(api, "admin") == {private["id"], public["id"], theirs["id"], pooled["id"]}

    for username, question, status in [
        ("farmer", theirs, 404),
        ("fisher", private, 404),
        ("advisor", theirs, 404),
        ("advisor2", private, 404),
        ("fisher", public, 200),
        ("advisor2", pooled, 200),
    ]:
        seen = await api.get(f"{BASE}/questions/{question['id']}", as_=username)
        assert seen.status_code == status, (username, question["text"], seen.text)
    # Another member may answer a community question, not a private one.
    helped = await api.post(
        f"{BASE}/questions/{public['id']}/answers", "fisher", json={"text": "においで分かります"}
    )
    assert helped.status_code == 201 and helped.json()["by_advisor"] is False
    refused = await api.post(
        f"{BASE}/questions/{private['id']}/answers", "fisher", json={"text": "?"}
    )
    assert refused.status_code == 404
    # A member's answer does not count as the service's answer.
    assert (await api.get(f"{BASE}/questions/{public['id']}", as_="farmer")).json()[
        "status"
    ] == "open"
    mine = await api.get(f"{BASE}/questions", as_="advisor", params={"mine": "true"})
    assert {q["id"] for q in mine.json()["items"]} == {private["id"], public["id"]}


async def test_similar_answers_while_typing_and_a_suggestion_closes_the_question(
    api: Api,
) -> None:
    await advisor_profile(api, expertise=["hunting_traps"])
    typed = await api.get(f"{BASE}/questions/similar", as_="farmer", params={"q": ELECTRIC_FENCE})
    assert typed.status_code == 200, typed.text
    body = typed.json()
    assert body["model_version"].startswith("mentoring.similar@")
    top = body["items"][0]
    assert top["id"] == FENCE_ENTRY, body["items"]
    assert "20cm" in top["answer"] and top["kind"] == "library"
    assert top["category"] == "hunting_traps" and 0 < top["score"] <= 1
    assert [s["score"] for s in body["items"]] == sorted(
        (s["score"] for s in body["items"]), reverse=True
    )
    # Asked in other words, the same entry is still among the first three.
    reworded = await api.get(
        f"{BASE}/questions/similar",
        as_="farmer",
        params={"q": "イノシシよけの電気柵は何段にすればいいですか"},
    )
    assert FENCE_ENTRY in [s["id"] for s in reworded.json()["items"][:3]]
    english = await api.get(
        f"{BASE}/questions/similar",
        as_="farmer",
        params={"q": "my cow is in heat, when to inseminate"},
    )
    assert english.json()["items"][0]["id"] == "library:livestock_health-032"
    empty = await api.get(f"{BASE}/questions/similar", as_="farmer", params={"q": "  "})
    assert empty.status_code == 422
    assert empty.json()["errors"][0]["parameter"] == "q"

    asked = await ask(api, "farmer", ELECTRIC_FENCE)
    assert asked["category"] == "hunting_traps" and asked["category_source"] == "model"
    assert asked["model_version"].startswith("mentoring.topic@")
    assert 0 < asked["category_confidence"] <= 1
    assert asked["suggestions"][0]["id"] == FENCE_ENTRY
    assert asked["status"] == "open" and asked["due_at"] is not None

    wrong = await api.post(
        f"{BASE}/questions/{asked['id']}/self-served",
        "farmer",
        json={"suggestion_id": "library:no-such-entry"},
    )
    assert wrong.status_code == 422
    assert [e["pointer"] for e in wrong.json()["errors"]] == ["/suggestion_id"]
    closed = await api.post(
        f"{BASE}/questions/{asked['id']}/self-served",
        "farmer",
        json={"suggestion_id": FENCE_ENTRY},
    )
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "resolved" and closed.json()["self_served"] is True
    assert closed.json()["self_served_with"] == FENCE_ENTRY
    assert closed.json()["due_at"] is None
    # A self-served question is not answered by the service.
    parts = await api.get(f"{BASE}/kpis", as_="admin")
    assert parts.json()["answered_questions"] == 0

    # Answered questions join the suggestions (for those who may read them).
    other = await ask(
        api, "fisher", "電気柵の下の草が伸びて電圧が下がります", visibility="community"
    )
    await api.post(
        f"{BASE}/questions/{other['id']}/answers",
        "advisor",
        json={"text": "柵の下を定期的に草刈りし、防草シートも検討してください。"},
    )
    again = await api.get(
        f"{BASE}/questions/similar", as_="farmer", params={"q": "電気柵の下の草刈りと電圧"}
    )
    assert f"question:{other['id']}" in [s["id"] for s in again.json()["items"]]


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (120, 160, 60)).save(buffer, "JPEG")
    return buffer.getvalue()


async def upload(api: Api, username: str) -> str:
    sent = await api.post(
        "/mobile/v1/media", username, files={"file": ("leaf.jpg", jpeg(), "image/jpeg")}
    )
    assert sent.status_code == 201, sent.text
    return str(sent.json()["id"])


async def test_photos_attach_to_questions_and_a_bad_one_loses_nothing(api: Api) -> None:
    await advisor_profile(api)
    mine = await upload(api, "farmer")
    someone_elses = await upload(api, "fisher")
    bad = await api.post(
        f"{BASE}/questions",
        "farmer",
        json={"text": "葉に斑点があります", "photo_ids": [mine, someone_elses]},
    )
    assert bad.status_code == 422
    assert [e["pointer"] for e in bad.json()["errors"]] == ["/photo_ids/1"]
    assert await ids(api, "farmer") == set()  # the question was not kept
    asked = await ask(api, "farmer", "葉に斑点があります", photo_ids=[mine])
    assert [p["id"] for p in asked["photos"]] == [mine]
    assert asked["photos"][0]["url"] == f"/api/v1/media/{mine}"
    # The photo now belongs to the farm's question: the farmer sees it, the fisher does not.
    assert (await api.get(f"/api/v1/media/{mine}", as_="farmer")).status_code == 200
    assert (await api.get(f"/api/v1/media/{mine}", as_="fisher")).status_code == 404


async def test_routing_prefers_the_mentor_then_expertise_language_region_and_load(
    api: Api,
) -> None:
    await entrant_profile(api, "farmer", region="南部")
    await entrant_profile(api, "fisher", sector="fisheries", language="vi", region="北部")
    north = await advisor_profile(api, expertise=["crops_soil"], languages=["ja"], region="北部")
    await add_advisor(api, "advisor_south")
    south = await advisor_profile(
        api,
        "advisor_south",
        expertise=["crops_soil"],
        languages=["ja"],
        region="南部",
        as_="admin",
    )
    await add_advisor(api, "advisor_vi")
    vietnamese = await advisor_profile(
        api,
        "advisor_vi",
        expertise=["crops_soil"],
        languages=["vi", "ja"],
        region="中央",
        as_="admin",
    )
    # Same expertise and language: the entrant's region decides.
    first = await ask(api, "farmer", "土壌診断の結果の見方", category="crops_soil")
    assert first["assigned_advisor"]["id"] == south["id"]
    assert first["routes"][0]["reason"] == "match"
    # The Vietnamese speaker gets the advisor who speaks Vietnamese, over the region.
    spoken = await ask(api, "fisher", "Đất ruộng bị chua", category="crops_soil")
    assert spoken["language"] == "vi"
    assert spoken["assigned_advisor"]["id"] == vietnamese["id"]
    # Equal otherwise, the lighter load wins: the north advisor holds nothing yet.
    await set_accepting(api, "advisor_south", False)
    second = await ask(api, "farmer", "堆肥の量", category="crops_soil")
    assert second["assigned_advisor"]["id"] in {north["id"], vietnamese["id"]}
    loads = {
        a["id"]: a["open_questions"]
        for a in (await api.get(f"{BASE}/advisors", as_="farmer")).json()
    }
    assert loads[south["id"]] == 1
    # The entrant's own mentor comes first, even for another subject.
    farmer = (await api.get(f"{BASE}/entrants", as_="farmer")).json()["items"][0]
    mentored = await api.post(f"{BASE}/mentorships", "advisor", json={"entrant_id": farmer["id"]})
    assert mentored.status_code == 201, mentored.text
    third = await ask(api, "farmer", "トラクターの中古", category="machinery")
    assert third["assigned_advisor"]["id"] == north["id"]
    assert third["routes"][0]["reason"] == "mentor"
    [told] = notifications(api, "farmer", "mentorship_started")
    assert told["title"] == "You have a mentor"


async def test_an_unanswered_question_escalates_after_24_hours_by_the_clock(
    api: Api, clock: FakeClock
) -> None:
    await entrant_profile(api, "farmer", region="北部")
    first = await advisor_profile(api, expertise=["pests_diseases"], region="北部")
    await add_advisor(api, "advisor2", "相談員 佐藤")
    second = await advisor_profile(
        api, "advisor2", expertise=["pests_diseases"], region="南部", as_="admin"
    )
    asked = await ask(api, "farmer", "きゅうりの葉が白い", category="pests_diseases")
    assert asked["assigned_advisor"]["id"] == first["id"]
    [routed] = notifications(api, "advisor", "question_routed")
    assert routed["title"] == "New question: pests and diseases"

    advance(api, clock, timedelta(hours=23, minutes=59))
    run_job(api, "escalate")
    still = (await api.get(f"{BASE}/questions/{asked['id']}", as_="admin")).json()
    assert still["assigned_advisor"]["id"] == first["id"] and still["escalations"] == 0

    advance(api, clock, timedelta(minutes=2))
    run_job(api, "escalate")
    moved = (await api.get(f"{BASE}/questions/{asked['id']}", as_="admin")).json()
    assert moved["assigned_advisor"]["id"] == second["id"] and moved["escalations"] == 1
    assert [(r["advisor"]["id"], r["reason"]) for r in moved["routes"]] == [
        (first["id"], "match"),
        (second["id"], "escalation"),
    ]
    [passed] = notifications(api, "farmer", "question_escalated")
    assert passed["title"] == "Your question was passed on"
    assert "相談員 佐藤" in passed["body"]
    assert len(notifications(api, "advisor2", "question_escalated")) == 1
    alerts = (await api.get("/api/v1/alerts", as_="admin", params={"plugin": "mentoring"})).json()
    [alert] = alerts["items"]
    assert alert["type"] == "answer_overdue" and alert["severity"] == "warning"
    assert alert["subject"]["kind"] == "mentoring.question"
    assert alert["subject"]["id"] == asked["id"]
    # The first advisor still sees the question that was once theirs.
    assert (await api.get(f"{BASE}/questions/{asked['id']}", as_="advisor")).status_code == 200

    run_job(api, "escalate")  # nothing more is due
    assert (await api.get(f"{BASE}/questions/{asked['id']}", as_="admin")).json()[
        "escalations"
    ] == 1

    # Another day without an answer: no advisor is left, it is open to all of them.
    advance(api, clock, timedelta(hours=24))
    run_job(api, "escalate")
    pooled = (await api.get(f"{BASE}/questions/{asked['id']}", as_="admin")).json()
    assert pooled["assigned_advisor"] is None and pooled["due_at"] is None
    assert pooled["escalations"] == 2
    [alert] = (await api.get("/api/v1/alerts", as_="admin", params={"plugin": "mentoring"})).json()[
        "items"
    ]
    assert alert["count"] == 2 and alert["severity"] == "major"  # nobody holds it now
    assert alert["data"]["escalations"] == 2

    # An advisor answers: the asker hears of it, the alert is resolved.
    answered = await api.post(
        f"{BASE}/questions/{asked['id']}/answers", "advisor2", json={"text": "うどんこ病です"}
    )
    assert answered.status_code == 201
    [news] = notifications(api, "farmer", "question_answered")
    assert news["title"] == "Your question was answered"
    assert news["body"] == "相談員 佐藤 wrote: うどんこ病です"
    final = (await api.get(f"/api/v1/alerts/{alert['id']}", as_="admin")).json()
    assert final["status"] == "resolved"
    question = (await api.get(f"{BASE}/questions/{asked['id']}", as_="farmer")).json()
    assert question["status"] == "answered" and question["answered_at"] is not None


async def test_an_answer_reaches_the_askers_phone_and_accepting_it_resolves(
    push_api: Api, world: World, settings: Settings, fcm: FCMServer
) -> None:
    await add_token(settings, world, "farmer", "farmer-phone")
    await advisor_profile(push_api)
    asked = await ask(push_api, "farmer", "じゃがいもの葉が黒く枯れていきます")
    answered = await push_api.post(
        f"{BASE}/questions/{asked['id']}/answers",
        "advisor",
        json={"text": "疫病の可能性があります。写真を送ってください。"},
    )
    assert answered.status_code == 201, answered.text
    pushes: list[Any] = await asyncio.to_thread(fcm.wait_for, 1)
    [push] = [p for p in pushes if p.message["token"] == "farmer-phone"]
    assert push.message["data"]["kind"] == "question_answered"
    assert push.message["data"]["question_id"] == asked["id"]
    assert push.message["data"]["plugin"] == "mentoring"
    assert push.message["notification"]["title"] == "質問に回答が届きました"

    forbidden = await push_api.post(f"{BASE}/answers/{answered.json()['id']}/accept", "fisher")
    assert forbidden.status_code == 404
    accepted = await push_api.post(f"{BASE}/answers/{answered.json()['id']}/accept", "farmer")
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "resolved"
    assert accepted.json()["answers"][0]["accepted"] is True
    late = await push_api.post(
        f"{BASE}/questions/{asked['id']}/answers", "advisor", json={"text": "追記"}
    )
    assert late.status_code == 409
