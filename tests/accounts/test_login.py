from __future__ import annotations

from fastapi.testclient import TestClient

from app.db.session import Database
from tests.accounts.helpers import SESSION_COOKIE, active_sessions, audit_actions, login
from tests.factories import Factory, post_form


def test_login_sets_a_safe_cookie_and_rotates_the_session(
    client: TestClient, factory: Factory, database: Database
) -> None:
    account = factory.account("alice@example.org")
    old_token = factory.login(client, account)  # a session already held by this browser
    response = login(client, "Alice@Example.org", next_url="/mon-espace")
    assert response.status_code == 303
    assert response.headers["location"] == "/mon-espace"
    set_cookie = response.headers["set-cookie"]
    assert set_cookie.startswith(SESSION_COOKIE + "=")
    assert "HttpOnly" in set_cookie
    assert "SameSite=lax" in set_cookie or "SameSite=Lax" in set_cookie
    new_token = response.cookies.get(SESSION_COOKIE)
    assert new_token
    assert new_token != old_token
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, new_token)
    assert client.get("/mon-espace").status_code == 200
    # The session held before login was revoked: replaying its cookie is not signed in.
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, old_token)
    assert client.get("/mon-espace").status_code == 303
    assert active_sessions(database, account.id) == 1
    assert "account.login" in audit_actions(database)


def test_failed_login_is_generic_and_keeps_the_email(client: TestClient, factory: Factory) -> None:
    factory.account("alice@example.org")
    for email, password in (("alice@example.org", "mauvais mot de passe"), ("nobody@example.org", "x" * 12)):
        response = login(client, email, password)
        assert response.status_code == 422
        assert "Adresse e-mail ou mot de passe incorrect." in response.text
        assert f'value="{email}"' in response.text
        assert password not in response.text
        assert SESSION_COOKIE not in response.headers.get("set-cookie", "")


def test_login_is_rate_limited_per_account(client: TestClient, factory: Factory) -> None:
    factory.account("alice@example.org")
    statuses = [login(client, "alice@example.org", "mauvais mot de passe").status_code for _ in range(5)]
    assert statuses == [422] * 5
    # Even the right password is refused once the limit is reached.
    assert login(client, "alice@example.org").status_code == 429


def test_next_must_be_a_local_path(client: TestClient, factory: Factory) -> None:
    factory.account("alice@example.org")
    for target in ("//evil.example", "https://evil.example/", "/\\evil.example"):
        client.cookies.clear()
        response = login(client, "alice@example.org", next_url=target)
        assert response.status_code == 303
        assert response.headers["location"] == "/", target


def test_login_page_keeps_a_safe_next_only(client: TestClient) -> None:
    assert 'name="next" value="/mon-espace"' in client.get("/connexion?next=/mon-espace").text
    assert 'name="next"' not in client.get("/connexion?next=//evil.example").text


def test_logout_revokes_the_server_session(client: TestClient, factory: Factory, database: Database) -> None:
    account = factory.account("alice@example.org")
    token = factory.login(client, account)
    response = post_form(client, "/mon-espace", "/deconnexion")
    assert response.status_code == 303
    assert SESSION_COOKIE in response.headers["set-cookie"]  # cleared
    assert active_sessions(database, account.id) == 0
    client.cookies.set(SESSION_COOKIE, token)
    assert client.get("/mon-espace").status_code == 303
    assert "account.logout" in audit_actions(database)


def test_logout_without_csrf_token_changes_nothing(client: TestClient, factory: Factory, database: Database) -> None:
    account = factory.account("alice@example.org")
    factory.login(client, account)
    assert client.post("/deconnexion", data={}).status_code == 403
    assert active_sessions(database, account.id) == 1
    assert client.get("/mon-espace").status_code == 200


def test_session_cookie_replayed_on_another_territory_is_not_signed_in(
    client: TestClient, other_client: TestClient, factory: Factory
) -> None:
    account = factory.account("alice@example.org")
    token = factory.login(client, account)
    assert client.get("/mon-espace").status_code == 200
    other_client.cookies.set(SESSION_COOKIE, token)
    response = other_client.get("/mon-espace")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/connexion")


def test_account_of_one_territory_cannot_log_in_on_another(
    client: TestClient, other_client: TestClient, factory: Factory
) -> None:
    factory.account("alice@example.org")
    assert login(other_client, "alice@example.org").status_code == 422


def test_unverified_account_logs_in_and_is_asked_to_verify(client: TestClient, factory: Factory) -> None:
    factory.account("alice@example.org", verified=False)
    assert login(client, "alice@example.org").status_code == 303
    page = client.get("/mon-espace")
    assert "n&#39;est pas encore confirmée" in page.text or "n'est pas encore confirmée" in page.text
    assert "Renvoyer le lien" in page.text


def test_profile_requires_login(client: TestClient) -> None:
    response = client.get("/mon-espace")
    assert response.status_code == 303
    assert response.headers["location"] == "/connexion?next=%2Fmon-espace"
