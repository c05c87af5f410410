"""The packing list's one event: `packing_list_updated {id, title}` -> packing_<id>.

Not in the product's catalogue (trava.events_catalogue): the app checks its own event
before delegating every other to the catalogue's check (`check`, registered by its
AppConfig through events.delivery)."""

from __future__ import annotations

from typing import Any

from events.publish import Event, publish
from events.rooms import room_id
from tests.packing.models import PackingList
from trava.events_catalogue import check_on_publish

PACKING = "packing"  # the room type
PACKING_LIST_UPDATED = "packing_list_updated"


def packing_room(list_id: int) -> str:
    return room_id(PACKING, list_id)


def list_saved(list_id: int) -> None:
    def build() -> list[Event]:
        found = PackingList.objects.filter(pk=list_id).first()
        if found is None:
            return []
        return [Event(PACKING_LIST_UPDATED, (packing_room(list_id),), {"id": found.pk, "title": found.title})]

    publish((PACKING_LIST_UPDATED, list_id), build)


def check(type_: str, payload: dict[str, Any]) -> None:
    """The publish-time check of the test settings, which knows this app's event too."""
    if type_ != PACKING_LIST_UPDATED:
        check_on_publish(type_, payload)
        return
    if set(payload) != {"id", "title"} or not isinstance(payload["title"], str):
        raise ValueError(f"{type_}: unexpected payload {payload!r}")
