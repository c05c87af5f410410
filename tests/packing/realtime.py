"""What the packing app brings to the real-time layer: the `packing_<id>` room (its
members join it; its events reach its members at that moment), and revocation: a member
removed leaves the list's room (`room_left`, reason `access_revoked`)."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete

from events import access
from events.audience import Audience
from events.rooms import RoomType, register_room_type
from tests.packing.events import PACKING, packing_room
from tests.packing.models import PackingList, PackingMember
from tests.packing.permissions import can_view_packing_list


def can_join_packing_list(user: Any, list_id: int) -> bool:
    found = PackingList.objects.filter(pk=list_id).first()
    return found is not None and can_view_packing_list(user, found)


def packing_audience(list_id: int) -> Audience:
    return Audience.of_column(PackingMember, "user_id", where="packing_list_id", equals=list_id)


def member_removed(sender: type[PackingMember], instance: PackingMember, **kwargs: Any) -> None:
    access.revoke(user_id=instance.user_id, rooms=[packing_room(instance.packing_list_id)])


def connect() -> None:
    register_room_type(RoomType(PACKING, can_join_packing_list, packing_audience))
    post_delete.connect(member_removed, sender=PackingMember, dispatch_uid="packing.realtime.member_removed")
