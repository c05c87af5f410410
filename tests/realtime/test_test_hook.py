"""The test hook `test_broadcast` (tests/realtime_hooks.py) is test code: a node runs it
only when its settings name it (trava/settings_test.py); a production node does not know
the type, staff included (style rule 8)."""

from __future__ import annotations

import pytest

from tests.realtime.conftest import make_user, signed_in

pytestmark = pytest.mark.django_db(transaction=True)

BROADCAST = {"roomId": "trip_1", "type": "trip_updated", "payload": {"n": 1}}


async def test_a_production_node_answers_unknown_type_to_test_broadcast_even_for_staff(
    node, daphne_factory
) -> None:  # type: ignore[no-untyped-def]
    production = daphne_factory(env={"DJANGO_SETTINGS_MODULE": "trava.settings"})
    staff = await make_user(is_staff=True)
    async with await signed_in(production.ws_url, staff) as ws:
        await ws.send("test_broadcast", BROADCAST, id="t")
        error = await ws.expect("error")
        assert error["payload"]["code"] == "unknown_type" and error["payload"]["replyTo"] == "t"
    # The same staff user on a node with the test settings: the hook answers.
    async with await signed_in(node.ws_url, staff) as ws:
        await ws.send("test_broadcast", BROADCAST, id="t")
        assert (await ws.expect("test_broadcast_ack"))["replyTo"] == "t"


async def test_the_hook_refuses_non_staff_as_an_unknown_type(node) -> None:  # type: ignore[no-untyped-def]
    alice = await make_user()
    async with await signed_in(node.ws_url, alice) as ws:
        await ws.send("test_broadcast", BROADCAST, id="t")
        error = await ws.expect("error")
        assert error["payload"]["code"] == "unknown_type" and error["payload"]["replyTo"] == "t"
