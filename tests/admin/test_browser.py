"""The admin pages in a real browser (Debian's chromium via Playwright): a staff user signs
in, finds a live test client on the clients page, broadcasts from the form, and the test
client receives it; a non-staff user cannot reach the pages."""

from __future__ import annotations

import json
import os

import pytest
from websockets.sync.client import connect

from tests.conftest import access_token
from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TIMEOUT_MS = 10_000
SCREENSHOT = os.environ.get("TRAVA_ADMIN_SCREENSHOT")  # a path: save the clients page there


def _sign_in(page, base: str, username: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")


def _expect(ws, type_: str, timeout: float = 10.0) -> dict:  # type: ignore[no-untyped-def]
    while True:
        message = json.loads(ws.recv(timeout=timeout))
        if message["type"] == type_:
            return message


@pytest.fixture
def people(transactional_db: None) -> dict:
    # Created before the browser starts (Playwright's loop and the ORM on one thread).
    return {
        "staff": UserFactory(username="ops-staff", is_staff=True, is_superuser=True),
        "member": UserFactory(username="ops-member"),
        "watcher": UserFactory(username="ops-watcher"),
    }


def test_staff_sees_a_live_client_and_broadcasts_to_it(people, daphne_server, browser) -> None:  # type: ignore[no-untyped-def]
    base = daphne_server.http_url
    with connect(daphne_server.ws_url, open_timeout=10) as ws:
        ws.send(json.dumps({"type": "authenticate", "payload": {"token": access_token(people["watcher"])}}))
        client_id = _expect(ws, "authenticated")["payload"]["clientId"]

        context = browser.new_context()
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        _sign_in(page, base, "ops-staff")
        page.wait_for_url(f"{base}/admin/")
        assert page.locator("a", has_text="Live clients").count() >= 1
        page.goto(f"{base}/admin/realtime/liveclient/")
        row = page.locator(f'tr.live-client[data-client-id="{client_id}"]')
        assert row.count() == 1
        assert "ops-watcher" in row.inner_text()
        if SCREENSHOT:
            page.screenshot(path=SCREENSHOT, full_page=True)

        page.click("text=Broadcast")
        page.fill("#id_message", "The service restarts at 23:00")
        page.fill("#id_type", "maintenance")
        page.click("input[type=submit][value='Send to everyone']")
        page.wait_for_selector(".messagelist .success")
        assert "Notification sent to" in page.locator(".messagelist").inner_text()
        note = _expect(ws, "notification")
        assert note["payload"] == {"kind": "maintenance", "message": "The service restarts at 23:00"}

        # The same client, kicked from its row.
        page.goto(f"{base}/admin/realtime/liveclient/?user=ops-watcher")
        page.locator(f'tr.live-client[data-client-id="{client_id}"] input.kick').click()
        page.wait_for_selector(".messagelist .success")
        try:
            while True:
                ws.recv(timeout=10)
        except Exception as exc:  # ConnectionClosed
            assert getattr(getattr(exc, "rcvd", None), "code", None) == 4003
        context.close()

    outsider = browser.new_context()
    page = outsider.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    _sign_in(page, base, "ops-member")
    assert "/admin/login/" in page.url  # not a staff account: the login form again
    for path in (
        "/admin/realtime/liveclient/",
        "/admin/realtime/liveclient/broadcast/",
        "/admin/realtime/liveroom/",
    ):
        page.goto(base + path)
        assert "/admin/login/" in page.url
        assert page.locator("#id_username").count() == 1
    outsider.close()
