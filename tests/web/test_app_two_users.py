"""The live page as two people use it, each in a browser context of their own (Debian's
chromium through Playwright, every request outside the local server blocked): they sign
up, one creates a trip and adds the other, a photo uploaded by one appears for the other
live, two editors of a journal entry meet the version check (409), and notifications
arrive in the menu. Screenshots of the trip page at desktop and phone width go to the
test run's artifacts (`$TRAVA_ARTIFACTS/screenshots`, default `test-artifacts/screenshots`)."""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from tests.servers import DaphneNode

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_MS = 10_000
LIVE = '[data-testid="connection-state"][data-state="open"]'
PASSWORD = "tiles-and-trams-2026"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def artifacts_dir() -> Path:
    path = Path(os.environ.get("TRAVA_ARTIFACTS") or ROOT / "test-artifacts") / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def people(browser, daphne_server: DaphneNode) -> Iterator:  # type: ignore[no-untyped-def]
    """`people("ana")`: a page in a context of its own that may only reach the local server;
    `page.outside` lists blocked URLs, `page.errors` uncaught page errors."""
    contexts = []
    local = (daphne_server.http_url, daphne_server.ws_url.rsplit("/", 1)[0])

    def make(name: str):  # type: ignore[no-untyped-def]
        context = browser.new_context(viewport=DESKTOP, locale="en-US", timezone_id="UTC")
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.outside = []
        page.errors = []

        def only_local(route) -> None:  # type: ignore[no-untyped-def]
            if route.request.url.startswith(local):
                route.continue_()
            else:
                page.outside.append(route.request.url)
                route.abort()

        page.route("**/*", only_local)
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        page.on("dialog", lambda dialog: dialog.accept())  # confirm() of publish/remove
        page.name = name
        return page

    yield make
    for context in contexts:
        context.close()


def sign_up(page, server: DaphneNode, username: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{server.http_url}/app/")
    page.get_by_role("button", name="Create an account").click()
    form = page.get_by_test_id("signup-form")
    form.get_by_label("Username").fill(username)
    form.get_by_label("Email").fill(f"{username}@example.com")
    form.get_by_label("Password").fill(PASSWORD)
    form.get_by_role("button", name="Create account").click()
    page.get_by_test_id("current-user").filter(has_text=username).wait_for()
    page.get_by_test_id("trip-form").wait_for()
    page.locator(LIVE).wait_for()


def png_photo(path: Path) -> Path:
    image = Image.new("RGB", (640, 480), (24, 120, 110))
    for x in range(0, 640, 40):
        for y in range(0, 480, 40):
            if (x + y) // 40 % 2:
                image.paste((240, 190, 90), (x, y, x + 40, y + 40))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    path.write_bytes(buffer.getvalue())
    return path


def go(page, hash_: str) -> None:  # type: ignore[no-untyped-def]
    """Follow an in-page link (a hash change: no reload, the socket stays)."""
    page.evaluate("(hash) => { location.hash = hash; }", hash_)


def test_two_people_plan_a_trip_share_a_photo_and_meet_the_journal_version_check(  # type: ignore[no-untyped-def]
    people, daphne_server: DaphneNode, tmp_path: Path
) -> None:
    ana, ben = people("ana"), people("ben")
    sign_up(ana, daphne_server, "ana")
    sign_up(ben, daphne_server, "ben")
    ben.locator("#trips-status").filter(has_text="No trips yet").wait_for()

    # Ana creates a trip: the page opens it and goes live on its room.
    form = ana.get_by_test_id("trip-form")
    form.get_by_label("Trip name").fill("Porto weekend")
    form.get_by_label("Destination").fill("Porto, Portugal")
    form.get_by_label("From").fill("2026-06-12")
    form.get_by_label("To").fill("2026-06-14")
    form.get_by_label("Budget").fill("800")
    form.get_by_role("button", name="Create trip").click()
    ana.get_by_test_id("trip-title").filter(has_text="Porto weekend").wait_for()
    trip_id = int(re.search(r"#trip/(\d+)$", ana.url).group(1))
    ana.get_by_test_id("member").filter(has_text="ana").filter(has_text="Owner").wait_for()
    ana.get_by_test_id("presence-member").filter(has_text="ana").wait_for()
    assert ana.get_by_test_id("budget-total").inner_text() == "€800.00"

    # Ana adds Ben as an editor; Ben is told in his notifications menu (his user room)
    # and his trip list shows the trip, without a reload.
    ana.get_by_test_id("member-username").fill("ben")
    ana.get_by_test_id("member-role").select_option("editor")
    ana.get_by_test_id("member-add").click()
    ana.locator('[data-testid="member"][data-role="editor"]').filter(has_text="ben").wait_for()
    ben.get_by_test_id("notifications-count").filter(has_text="1").wait_for()
    ben.get_by_test_id("trip-list").get_by_text("Porto weekend").wait_for()
    ben.get_by_test_id("notifications-button").click()
    invite = ben.get_by_test_id("notification-item").filter(
        has_text="You were added to Porto weekend as editor"
    )
    invite.wait_for()
    invite.get_by_role("link").click()  # opens the trip and marks the notification read
    ben.get_by_test_id("trip-title").filter(has_text="Porto weekend").wait_for()
    ben.locator(LIVE).wait_for()
    ben.get_by_test_id("notifications-count").wait_for(state="hidden")
    ana.get_by_test_id("presence-member").filter(has_text="ben").wait_for()

    # Ana plans: a stop reaches Ben's itinerary live; she proposes an activity and says yes.
    ana.get_by_text("Add a stop").click()
    stop = ana.get_by_test_id("itinerary-form")
    stop.get_by_label("Stop").fill("Port tasting at Graham's")
    stop.get_by_label("Starts").fill("2026-06-13T17:30")
    stop.get_by_role("button", name="Add stop").click()
    ben.get_by_test_id("itinerary-item").filter(has_text="Port tasting at Graham's").wait_for()
    activity = ana.get_by_test_id("activity-form")
    activity.get_by_label("Activity").fill("Sunset at Jardim do Morro")
    activity.get_by_label("When").fill("2026-06-12T20:30")
    activity.get_by_role("button", name="Propose").click()
    proposed = ana.get_by_test_id("activity-item").filter(has_text="Sunset at Jardim do Morro")
    proposed.get_by_role("button", name="Going").click()
    proposed.get_by_test_id("activity-going").filter(has_text="Going: ana").wait_for()

    # Photos: Ana makes an album; Ben, on the photos tab, sees it arrive and opens it.
    go(ana, f"#trip/{trip_id}/photos")
    go(ben, f"#trip/{trip_id}/photos")
    ana.get_by_test_id("album-title-input").fill("Ribeira")
    ana.get_by_test_id("album-create").click()
    ana.get_by_test_id("album-title").filter(has_text="Ribeira").wait_for()
    ben_album = ben.get_by_test_id("album-item").filter(has_text="Ribeira")
    ben_album.wait_for()
    ben_album.click()
    ben.get_by_test_id("album-title").filter(has_text="Ribeira").wait_for()
    ben.locator("#photos-empty").wait_for()

    # Ana uploads with a progress bar; the photo appears in Ben's grid live, once.
    upload = ana.get_by_test_id("upload-form")
    upload.get_by_label("Photo").set_input_files(str(png_photo(tmp_path / "ribeira.png")))
    upload.get_by_label("Caption").fill("Ribeira at dusk")
    upload.get_by_role("button", name="Upload").click()
    ana.locator("#upload-percent").filter(has_text="Uploaded").wait_for()
    assert ana.get_by_test_id("upload-progress").get_attribute("value") == "100"
    ana.get_by_test_id("photo-item").filter(has_text="Ribeira at dusk").wait_for()
    ben_photo = ben.get_by_test_id("photo-item").filter(has_text="Ribeira at dusk")
    ben_photo.wait_for()
    ben_photo.locator("img[src^='blob:']").wait_for()  # the thumbnail, fetched with the token
    ben.wait_for_timeout(300)  # a copy from the second room (album and trip) would show by now
    assert ben.get_by_test_id("photo-item").count() == 1
    assert ana.get_by_test_id("photo-item").count() == 1

    # Ben likes it and comments: Ana sees both, and a notification of the like.
    ben_photo.get_by_role("button").click()
    dialog = ben.get_by_test_id("photo-dialog")
    dialog.locator("img[src^='blob:']").wait_for()
    dialog.get_by_test_id("photo-like").click()
    dialog.get_by_test_id("photo-like-count").filter(has_text="1").wait_for()
    dialog.get_by_test_id("comment-input").fill("Gorgeous light!")
    dialog.get_by_test_id("comment-send").click()
    dialog.get_by_test_id("photo-comment").filter(has_text="Gorgeous light!").wait_for()
    dialog.get_by_test_id("photo-close").click()
    ana.get_by_test_id("photo-item").filter(has_text="♥ 1 · 1 comment").wait_for()
    ana.get_by_test_id("notifications-count").filter(has_text=re.compile(r"^[12]$")).wait_for()
    ana.get_by_test_id("notifications-button").click()
    ana.get_by_test_id("notification-item").filter(has_text="ben reacted").wait_for()
    ana.keyboard.press("Escape")

    # Journal: Ana starts an entry and invites Ben to co-write it.
    go(ana, f"#trip/{trip_id}/journal")
    ana.get_by_test_id("journal-new-title").fill("Day one")
    ana.get_by_test_id("journal-create").click()
    ana.get_by_test_id("journal-entry-title").filter(has_text="Day one").wait_for()
    entry_id = int(re.search(r"/journal/(\d+)$", ana.url).group(1))
    ana.get_by_test_id("collaborator-username").fill("ben")
    ana.get_by_test_id("collaborator-add").click()
    ana.locator("#entry-byline").filter(has_text="ana, ben").wait_for()
    go(ben, f"#trip/{trip_id}/journal/{entry_id}")
    ben.get_by_test_id("journal-entry-title").filter(has_text="Day one").wait_for()

    # Both edit version 1. Ana saves first; the page renders her Markdown (escaped).
    ana.get_by_test_id("journal-edit").click()
    ben.get_by_test_id("journal-edit").click()
    ana_text = "# Porto\n\nWe **walked** the Ribeira. <script>x()</script>"
    ana.get_by_test_id("journal-body-input").fill(ana_text)
    ana.get_by_test_id("journal-save").click()
    body = ana.get_by_test_id("journal-entry-body")
    body.locator("h2", has_text="Porto").wait_for()
    assert body.locator("strong").inner_text() == "walked"
    assert body.locator("script").count() == 0 and "<script>x()</script>" in body.inner_text()

    # Ben saves his edit of version 1: refused (409), told so, his text kept, hers shown.
    ben_text = "Ben was here first, he thought.\n\n## To do\n\n- tram 28 at *dawn*\n- **pastéis** at Belém"
    ben.get_by_test_id("journal-body-input").fill(ben_text)
    ben.get_by_test_id("journal-save").click()
    conflict = ben.get_by_test_id("journal-conflict")
    conflict.filter(has_text="Not saved: someone else saved this entry while you were editing").wait_for()
    assert "version 2" in conflict.inner_text()
    assert ben.get_by_test_id("journal-body-input").input_value() == ben_text
    assert "walked" in ben.get_by_test_id("journal-theirs").inner_text()

    # Ben decides to replace it: saved as version 3, and Ana, reading, sees it live.
    ben.get_by_test_id("journal-save").click()
    ben.get_by_test_id("journal-entry-body").filter(has_text="Ben was here first").wait_for()
    ana.get_by_test_id("journal-entry-body").filter(has_text="Ben was here first").wait_for()
    assert "version 3" in ana.locator("#entry-byline").inner_text()
    # Ana publishes; Ben's page shows it published.
    ana.get_by_test_id("journal-publish").click()
    ben.get_by_test_id("journal-entry-status").filter(has_text="Published").wait_for()
    # Ben comments on the published entry; Ana, reading it, sees the comment arrive.
    ben.get_by_test_id("journal-comment-input").fill("Saving this for next year.")
    ben.get_by_test_id("journal-comment-send").click()
    ana.get_by_test_id("journal-comment").filter(has_text="Saving this for next year.").wait_for()
    assert ana.get_by_test_id("journal-comment").count() == 1

    # Screenshots of the trip page, desktop and phone width.
    shots = artifacts_dir()
    go(ana, f"#trip/{trip_id}")
    ana.get_by_test_id("chat-input").fill("Photos are up!")
    ana.get_by_test_id("chat-send").click()
    # Ben is reading the journal: the chat behind its tab still follows.
    ben.get_by_test_id("chat-message").filter(has_text="Photos are up!").wait_for(state="attached")
    ana.get_by_test_id("chat-message").filter(has_text="Photos are up!").wait_for()
    ana.get_by_test_id("budget-members").filter(has_text="ben").wait_for()
    ana.evaluate("document.getElementById('toasts').replaceChildren()")
    for label, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        ana.set_viewport_size(viewport)
        if label == "phone":  # as a phone opens it: the add forms start folded
            ana.reload()
            ana.locator(LIVE).wait_for()
        for tab, suffix in (("overview", ""), ("photos", "/photos"), ("journal", f"/journal/{entry_id}")):
            go(ana, f"#trip/{trip_id}{suffix}")
            ana.locator(f"#tab-panel-{tab}").wait_for()
            ana.evaluate("window.scrollTo(0, 0)")
            ana.wait_for_timeout(150)
            ana.screenshot(path=str(shots / f"trip-{tab}-{label}.png"), full_page=True)
    # And Ben's trip list and notifications menu on a phone.
    ben.set_viewport_size(PHONE)
    go(ben, "#trips")
    ben.get_by_test_id("trip-card").filter(has_text="Porto weekend").wait_for()
    ben.screenshot(path=str(shots / "trips-phone.png"), full_page=True)
    ben.get_by_test_id("notifications-button").click()
    ben.get_by_test_id("notifications-menu").wait_for()
    ben.screenshot(path=str(shots / "notifications-phone.png"))
    for tab in ("overview", "photos", "journal"):
        for label in ("desktop", "phone"):
            assert (shots / f"trip-{tab}-{label}.png").stat().st_size > 10_000

    # Nothing left the machine, and no page error.
    for page in (ana, ben):
        assert page.outside == [], page.name
        assert page.errors == [], page.name
