"""/healthz (the process answers) and /readyz (its database and channel layer answer)."""

import asyncio
import time
import uuid

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.db import connection
from django.http import HttpRequest, JsonResponse

READY_CHECK_TIMEOUT = 4.0


async def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def _check_database() -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    finally:
        connection.close()  # back to the pool: this thread is not a request thread


async def _check_channel_layer() -> None:
    layer = get_channel_layer()
    channel = await layer.new_channel("readyz.")
    token = uuid.uuid4().hex
    await layer.send(channel, {"type": "readyz.probe", "token": token})
    message = await layer.receive(channel)
    if message.get("token") != token:
        raise RuntimeError("channel layer returned a different message")


async def _timed(check) -> dict:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    try:
        await asyncio.wait_for(check(), timeout=READY_CHECK_TIMEOUT)
    except Exception as exc:  # any failure means not ready; say which and why
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    return {"ok": True, "ms": round((time.monotonic() - started) * 1000, 1)}


async def readyz(request: HttpRequest) -> JsonResponse:
    # A thread of its own for the database probe: a hung connection attempt must not
    # block the thread every other database call of this process goes through.
    database, channel_layer = await asyncio.gather(
        _timed(sync_to_async(_check_database, thread_sensitive=False)),
        _timed(_check_channel_layer),
    )
    ready = database["ok"] and channel_layer["ok"]
    body = {
        "status": "ok" if ready else "unavailable",
        "checks": {"database": database, "channelLayer": channel_layer},
    }
    return JsonResponse(body, status=200 if ready else 503)
