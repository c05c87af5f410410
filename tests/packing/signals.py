"""Packing list changes -> packing events (tests.packing.events); no business logic."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save

from events import delivery
from tests.packing import events
from tests.packing.models import PackingList


def list_saved(sender: type[PackingList], instance: PackingList, raw: bool = False, **kwargs: Any) -> None:
    if not raw:
        events.list_saved(instance.pk)


def connect() -> None:
    post_save.connect(list_saved, sender=PackingList, dispatch_uid="packing.events.list_saved")
    delivery.register_check(events.check)
