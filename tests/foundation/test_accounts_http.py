"""Accounts over real HTTP against a live daphne: register, token, refresh, me."""

import httpx
import pytest

pytestmark = pytest.mark.django_db(transaction=True)

STRONG = "Sunny-Lisbon-2026"


def register(http: httpx.Client, **body: str) -> httpx.Response:
    return http.post("/api/auth/register/", json=body)


def test_register_token_refresh_me_end_to_end(http: httpx.Client) -> None:
    created = register(http, username="alice", email="alice@example.com", password=STRONG)
    assert created.status_code == 201, created.text
    assert set(created.json()) == {"id", "username", "email"}
    assert created.json()["username"] == "alice"

    tokens = http.post("/api/auth/token/", json={"username": "alice", "password": STRONG})
    assert tokens.status_code == 200, tokens.text
    access, refresh = tokens.json()["access"], tokens.json()["refresh"]

    me = http.get("/api/auth/me/", headers={"Authorization": f"Bearer {access}"})
    assert me.status_code == 200
    assert me.json()["username"] == "alice"
    assert me.json()["email"] == "alice@example.com"
    assert "dateJoined" in me.json() and "isStaff" in me.json()  # camelCase out

    refreshed = http.post("/api/auth/token/refresh/", json={"refresh": refresh})
    assert refreshed.status_code == 200
    me_again = http.get("/api/auth/me/", headers={"Authorization": f"Bearer {refreshed.json()['access']}"})
    assert me_again.status_code == 200


def test_duplicate_username_and_email_name_the_field(http: httpx.Client) -> None:
    assert register(http, username="bob", email="bob@example.com", password=STRONG).status_code == 201
    dup_name = register(http, username="BOB", email="other@example.com", password=STRONG)
    assert dup_name.status_code == 400
    assert dup_name.json()["code"] == "validation_error"
    assert "username" in dup_name.json()["fields"]
    dup_email = register(http, username="bobby", email="Bob@Example.com", password=STRONG)
    assert dup_email.status_code == 400
    assert list(dup_email.json()["fields"]) == ["email"]


@pytest.mark.parametrize(
    ("password", "fragment"),
    [("short1", "too short"), ("password123", "too common"), ("83749201938475", "entirely numeric")],
)
def test_weak_passwords_are_refused_with_the_validator_message(
    http: httpx.Client, password: str, fragment: str
) -> None:
    response = register(http, username="carol", email="carol@example.com", password=password)
    assert response.status_code == 400
    messages = response.json()["fields"]["password"]
    assert any(fragment in message for message in messages), messages


def test_password_similar_to_username_is_refused(http: httpx.Client) -> None:
    response = register(http, username="danielsmith", email="d@example.com", password="danielsmith1")
    assert response.status_code == 400
    assert "password" in response.json()["fields"]


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"username", "email", "password"}),
        ({"username": "x", "email": "not-an-email", "password": STRONG}, {"email"}),
        ({"username": "bad name!", "email": "e@example.com", "password": STRONG}, {"username"}),
        ({"username": "u" * 151, "email": "e@example.com", "password": STRONG}, {"username"}),
    ],
)
def test_malformed_registration_names_each_field(http: httpx.Client, body: dict, fields: set) -> None:
    response = register(http, **body)
    assert response.status_code == 400
    assert set(response.json()["fields"]) == fields


def test_registration_body_that_is_not_json_is_a_clear_400(http: httpx.Client) -> None:
    response = http.post(
        "/api/auth/register/", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_wrong_credentials_are_401_and_missing_ones_name_the_field(http: httpx.Client) -> None:
    register(http, username="erin", email="erin@example.com", password=STRONG)
    wrong = http.post("/api/auth/token/", json={"username": "erin", "password": "nope-nope-nope"})
    assert wrong.status_code == 401
    assert wrong.json()["code"] == "authentication_failed"
    assert wrong.json()["message"]
    missing = http.post("/api/auth/token/", json={"username": "erin"})
    assert missing.status_code == 400
    assert list(missing.json()["fields"]) == ["password"]


def test_bad_refresh_and_access_tokens_are_401(http: httpx.Client) -> None:
    assert http.post("/api/auth/token/refresh/", json={"refresh": "garbage"}).status_code == 401
    me = http.get("/api/auth/me/", headers={"Authorization": "Bearer garbage"})
    assert me.status_code == 401
    assert http.get("/api/auth/me/").status_code == 401


def test_an_access_token_is_not_a_refresh_token(http: httpx.Client) -> None:
    register(http, username="fay", email="fay@example.com", password=STRONG)
    access = http.post("/api/auth/token/", json={"username": "fay", "password": STRONG}).json()["access"]
    assert http.post("/api/auth/token/refresh/", json={"refresh": access}).status_code == 401


def test_concurrent_registrations_of_one_name_create_one_user(http: httpx.Client, daphne_server) -> None:
    import concurrent.futures

    def attempt(i: int) -> int:
        with httpx.Client(base_url=daphne_server.http_url, timeout=15) as client:
            body = {"username": "racer", "email": f"racer{i}@example.com", "password": STRONG}
            return client.post("/api/auth/register/", json=body).status_code

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(attempt, range(8)))
    assert codes.count(201) == 1
    assert set(codes) <= {201, 400}
    from trava.accounts.models import User

    assert User.objects.filter(username__iexact="racer").count() == 1
