"""In-process helpers of `bench.events_bench` on the CURRENT code's database (a subprocess
with that server's environment, so the bench itself never imports Django).

    python -m bench.events_log_tool fill --room trip_7 --count 10000
    python -m bench.events_log_tool writers --rooms trip_7,trip_8 --writers 10 --seconds 5

`fill` writes COUNT `message_sent` events to a room's log (`events.log.record`, 1000 per
transaction, the room's audience from `events.delivery`) dated an hour back: what a
client missed while away, older than the relay's window, so no node re-broadcasts them.
`writers` runs W threads, each on its own database connection, each publishing one event
per transaction (`events.publish.log_now`: audience, id upsert, insert, commit) into
its room (writer i into rooms[i % len(rooms)]) for S seconds; prints rows/s as JSON.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import threading
import time
from datetime import timedelta
from typing import Any


def message_payload(room: str, n: int) -> dict[str, Any]:
    """About the size of a chat message's REST representation."""
    return {
        "id": n,
        "tripId": int(room.split("_")[1]),
        "author": {"id": 1, "username": "bench-replay"},
        "text": f"missed message {n}: meet at the tram stop by the cathedral at nine",
        "clientMessageId": f"replay-{n}",
        "createdAt": "2026-12-02T10:00:00.000000Z",
    }


def fill(room: str, count: int, batch: int = 1000) -> dict[str, Any]:
    from django.db import transaction
    from django.utils import timezone

    from events import delivery, log
    from events.models import LoggedEvent

    audience = delivery.audience_of(room).to_wire()
    started = time.perf_counter()
    back = timezone.now() - timedelta(hours=1)
    written = 0
    while written < count:
        size = min(batch, count - written)
        with transaction.atomic():
            rows = log.record(
                [(room, "message_sent", message_payload(room, written + i), audience) for i in range(size)]
            )
            LoggedEvent.objects.filter(pk__in=[row.pk for row in rows]).update(created_at=back)
        written += size
    return {"room": room, "written": written, "seconds": round(time.perf_counter() - started, 3)}


def writers(rooms: list[str], count: int, seconds: float) -> dict[str, Any]:
    from django.db import connection

    from events.publish import log_now

    done = [0] * count
    errors: list[str] = []
    gate = threading.Barrier(count + 1)
    stop_at = [0.0]

    def run(index: int) -> None:
        room = rooms[index % len(rooms)]
        try:
            log_now(room, "message_sent", message_payload(room, index))  # connect, warm up
            gate.wait()
            n = 0
            while time.monotonic() < stop_at[0]:
                log_now(room, "message_sent", message_payload(room, n))
                n += 1
            done[index] = n
        except Exception as exc:  # report it; the count stays what was written
            errors.append(f"{type(exc).__name__}: {exc}"[:200])
            if not gate.broken:
                gate.abort()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    stop_at[0] = time.monotonic() + 3600
    with contextlib.suppress(threading.BrokenBarrierError):
        gate.wait()
    started = time.monotonic()
    stop_at[0] = started + seconds
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    rows = sum(done)
    return {
        "writers": count,
        "rooms": len(set(rooms)),
        "rows": rows,
        "seconds": round(elapsed, 3),
        "rows_per_s": round(rows / elapsed, 1) if elapsed else 0.0,
        "errors": errors[:5],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    f = sub.add_parser("fill")
    f.add_argument("--room", required=True)
    f.add_argument("--count", type=int, required=True)
    w = sub.add_parser("writers")
    w.add_argument("--rooms", required=True, help="comma-separated room ids")
    w.add_argument("--writers", type=int, default=10)
    w.add_argument("--seconds", type=float, default=5.0)
    options = parser.parse_args(argv)

    import django

    django.setup()
    if options.command == "fill":
        result = fill(options.room, options.count)
    else:
        result = writers(options.rooms.split(","), options.writers, options.seconds)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
