"""The live trip page and its assets over real HTTP against a live daphne."""

from __future__ import annotations

import posixpath
import re

import httpx
import pytest

pytestmark = pytest.mark.django_db(transaction=True)

MODULE_IMPORT = re.compile(
    r'^(?:import|export) [^;]*? from "([^"]+)";|^import "([^"]+)";', re.MULTILINE | re.DOTALL
)
LIBRARY = "/static/realtime/trava-realtime.js"


def test_app_page_is_served_without_a_server_side_login(http: httpx.Client) -> None:
    page = http.get("/app/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert 'data-testid="connection-state"' in page.text
    assert "no-cache" in page.headers.get("cache-control", "") or "max-age=0" in page.headers["cache-control"]
    csp = page.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    # Photos are shown from blob: URLs (fetched with the token in a header), nothing else.
    assert "img-src 'self' data: blob:" in csp


def _module_graph(http: httpx.Client, entry: str) -> dict[str, str]:
    """Every ES module reachable from `entry` by its static imports: url -> source."""
    seen: dict[str, str] = {}
    todo = [entry]
    while todo:
        url = todo.pop()
        if url in seen:
            continue
        response = http.get(url)
        assert response.status_code == 200, url
        assert "javascript" in response.headers["content-type"], (url, response.headers["content-type"])
        seen[url] = response.text
        for match in MODULE_IMPORT.finditer(response.text):
            target = match.group(1) or match.group(2)
            assert target.startswith((".", "/")), f"{url} imports {target} from outside this origin"
            todo.append(posixpath.normpath(posixpath.join(posixpath.dirname(url), target)))
    return seen


def test_every_asset_of_the_page_is_local_and_answers(http: httpx.Client) -> None:
    page = http.get("/app/").text
    referenced = re.findall(r'(?:src|href)="([^"#]+)"', page)
    for url in referenced:
        assert url.startswith(("/", "data:")), f"external asset {url}"
    local = {url for url in referenced if url.startswith("/static/")}
    assert local == {"/static/web/app/main.js", "/static/web/app.css"}
    css = http.get("/static/web/app.css")
    assert css.status_code == 200 and "text/css" in css.headers["content-type"]
    # Native ES modules, no build step: the page module and everything it imports are
    # served as they are, all from this origin, and the socket is the client library's.
    modules = _module_graph(http, "/static/web/app/main.js")
    assert LIBRARY in modules
    assert len(modules) >= 10, sorted(modules)
    for url, source in modules.items():
        assert "http://" not in source and "https://" not in source, url
    assert not any("new WebSocket" in source for url, source in modules.items() if url != LIBRARY)
    # The client library stays where other clients and the docs expect it.
    assert http.get(LIBRARY).status_code == 200


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
