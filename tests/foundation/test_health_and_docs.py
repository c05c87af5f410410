"""/healthz, /readyz, the OpenAPI schema and the Swagger UI, over real HTTP."""

import re
import subprocess
import sys

import httpx
import pytest
import yaml
from openapi_spec_validator import validate

from tests.servers import ROOT, DaphneNode, free_port

pytestmark = pytest.mark.django_db(transaction=True)


def test_healthz_and_readyz_answer(http: httpx.Client) -> None:
    assert http.get("/healthz").json() == {"status": "ok"}
    ready = http.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"]["database"]["ok"] is True
    assert ready.json()["checks"]["channelLayer"]["ok"] is True


def test_readyz_is_503_and_healthz_200_when_the_database_is_down() -> None:
    # A PostgreSQL URL on a port where no server listens: a stopped database.
    node = DaphneNode(f"postgres://postgres@127.0.0.1:{free_port()}/trava", env={"DB_POOL_TIMEOUT": "2"})
    node.start()
    try:
        with httpx.Client(base_url=node.http_url, timeout=20) as http:
            assert http.get("/healthz").status_code == 200
            ready = http.get("/readyz")
            assert ready.status_code == 503
            assert ready.json()["checks"]["database"]["ok"] is False
            # A REST call that needs the database says 503, not 500.
            login = http.post("/api/auth/token/", json={"username": "a", "password": "b"})
            assert login.status_code == 503
            assert login.json()["code"] == "service_unavailable"
            assert http.get("/healthz").status_code == 200
    finally:
        node.stop()


def test_schema_is_valid_openapi_3(http: httpx.Client) -> None:
    response = http.get("/api/schema/", headers={"Accept": "application/vnd.oai.openapi+json"})
    assert response.status_code == 200
    schema = response.json() if "json" in response.headers["content-type"] else yaml.safe_load(response.text)
    assert schema["openapi"].startswith("3.")
    validate(schema)
    assert "/api/auth/register/" in schema["paths"]
    # camelCase in the documented bodies, as on the wire
    me = schema["components"]["schemas"]["Me"]["properties"]
    assert "dateJoined" in me and "date_joined" not in me


def test_swagger_ui_needs_no_network(http: httpx.Client) -> None:
    page = http.get("/api/docs/")
    assert page.status_code == 200
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert assets, page.text
    for asset in assets:
        assert asset.startswith("/"), f"external asset {asset}"
        assert http.get(asset).status_code == 200, asset


def test_debug_off_without_secret_key_exits_with_one_clear_line() -> None:
    # Production: DEBUG off and no .env (TRAVA_ENV_FILE empty: the checkout's is not read).
    env = {
        "PATH": "/usr/bin:/bin",
        "DEBUG": "0",
        "DJANGO_SETTINGS_MODULE": "trava.settings",
        "TRAVA_ENV_FILE": "",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert lines == ["trava: SECRET_KEY must be set when DEBUG is off (export SECRET_KEY=...)"]


@pytest.mark.browser
def test_swagger_ui_renders_in_a_real_browser_with_no_network(browser, daphne_server) -> None:
    context = browser.new_context()
    page = context.new_page()
    outside: list[str] = []

    def only_local(route) -> None:  # type: ignore[no-untyped-def]
        if route.request.url.startswith(daphne_server.http_url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_local)
    page.goto(f"{daphne_server.http_url}/api/docs/")
    page.wait_for_selector(".opblock-summary-path", timeout=20_000)
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert any("/api/auth/register/" in path for path in paths)
    assert outside == []
    context.close()
