"""Revocation: how an app says that a change takes access away from open sockets.

The apps know which change revokes what (their realtime.py connects the receivers); the
real-time layer knows how to reach every node, and registers that at startup
(`register`, from realtime's AppConfig), as it registers its delivery (events.delivery):

- `deactivate(user_id)`: a user deactivated by staff, or deleted: their connections
  close 4003;
- `sign_out(user_id)`: every token of the account is void (password changed): their
  connections close 4001, sign in again;
- `revoke(user_id=None, rooms=None, room_types=None)`: the matching members of the
  matching rooms (given rooms or room types; all rooms when neither is given) are checked
  again against the room types' `can_join`, and those who lost access leave
  (`room_left`, reason `access_revoked`). With `user_id` the user is re-read first.

Each runs after the commit of the current transaction (nothing if it rolls back; at once
outside one), so a node re-checks against committed state. Until something is registered
(a process without realtime), they do nothing: there are no sockets to revoke.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable

from django.db import transaction

Revoke = Callable[[int | None, list[str] | None, list[str] | None], object]
ByUser = Callable[[int], object]

_revoke: Revoke | None = None
_sign_out: ByUser | None = None
_deactivate: ByUser | None = None


def register(*, revoke: Revoke, sign_out: ByUser, deactivate: ByUser) -> None:
    """The real-time layer's cluster commands (they log their failures, never raise)."""
    global _revoke, _sign_out, _deactivate
    _revoke, _sign_out, _deactivate = revoke, sign_out, deactivate


def _run_revoke(user_id: int | None, rooms: list[str] | None, room_types: list[str] | None) -> None:
    if _revoke is not None:
        _revoke(user_id, rooms, room_types)


def _run_sign_out(user_id: int) -> None:
    if _sign_out is not None:
        _sign_out(user_id)


def _run_deactivate(user_id: int) -> None:
    if _deactivate is not None:
        _deactivate(user_id)


def revoke(
    user_id: int | None = None, rooms: Iterable[str] | None = None, room_types: Iterable[str] | None = None
) -> None:
    """After the commit: members who lost access to the matching rooms leave them."""
    rooms = list(rooms) if rooms is not None else None
    room_types = list(room_types) if room_types is not None else None
    transaction.on_commit(functools.partial(_run_revoke, user_id, rooms, room_types), robust=True)


def sign_out(user_id: int) -> None:
    """After the commit: the user's connections close 4001 (sign in again)."""
    transaction.on_commit(functools.partial(_run_sign_out, user_id), robust=True)


def deactivate(user_id: int) -> None:
    """After the commit: the user's connections close 4003."""
    transaction.on_commit(functools.partial(_run_deactivate, user_id), robust=True)
