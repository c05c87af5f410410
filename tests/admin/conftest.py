"""Helpers for the admin and observability tests: staff HTTP against live nodes, polling."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from tests.realtime.conftest import db_call, token_for

ADMIN = "/api/websocket"


class AdminClient:
    """The admin REST API of one node, as a staff user (async httpx)."""

    def __init__(self, base_url: str, token: str) -> None:
        self.http = httpx.AsyncClient(
            base_url=base_url, timeout=15, headers={"Authorization": f"Bearer {token}"}
        )

    @classmethod
    async def of(cls, node: Any, staff: Any) -> AdminClient:
        return cls(node.http_url, await token_for(staff))

    async def get(self, path: str, **params: Any) -> Any:
        response = await self.http.get(ADMIN + path, params=params)
        assert response.status_code == 200, response.text
        return response.json()

    async def stats(self) -> dict[str, Any]:
        return await self.get("/stats")

    async def close(self) -> None:
        await self.http.aclose()


async def eventually(check: Callable[[], Awaitable[Any]], timeout: float = 5.0, every: float = 0.1) -> Any:
    """Retry `check` (an async callable that asserts) until it passes; its result."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return await check()
        except AssertionError:
            if time.monotonic() >= deadline:
                raise
        await asyncio.sleep(every)


def node_entry(stats: dict[str, Any], node: Any) -> dict[str, Any]:
    """The per-node breakdown entry of a test node (NODE_ID test-node-<port>)."""
    wanted = f"test-node-{node.port}"
    found = [n for n in stats["nodes"] if n["nodeId"] == wanted]
    assert found, f"{wanted} not in {[n['nodeId'] for n in stats['nodes']]}"
    return found[0]


@db_call
def connection_record(client_id: str) -> Any:
    from realtime.models import ConnectionRecord

    return ConnectionRecord.objects.filter(client_id=client_id).first()


async def record_of(client_id: str, timeout: float = 5.0) -> Any:
    async def check() -> Any:
        record = await connection_record(client_id)
        assert record is not None, f"no connection record for {client_id}"
        return record

    return await eventually(check, timeout=timeout)
