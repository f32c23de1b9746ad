"""Real requests through uvicorn on a loopback port: the ORM is bound per request."""

from __future__ import annotations

import asyncio

import httpx
from litestar import Litestar

from tests.conftest import PASSWORD, World
from tests.support import serve


async def test_concurrent_requests_through_uvicorn_each_reach_the_database(
    app: Litestar, world: World
) -> None:
    with serve(app) as base_url:
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
            tokens = {}
            for username in ("farmer", "fisher"):
                response = await client.post(
                    "/api/v1/auth/token", json={"username": username, "password": PASSWORD}
                )
                assert response.status_code == 200, response.text
                tokens[username] = response.json()["access_token"]

            async def me(username: str) -> str:
                response = await client.get(
                    "/api/v1/me", headers={"Authorization": f"Bearer {tokens[username]}"}
                )
                assert response.status_code == 200, response.text
                return str(response.json()["organizations"][0]["id"])

            async def greet(username: str, org: str, i: int) -> int:
                response = await client.post(
                    "/api/v1/hello/greetings",
                    headers={"Authorization": f"Bearer {tokens[username]}"},
                    json={"organization_id": world.org_ids[org], "text": f"greeting {i}"},
                )
                return response.status_code

            users = ["farmer", "fisher"] * 20
            orgs = await asyncio.gather(*(me(u) for u in users))
            expected = {"farmer": world.org_ids["farm"], "fisher": world.org_ids["fishery"]}
            assert orgs == [expected[u] for u in users]

            created = await asyncio.gather(
                *(greet(u, "farm" if u == "farmer" else "fishery", i) for i, u in enumerate(users))
            )
            assert created == [201] * len(users)
            listed = await client.get(
                "/api/v1/hello/greetings?limit=200",
                headers={"Authorization": f"Bearer {tokens['farmer']}"},
            )
            assert len(listed.json()["items"]) == 20
            response = await client.get("/health/ready")
            assert response.json()["checks"]["database"] == "ok"
            assert response.headers["x-request-id"]
