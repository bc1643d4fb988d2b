"""E-mail verification and password reset: links open a page, only its button acts."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from app.accounts.models import Account, EmailToken
from app.db.session import Database, unit_of_work
from tests.accounts.helpers import SESSION_COOKIE, active_sessions, login, registration
from tests.factories import PASSWORD, Factory, link_from, post_form


def _path(link: str) -> str:
    parts = urlsplit(link)
    return f"{parts.path}?{parts.query}"


def _verified(database: Database, email: str) -> bool:
    with unit_of_work(database) as db:
        account = db.scalars(select(Account).where(Account.email == email)).one()
        return account.email_verified_at is not None


def _register(client: TestClient, factory: Factory) -> str:
    assert post_form(client, "/inscription", data=registration()).status_code == 303
    return _path(link_from(factory.outbox(to="bea@example.org")[-1]))


def test_opening_the_link_does_not_verify_the_button_does(
    client: TestClient, factory: Factory, database: Database
) -> None:
    path = _register(client, factory)
    page = client.get(path)
    assert page.status_code == 200
    assert "Confirmer mon adresse" in page.text
    assert page.headers["Cache-Control"] == "no-store"
    assert not _verified(database, "bea@example.org")  # a mail scanner's GET confirms nothing
    token = path.split("token=")[1]
    response = post_form(client, path, "/compte/verifier", data={"token": token})
    assert response.status_code == 303
    assert response.headers["location"] == "/connexion"
    assert _verified(database, "bea@example.org")
    # The link is used now: a clear page, no error 500.
    again = client.get(path)
    assert again.status_code == 410
    assert "déjà été utilisé" in again.text


def test_verifying_while_signed_in_returns_to_the_profile(
    client: TestClient, factory: Factory, database: Database
) -> None:
    path = _register(client, factory)
    assert login(client, "bea@example.org").status_code == 303
    token = path.split("token=")[1]
    response = post_form(client, path, "/compte/verifier", data={"token": token})
    assert response.headers["location"] == "/mon-espace"
    assert _verified(database, "bea@example.org")


def test_expired_and_unknown_links_give_a_clear_page(client: TestClient, factory: Factory, database: Database) -> None:
    path = _register(client, factory)
    with unit_of_work(database) as db:
        db.execute(update(EmailToken).values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)))
    expired = client.get(path)
    assert expired.status_code == 410
    assert "expiré" in expired.text
    token = path.split("token=")[1]
    page = client.get("/inscription")
    assert page.status_code == 200
    refused = post_form(client, "/inscription", "/compte/verifier", data={"token": token})
    assert refused.status_code == 410
    assert not _verified(database, "bea@example.org")
    unknown = client.get("/compte/verifier?token=nimportequoi")
    assert unknown.status_code == 404
    assert "n'est pas valide" in unknown.text or "n&#39;est pas valide" in unknown.text
    assert client.get("/compte/verifier").status_code == 404


def test_verification_link_of_another_territory_is_refused(
    client: TestClient, other_client: TestClient, factory: Factory, database: Database
) -> None:
    path = _register(client, factory)
    assert other_client.get(path).status_code == 404
    assert not _verified(database, "bea@example.org")


def test_resend_verification_link(client: TestClient, factory: Factory) -> None:
    account = factory.account("alice@example.org", verified=False)
    factory.login(client, account)
    before = len(factory.outbox(to="alice@example.org"))
    response = post_form(client, "/mon-espace", "/compte/verifier/renvoyer")
    assert response.status_code == 303
    assert len(factory.outbox(to="alice@example.org")) == before + 1
    statuses = [post_form(client, "/mon-espace", "/compte/verifier/renvoyer").status_code for _ in range(5)]
    assert statuses[-1] == 429


def test_password_reset_end_to_end(client: TestClient, factory: Factory, database: Database) -> None:
    account = factory.account("alice@example.org")
    other_browser = factory.login(client, account)
    client.cookies.clear()
    response = post_form(client, "/mot-de-passe/oublie", data={"email": "alice@example.org"})
    assert response.status_code == 303
    assert response.headers["location"] == "/mot-de-passe/oublie/envoye"
    path = _path(link_from(factory.outbox(to="alice@example.org")[-1]))
    assert path.startswith("/mot-de-passe/nouveau?token=")
    form = client.get(path)
    assert form.status_code == 200
    token = path.split("token=")[1]
    new_password = "un tout nouveau mot de passe"
    mismatch = post_form(
        client, path, "/mot-de-passe/nouveau", data={"token": token, "password": new_password, "password_confirm": "x"}
    )
    assert mismatch.status_code == 422
    done = post_form(
        client,
        path,
        "/mot-de-passe/nouveau",
        data={"token": token, "password": new_password, "password_confirm": new_password},
    )
    assert done.status_code == 303
    assert done.headers["location"] == "/connexion"
    assert active_sessions(database, account.id) == 0  # every session ended
    client.cookies.set(SESSION_COOKIE, other_browser)
    assert client.get("/mon-espace").status_code == 303
    client.cookies.clear()
    assert login(client, "alice@example.org", PASSWORD).status_code == 422
    assert login(client, "alice@example.org", new_password).status_code == 303
    # The link was consumed.
    assert client.get(path).status_code == 410


def test_reset_request_answers_the_same_for_unknown_addresses(client: TestClient, factory: Factory) -> None:
    factory.account("alice@example.org")
    known = post_form(client, "/mot-de-passe/oublie", data={"email": "alice@example.org"})
    unknown = post_form(client, "/mot-de-passe/oublie", data={"email": "personne@example.org"})
    assert known.status_code == unknown.status_code == 303
    assert known.headers["location"] == unknown.headers["location"]
    assert factory.outbox(to="personne@example.org") == []


def test_reset_request_is_rate_limited_per_account(client: TestClient, factory: Factory) -> None:
    factory.account("alice@example.org")
    statuses = [
        post_form(client, "/mot-de-passe/oublie", data={"email": "alice@example.org"}).status_code for _ in range(4)
    ]
    assert statuses == [303, 303, 303, 429]
    assert len([m for m in factory.outbox(to="alice@example.org") if "mot de passe" in m.subject]) == 3


def test_reset_with_a_weak_password_keeps_the_link_usable(client: TestClient, factory: Factory) -> None:
    factory.account("alice@example.org")
    post_form(client, "/mot-de-passe/oublie", data={"email": "alice@example.org"})
    path = _path(link_from(factory.outbox(to="alice@example.org")[-1]))
    token = path.split("token=")[1]
    weak = post_form(
        client, path, "/mot-de-passe/nouveau", data={"token": token, "password": "azerty", "password_confirm": "azerty"}
    )
    assert weak.status_code == 422
    assert 'id="f-password-error"' in weak.text
    assert client.get(path).status_code == 200
