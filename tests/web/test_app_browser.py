"""The live trip page in a real browser (Debian's chromium via Playwright), with every
request outside the local server blocked: alice signs in, opens her trip, sees it as REST
has it, and the page goes live on the trip's room."""

from __future__ import annotations

import os
from collections.abc import Iterator

import httpx
import pytest

from tests.servers import DaphneNode
from tests.web.conftest import TripScene

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOT = os.environ.get("TRAVA_APP_SCREENSHOT", "/tmp/trava-app.png")
TIMEOUT_MS = 10_000
LIVE = '[data-testid="connection-state"][data-state="open"]'


@pytest.fixture
def page_of(browser, daphne_server: DaphneNode) -> Iterator:  # type: ignore[no-untyped-def]
    """`page_of(node=daphne_server)`: a fresh page (own context, own sessionStorage) that
    may only reach that local server; blocked outside URLs are listed in `page.outside`,
    uncaught page errors in `page.errors`."""
    contexts = []

    def make(node: DaphneNode = daphne_server):  # type: ignore[no-untyped-def]
        context = browser.new_context(viewport={"width": 1440, "height": 1000}, locale="en-US")
        contexts.append(context)
        page = context.new_page()
        outside: list[str] = []
        local = (node.http_url, node.ws_url.rsplit("/", 1)[0])

        def only_local(route) -> None:  # type: ignore[no-untyped-def]
            if route.request.url.startswith(local):
                route.continue_()
            else:
                outside.append(route.request.url)
                route.abort()

        page.route("**/*", only_local)
        page.outside = outside
        page.errors = []
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        return page

    yield make
    for context in contexts:
        context.close()


def sign_in(page, daphne_server: DaphneNode, scene: TripScene, username: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{daphne_server.http_url}/app/")
    form = page.get_by_test_id("signin-form")
    form.get_by_label("Username").fill(username)
    form.get_by_label("Password").fill(scene.password)
    form.get_by_role("button", name="Sign in").click()
    page.get_by_test_id("trip-list").get_by_text(scene.trip.title).wait_for(timeout=TIMEOUT_MS)


def test_alice_signs_in_opens_her_trip_and_goes_live(
    page_of, daphne_server: DaphneNode, trip_scene: TripScene
) -> None:  # type: ignore[no-untyped-def]
    page = page_of()
    sign_in(page, daphne_server, trip_scene, "alice")
    page.get_by_test_id("trip-list").get_by_text(trip_scene.trip.title).click()
    assert page.url.endswith(f"#trip/{trip_scene.trip.pk}")

    title = page.get_by_test_id("trip-title")
    title.filter(has_text=trip_scene.trip.title).wait_for(timeout=TIMEOUT_MS)
    assert page.get_by_test_id("trip-destination").inner_text() == "Lisbon, Portugal"

    # The state as REST has it: itinerary, expenses, budget, chat history.
    items = page.get_by_test_id("itinerary-item")
    items.nth(1).wait_for(timeout=TIMEOUT_MS)
    assert items.count() == 2
    assert "Check in at Casa Alfama" in items.nth(0).inner_text()
    assert "Tram 28 to Estrela" in items.nth(1).inner_text()
    assert page.get_by_test_id("expense-item").count() == 1
    assert "Apartment, 5 nights" in page.get_by_test_id("expense-list").inner_text()
    assert page.get_by_test_id("budget-spent").inner_text() == "€640.00"
    assert page.get_by_test_id("budget-remaining").inner_text() == "€860.00"
    assert page.get_by_test_id("budget-total").inner_text() == "€1,500.00"
    assert "Landed! Heading to the apartment." in page.get_by_test_id("chat-messages").inner_text()

    # Live: the client authenticates and joins trip_<id>; alice is in its presence list.
    badge = page.locator('[data-testid="connection-state"][data-state="open"]')
    badge.wait_for(timeout=TIMEOUT_MS)
    assert badge.inner_text() == "Live"
    page.get_by_test_id("presence-member").filter(has_text="alice").wait_for(timeout=TIMEOUT_MS)

    # An expense through the form: it is listed once and the budget follows.
    page.get_by_label("Description").fill("Pastéis de Belém")
    page.get_by_label("Amount").fill("12.40")
    page.get_by_label("Category").select_option("food")
    page.get_by_role("button", name="Add expense").click()
    page.get_by_test_id("budget-spent").filter(has_text="€652.40").wait_for(timeout=TIMEOUT_MS)
    assert page.get_by_test_id("expense-item").filter(has_text="Pastéis de Belém").count() == 1

    # A reload keeps the trip open (hash route, tokens in sessionStorage).
    page.reload()
    title.filter(has_text=trip_scene.trip.title).wait_for(timeout=TIMEOUT_MS)
    badge.wait_for(timeout=TIMEOUT_MS)
    page.get_by_test_id("expense-item").nth(1).wait_for(timeout=TIMEOUT_MS)

    assert page.outside == []
    assert page.errors == []


def test_bob_chats_and_adds_an_expense_and_alice_sees_both_live(  # type: ignore[no-untyped-def]
    page_of, daphne_server: DaphneNode, trip_scene: TripScene, http: httpx.Client
) -> None:
    alice = page_of()
    sign_in(alice, daphne_server, trip_scene, "alice")
    alice.goto(f"{daphne_server.http_url}/app/#trip/{trip_scene.trip.pk}")
    bob = page_of()
    sign_in(bob, daphne_server, trip_scene, "bob")
    bob.goto(f"{daphne_server.http_url}/app/#trip/{trip_scene.trip.pk}")
    for page in (alice, bob):
        page.locator('[data-testid="connection-state"][data-state="open"]').wait_for(timeout=TIMEOUT_MS)

    # Presence: each sees the other arrive (room_joined.members, then user_joined).
    alice.get_by_test_id("presence-member").filter(has_text="bob").wait_for(timeout=TIMEOUT_MS)
    bob.get_by_test_id("presence-member").filter(has_text="alice").wait_for(timeout=TIMEOUT_MS)

    # Chat over the socket: pending on bob's page until acked, then on alice's, once.
    bob.get_by_label("Message").fill("Dinner at 8?")
    bob.get_by_role("button", name="Send").click()
    bob.get_by_test_id("chat-message").filter(has_text="Dinner at 8?").wait_for(timeout=TIMEOUT_MS)
    assert bob.get_by_test_id("chat-message-pending").count() == 0
    alice.get_by_test_id("chat-message").filter(has_text="Dinner at 8?").wait_for(timeout=TIMEOUT_MS)
    assert alice.get_by_test_id("chat-message").filter(has_text="Dinner at 8?").count() == 1

    # Bob adds an expense over REST: alice's list and budget change (expense_added,
    # budget_updated) and her event log shows them.
    token = http.post("/api/auth/token/", json={"username": "bob", "password": trip_scene.password}).json()
    response = http.post(
        f"/api/trips/{trip_scene.trip.pk}/expenses/",
        headers={"Authorization": f"Bearer {token['access']}"},
        json={
            "description": "Fado tickets",
            "amount": "60.00",
            "category": "activities",
            "paidBy": trip_scene.bob.pk,
            "spentOn": "2026-05-02",
        },
    )
    assert response.status_code == 201, response.text
    alice.get_by_test_id("budget-spent").filter(has_text="€700.00").wait_for(timeout=TIMEOUT_MS)
    assert alice.get_by_test_id("expense-item").filter(has_text="Fado tickets").count() == 1
    log = alice.get_by_test_id("event-log")
    log.locator('[data-type="expense_added"]').wait_for(timeout=TIMEOUT_MS)
    assert log.locator('[data-type="budget_updated"]').count() >= 1
    alice.screenshot(path=SCREENSHOT, full_page=True)

    for page in (alice, bob):
        assert page.outside == []
        assert page.errors == []


@pytest.mark.slow
def test_after_a_server_restart_both_pages_come_back_and_alice_has_what_she_missed_once(  # type: ignore[no-untyped-def]
    page_of, test_database_url: str, trip_scene: TripScene, http: httpx.Client
) -> None:
    # A node of its own, restarted on the same port; REST while it is down goes to the
    # session's node (same database).
    node = DaphneNode(test_database_url).start()
    try:
        pages = []
        for username in ("alice", "bob"):
            page = page_of(node)
            sign_in(page, node, trip_scene, username)
            page.goto(f"{node.http_url}/app/#trip/{trip_scene.trip.pk}")
            pages.append(page)
        alice, bob = pages
        for page in pages:
            page.locator(LIVE).wait_for(timeout=TIMEOUT_MS)
        alice.get_by_test_id("presence-member").filter(has_text="bob").wait_for(timeout=TIMEOUT_MS)

        node.stop()
        for page in pages:
            page.locator('[data-testid="connection-state"][data-state="reconnecting"]').wait_for(
                timeout=TIMEOUT_MS
            )
            assert page.get_by_test_id("connection-state").inner_text() == "Reconnecting…"

        # While the node is down: bob writes (queued in his page), and adds an expense.
        bob.get_by_label("Message").fill("Back online soon")
        bob.get_by_role("button", name="Send").click()
        assert bob.get_by_test_id("chat-message-pending").get_attribute("data-status") == "sending"
        token = http.post(
            "/api/auth/token/", json={"username": "bob", "password": trip_scene.password}
        ).json()
        response = http.post(
            f"/api/trips/{trip_scene.trip.pk}/expenses/",
            headers={"Authorization": f"Bearer {token['access']}"},
            json={
                "description": "Taxi",
                "amount": "25.00",
                "paidBy": trip_scene.bob.pk,
                "spentOn": "2026-05-03",
            },
        )
        assert response.status_code == 201, response.text

        node.start()
        for page in pages:
            page.locator(LIVE).wait_for(timeout=20_000)
        # Missed while offline: the expense (replayed, or re-read on resync) and bob's
        # queued message, each exactly once.
        alice.get_by_test_id("expense-item").filter(has_text="Taxi").wait_for(timeout=TIMEOUT_MS)
        alice.get_by_test_id("budget-spent").filter(has_text="€665.00").wait_for(timeout=TIMEOUT_MS)
        alice.get_by_test_id("chat-message").filter(has_text="Back online soon").wait_for(timeout=TIMEOUT_MS)
        bob.get_by_test_id("chat-message").filter(has_text="Back online soon").wait_for(timeout=TIMEOUT_MS)
        assert bob.get_by_test_id("chat-message-pending").count() == 0
        alice.wait_for_timeout(500)  # a late duplicate would show by now
        assert alice.get_by_test_id("expense-item").filter(has_text="Taxi").count() == 1
        assert alice.get_by_test_id("chat-message").filter(has_text="Back online soon").count() == 1
        assert bob.get_by_test_id("chat-message").filter(has_text="Back online soon").count() == 1
        for page in pages:
            assert page.outside == []
            assert page.errors == []
    finally:
        node.stop()


def test_a_hash_change_while_the_page_is_loading_opens_the_trip_without_an_error(  # type: ignore[no-untyped-def]
    page_of, daphne_server: DaphneNode, trip_scene: TripScene
) -> None:
    # Signed in, but the page does not know who the user is yet (a new tab's first load):
    # it asks /api/auth/me/, which is held back here while the URL changes to a trip.
    page = page_of()
    sign_in(page, daphne_server, trip_scene, "alice")
    page.evaluate("sessionStorage.removeItem('trava.me')")
    held = []
    page.route("**/api/auth/me/", lambda route: held.append(route))
    page.reload()
    for _ in range(100):
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "the page never asked who is signed in"
    page.evaluate("(id) => { location.hash = `#trip/${id}`; }", trip_scene.trip.pk)
    page.wait_for_timeout(200)  # the hashchange has been handled by now
    held[0].continue_()

    page.get_by_test_id("trip-title").filter(has_text=trip_scene.trip.title).wait_for(timeout=TIMEOUT_MS)
    page.locator(LIVE).wait_for(timeout=TIMEOUT_MS)
    page.get_by_test_id("presence-member").filter(has_text="alice").wait_for(timeout=TIMEOUT_MS)
    assert page.errors == []
    assert page.outside == []
