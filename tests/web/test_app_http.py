"""The live trip page and its assets over real HTTP against a live daphne."""

from __future__ import annotations

import re

import httpx
import pytest

pytestmark = pytest.mark.django_db(transaction=True)

ASSETS = (
    "/static/realtime/app.js",
    "/static/realtime/app.css",
    "/static/realtime/trava-realtime.js",
)


def test_app_page_is_served_without_a_server_side_login(http: httpx.Client) -> None:
    page = http.get("/app/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert 'data-testid="connection-state"' in page.text
    assert "no-cache" in page.headers.get("cache-control", "") or "max-age=0" in page.headers["cache-control"]
    csp = page.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp


def test_every_asset_of_the_page_is_local_and_answers(http: httpx.Client) -> None:
    page = http.get("/app/").text
    referenced = re.findall(r'(?:src|href)="([^"#]+)"', page)
    for url in referenced:
        assert url.startswith(("/", "data:")), f"external asset {url}"
    local = {url for url in referenced if url.startswith("/static/")}
    assert local >= {"/static/realtime/app.js", "/static/realtime/app.css"}
    for asset in ASSETS:
        response = http.get(asset)
        assert response.status_code == 200, asset
        expected = "text/css" if asset.endswith(".css") else "javascript"
        assert expected in response.headers["content-type"], (asset, response.headers["content-type"])
    # The page module imports the client library relatively, and nothing from elsewhere.
    app_js = http.get("/static/realtime/app.js").text
    assert re.findall(r'^import .* from "([^"]+)";', app_js, re.MULTILINE) == ["./trava-realtime.js"]
    assert "http://" not in app_js and "https://" not in app_js


def test_app_page_only_answers_get(http: httpx.Client) -> None:
    assert http.post("/app/").status_code in {403, 405}  # CSRF refuses it before the view would


def test_asyncapi_document_is_served_next_to_the_openapi_schema(http: httpx.Client) -> None:
    import yaml

    response = http.get("/api/asyncapi.yaml")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/yaml")
    document = yaml.safe_load(response.text)
    assert document["asyncapi"].startswith("3.")
    assert "/ws" in {channel["address"] for channel in document["channels"].values()}
