"""Helpers for tests: a logged-in API client and a real uvicorn server on loopback."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import uvicorn
from litestar import Litestar
from litestar.testing import AsyncTestClient


class Api:
    """The test client plus logins by username (every test user shares one password)."""

    def __init__(self, client: AsyncTestClient[Litestar], password: str) -> None:
        self.client = client
        self.password = password
        self._tokens: dict[str, dict[str, Any]] = {}

    async def login(self, username: str) -> dict[str, Any]:
        response = await self.client.post(
            "/api/v1/auth/token", json={"username": username, "password": self.password}
        )
        assert response.status_code == 200, response.text
        return response.json()

    async def auth(self, username: str) -> dict[str, str]:
        if username not in self._tokens:
            self._tokens[username] = await self.login(username)
        return {"Authorization": f"Bearer {self._tokens[username]['access_token']}"}

    def forget(self, username: str) -> None:
        """Log in again on the next request (after the test clock passed token expiry)."""
        self._tokens.pop(username, None)

    async def get(self, path: str, as_: str | None = None, **kwargs: Any) -> httpx.Response:
        return await self.request("GET", path, as_, **kwargs)

    async def post(self, path: str, as_: str | None = None, **kwargs: Any) -> httpx.Response:
        return await self.request("POST", path, as_, **kwargs)

    async def patch(self, path: str, as_: str | None = None, **kwargs: Any) -> httpx.Response:
        return await self.request("PATCH", path, as_, **kwargs)

    async def delete(self, path: str, as_: str | None = None, **kwargs: Any) -> httpx.Response:
        return await self.request("DELETE", path, as_, **kwargs)

    async def request(
        self, method: str, path: str, as_: str | None, **kwargs: Any
    ) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        if as_ is not None:
            headers.update(await self.auth(as_))
        return await self.client.request(method, path, headers=headers, **kwargs)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(app: Litestar) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a loopback port in a thread; yield its base URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)
