from __future__ import annotations

from datetime import datetime, timedelta

from tests.conftest import World
from tests.support import Api


async def test_admin_creates_an_organization_and_gets_the_whole_object(api: Api) -> None:
    response = await api.post(
        "/api/v1/organizations",
        as_="admin",
        json={"name": "Haiki Hunters", "kind": "hunting_group", "region": "Haiki"},
    )
    assert response.status_code == 201
    org = response.json()
    assert org["name"] == "Haiki Hunters"
    assert org["kind"] == "hunting_group"
    assert org["region"] == "Haiki"
    assert org["share_with_advisors"] is False
    assert org["id"]
    assert datetime.fromisoformat(org["created_at"]).utcoffset() == timedelta(hours=9)  # Tokyo
    listed = (await api.get("/api/v1/organizations", as_="admin")).json()
    assert org["id"] in [o["id"] for o in listed["items"]]


async def test_members_list_only_their_own_organizations(api: Api, world: World) -> None:
    farmer = (await api.get("/api/v1/organizations", as_="farmer")).json()
    assert [o["id"] for o in farmer["items"]] == [world.org_ids["farm"]]
    assert farmer["next_cursor"] is None
    admin = (await api.get("/api/v1/organizations", as_="admin")).json()
    assert {o["id"] for o in admin["items"]} == set(world.org_ids.values())


async def test_organizations_page_with_cursors(api: Api) -> None:
    for i in range(5):
        await api.post(
            "/api/v1/organizations", as_="admin", json={"name": f"Co-op {i}", "kind": "coop"}
        )
    seen: list[str] = []
    cursor = None
    while True:
        query = "limit=3" + (f"&cursor={cursor}" if cursor else "")
        body = (await api.get(f"/api/v1/organizations?{query}", as_="admin")).json()
        assert len(body["items"]) <= 3
        seen += [o["id"] for o in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 7


async def test_a_member_updates_consent_of_their_own_organization(api: Api, world: World) -> None:
    response = await api.patch(
        f"/api/v1/organizations/{world.org_ids['farm']}",
        as_="farmer",
        json={"share_with_advisors": True},
    )
    assert response.status_code == 200
    assert response.json()["share_with_advisors"] is True
    assert response.json()["name"] == "Hinata Farm"


async def test_advisors_may_not_change_organizations(api: Api, world: World) -> None:
    response = await api.patch(
        f"/api/v1/organizations/{world.org_ids['farm']}", as_="advisor", json={"name": "x"}
    )
    assert response.status_code == 403


async def test_admin_creates_users_who_can_then_log_in(api: Api, world: World) -> None:
    response = await api.post(
        "/api/v1/users",
        as_="admin",
        json={
            "username": "nguyen",
            "password": "xin chao 2026",
            "display_name": "Nguyen Van A",
            "role": "member",
            "organization_id": world.org_ids["fishery"],
            "locale": "vi",
            "timezone": "Asia/Ho_Chi_Minh",
        },
    )
    assert response.status_code == 201
    user = response.json()
    assert "password" not in response.text and "password_hash" not in response.text
    assert user["organization_ids"] == [world.org_ids["fishery"]]
    assert user["locale"] == "vi"
    token = await api.client.post(
        "/api/v1/auth/token", json={"username": "nguyen", "password": "xin chao 2026"}
    )
    assert token.status_code == 200
    me = await api.client.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"}
    )
    assert me.json()["timezone"] == "Asia/Ho_Chi_Minh"
    assert me.json()["organizations"][0]["name"] == "Kujuku Fishery"


async def test_members_need_an_organization_and_a_known_one(api: Api) -> None:
    body = {"username": "lonely", "password": "long enough", "role": "member"}
    missing = await api.post("/api/v1/users", as_="admin", json=body)
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["pointer"] == "/organization_id"
    unknown = await api.post(
        "/api/v1/users",
        as_="admin",
        json={**body, "organization_id": "00000000-0000-4000-8000-000000000000"},
    )
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["pointer"] == "/organization_id"
    bad_zone = await api.post(
        "/api/v1/users", as_="admin", json={**body, "role": "advisor", "timezone": "Mars/Olympus"}
    )
    assert bad_zone.status_code == 422
    assert bad_zone.json()["errors"][0]["pointer"] == "/timezone"


async def test_users_filter_by_organization(api: Api, world: World) -> None:
    body = (
        await api.get(f"/api/v1/users?organization_id={world.org_ids['farm']}", as_="admin")
    ).json()
    assert [u["username"] for u in body["items"]] == ["farmer"]
    everyone = (await api.get("/api/v1/users", as_="admin")).json()
    assert {u["username"] for u in everyone["items"]} == {"farmer", "fisher", "advisor", "admin"}


async def test_only_admins_manage_users(api: Api) -> None:
    for who in ("farmer", "advisor"):
        assert (await api.get("/api/v1/users", as_=who)).status_code == 403
