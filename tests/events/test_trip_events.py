"""Trip events over a real socket: a member changes the trip over REST, another member in
the trip room receives the event whose payload is what REST now answers; a non-member
connected at the same time receives nothing."""

from __future__ import annotations

import pytest

from tests.events.conftest import event, listener, outsider, people

pytestmark = pytest.mark.django_db(transaction=True)


async def test_owner_changes_the_trip_member_receives_trip_updated(server) -> None:
    trip, (_, viewer), (owner_api, _) = await people(server)
    room = f"trip_{trip.pk}"
    ws = await listener(server, viewer, room)
    stranger = await outsider(server, room)
    await owner_api.patch(f"/trips/{trip.pk}/", {"title": "Porto and the Douro"})
    received = await event(ws, "trip_updated", room)
    assert received["payload"] == await owner_api.get(f"/trips/{trip.pk}/")
    assert received["payload"]["title"] == "Porto and the Douro"
    await ws.nothing(0.3)  # a title is not the budget: no budget_updated
    await stranger.nothing(0.5)


async def test_itinerary_created_moved_deleted_each_arrive_as_itinerary_modified(server) -> None:
    trip, (_, viewer), (owner_api, _) = await people(server)
    room, base = f"trip_{trip.pk}", f"/trips/{trip.pk}/itinerary/"
    ws = await listener(server, viewer, room)
    stranger = await outsider(server, room)

    first = await owner_api.post(base, {"title": "Livraria Lello", "startsAt": "2026-05-02T10:00:00Z"})
    received = await event(ws, "itinerary_modified", room)
    assert received["payload"] == {**first, "action": "created"}
    second = await owner_api.post(base, {"title": "Ribeira", "startsAt": "2026-05-02T15:00:00Z"})
    assert (await event(ws, "itinerary_modified", room))["payload"] == {**second, "action": "created"}

    # A move renumbers the other item with a bulk update: it gets its own event too.
    await owner_api.patch(f"{base}{second['id']}/", {"position": 0})
    moved = [(await event(ws, "itinerary_modified", room))["payload"] for _ in range(2)]
    now = {item["id"]: item for item in (await owner_api.get(base))["results"]}
    assert sorted(moved, key=lambda p: p["id"]) == [{**now[i], "action": "updated"} for i in sorted(now)]
    assert now[second["id"]]["position"] == 0 and now[first["id"]]["position"] == 1

    before = await owner_api.get(f"{base}{first['id']}/")
    await owner_api.delete(f"{base}{first['id']}/")
    received = await event(ws, "itinerary_modified", room)
    assert received["payload"] == {**before, "action": "deleted"}  # as it was
    await ws.nothing(0.3)
    await stranger.nothing(0.5)


async def test_reorder_sends_one_updated_per_moved_item(server) -> None:
    trip, (_, viewer), (owner_api, _) = await people(server)
    room, base = f"trip_{trip.pk}", f"/trips/{trip.pk}/itinerary/"
    ids = [
        (await owner_api.post(base, {"title": f"Stop {n}", "startsAt": "2026-05-03T10:00:00Z"}))["id"]
        for n in range(3)
    ]
    ws = await listener(server, viewer, room)
    answer = await owner_api.post(f"{base}reorder/", {"itemIds": ids[::-1]}, expect=200)
    # ids[1] keeps position 1: only the two ends moved.
    moved = [(await event(ws, "itinerary_modified", room))["payload"] for _ in range(2)]
    by_id = {item["id"]: item for item in answer}
    assert {p["id"] for p in moved} == {ids[0], ids[2]}
    assert all(p == {**by_id[p["id"]], "action": "updated"} for p in moved)
    await ws.nothing(0.3)


async def test_expense_added_then_budget_updated_with_the_new_totals(server) -> None:
    trip, (owner, viewer), (owner_api, _) = await people(server)
    room = f"trip_{trip.pk}"
    ws = await listener(server, viewer, room)
    stranger = await outsider(server, room)
    expense = await owner_api.post(
        f"/trips/{trip.pk}/expenses/",
        {"description": "Francesinha", "amount": "31.10", "paidBy": owner.pk, "spentOn": "2026-05-02"},
    )
    added = await event(ws, "expense_added", room)
    assert added["payload"] == expense == await owner_api.get(f"/trips/{trip.pk}/expenses/{expense['id']}/")
    assert added["payload"]["amount"] == "31.10"  # a decimal string, as REST writes it
    assert [share["amount"] for share in added["payload"]["shares"]] == ["15.55", "15.55"]
    budget = await event(ws, "budget_updated", room)
    assert budget["eventId"] > added["eventId"]
    assert budget["payload"] == await owner_api.get(f"/trips/{trip.pk}/budget/")
    assert budget["payload"]["spent"] == "31.10"
    await stranger.nothing(0.5)


async def test_budget_updated_follows_total_change_and_expense_change_and_delete(server) -> None:
    trip, (owner, viewer), (owner_api, _) = await people(server)
    room, budget_path = f"trip_{trip.pk}", f"/trips/{trip.pk}/budget/"
    ws = await listener(server, viewer, room)
    stranger = await outsider(server, room)

    await owner_api.patch(budget_path, {"total": "500.00"})
    assert (await event(ws, "trip_updated", room))["payload"]["budgetTotal"] == "500.00"
    received = await event(ws, "budget_updated", room)
    assert received["payload"] == await owner_api.get(budget_path)
    assert (received["payload"]["total"], received["payload"]["remaining"]) == ("500.00", "500.00")

    expense = await owner_api.post(
        f"/trips/{trip.pk}/expenses/",
        {"description": "Train", "amount": "40.00", "paidBy": owner.pk, "spentOn": "2026-05-01"},
    )
    assert (await event(ws, "budget_updated", room))["payload"]["remaining"] == "460.00"
    await owner_api.patch(f"/trips/{trip.pk}/expenses/{expense['id']}/", {"amount": "60.00"})
    received = await event(ws, "budget_updated", room)
    assert received["payload"] == await owner_api.get(budget_path)
    assert received["payload"]["remaining"] == "440.00"
    await owner_api.delete(f"/trips/{trip.pk}/expenses/{expense['id']}/")
    received = await event(ws, "budget_updated", room)
    assert received["payload"] == await owner_api.get(budget_path)
    assert received["payload"]["spent"] == "0.00"
    await ws.nothing(0.3)
    await stranger.nothing(0.5)
