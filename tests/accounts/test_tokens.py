from __future__ import annotations

import datetime as dt
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from app.accounts import service
from app.accounts.models import Account, ApiToken, Person
from app.accounts.tokens import authenticate_token, create_token, revoke_token
from app.core.actor import Actor
from app.core.errors import Invalid, NotFound
from app.core.tokens import hash_token
from app.db.session import Database, unit_of_work
from tests.accounts.helpers import audit_actions, tokens
from tests.factories import Factory, form_fields, post_form

RAW_RE = re.compile(r'id="raw-token" type="text" value="(cx_[^"]+)"')


def _create(client: TestClient, **data: object) -> tuple[int, str]:
    payload: dict[str, object] = {"name": "Tableur", "scopes": ["read"], "expires_in_days": ""}
    payload.update(data)
    response = post_form(client, "/mon-espace/jetons", data=payload)
    return response.status_code, response.text


def test_token_is_shown_once_and_stored_hashed(client: TestClient, factory: Factory, database: Database) -> None:
    account = factory.account("alice@example.org")
    factory.login(client, account)
    status, html = _create(client, scopes=["read", "write"], expires_in_days="30")
    assert status == 200
    match = RAW_RE.search(html)
    assert match
    raw = match.group(1)
    assert len(raw) > 40
    [row] = tokens(database, account.id)
    assert row.token_hash == hash_token(raw)
    assert row.prefix == raw[:10]
    assert row.scopes == ["read", "write"]
    assert row.expires_at is not None
    listing = client.get("/mon-espace/jetons")
    assert listing.headers["Cache-Control"] == "no-store"
    assert raw not in listing.text  # never shown again
    assert row.prefix in listing.text
    assert "api_token.create" in audit_actions(database)


def test_token_form_errors(client: TestClient, factory: Factory, database: Database) -> None:
    account = factory.account("alice@example.org")
    factory.login(client, account)
    cases: list[dict[str, object]] = [
        {"scopes": []},
        {"name": ""},
        {"expires_in_days": "0"},
        {"expires_in_days": "1e9"},
        {"scopes": ["admin"]},
    ]
    for data in cases:
        status, html = _create(client, **data)
        assert status == 422, data
        assert 'class="form-errors"' in html
    assert tokens(database, account.id) == []


def test_token_double_submit_creates_one(client: TestClient, factory: Factory, database: Database) -> None:
    account = factory.account("alice@example.org")
    factory.login(client, account)
    page = client.get("/mon-espace/jetons")
    payload = {**form_fields(page.text), "name": "Script", "scopes": "read"}
    assert client.post("/mon-espace/jetons", data=payload).status_code == 200
    again = client.post("/mon-espace/jetons", data=payload)
    assert again.status_code == 303
    assert again.headers["location"] == "/mon-espace/jetons"
    assert len(tokens(database, account.id)) == 1


def test_revoke_token(client: TestClient, factory: Factory, database: Database) -> None:
    account = factory.account("alice@example.org")
    factory.login(client, account)
    _create(client)
    [row] = tokens(database, account.id)
    response = post_form(client, "/mon-espace/jetons", f"/mon-espace/jetons/{row.public_id}/revoquer")
    assert response.status_code == 303
    [row] = tokens(database, account.id)
    assert row.revoked_at is not None
    assert "api_token.revoke" in audit_actions(database)


def test_cannot_revoke_another_persons_token(client: TestClient, factory: Factory, database: Database) -> None:
    alice = factory.account("alice@example.org")
    bob = factory.account("bob@example.org", display_name="Bob")
    factory.login(client, bob)
    _create(client)
    [row] = tokens(database, bob.id)
    client.cookies.clear()
    factory.login(client, alice)
    response = post_form(client, "/mon-espace/jetons", f"/mon-espace/jetons/{row.public_id}/revoquer")
    assert response.status_code == 404
    assert tokens(database, bob.id)[0].revoked_at is None


def _actor(database: Database, account_id: int) -> Actor:
    with unit_of_work(database) as db:
        account = db.get_one(Account, account_id)
        return service.actor_for(account, db.get_one(Person, account.person_id))


def test_authenticate_token_service(
    client: TestClient, other_client: TestClient, factory: Factory, database: Database
) -> None:
    account = factory.account("alice@example.org")
    actor = _actor(database, account.id)
    loos, autre = factory.territories["loos"], factory.territories["autre"]
    with unit_of_work(database) as db:
        token, raw = create_token(db, actor, "API", ["read"], 1)
        public_id = token.public_id
    with unit_of_work(database) as db:
        found = authenticate_token(db, raw, loos)
        assert found is not None
        assert found[1].id == account.id
        assert found[0].last_used_at is not None
        assert authenticate_token(db, raw, autre) is None  # another territory's host
        assert authenticate_token(db, raw + "x", loos) is None
        assert authenticate_token(db, "pas-un-jeton", loos) is None
    with unit_of_work(database) as db:
        db.execute(update(ApiToken).values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
    with unit_of_work(database) as db:
        assert authenticate_token(db, raw, loos) is None  # expired
    with unit_of_work(database) as db:
        db.execute(update(ApiToken).values(expires_at=None))
        revoke_token(db, actor, public_id)
    with unit_of_work(database) as db:
        assert authenticate_token(db, raw, loos) is None  # revoked


def test_create_token_rules(client: TestClient, factory: Factory, database: Database) -> None:
    account = factory.account("alice@example.org")
    actor = _actor(database, account.id)
    bad: list[tuple[str, list[str], int | None]] = [("", ["read"], None), ("x", [], None), ("x", ["sudo"], None)]
    bad.append(("x", ["read"], 0))
    with unit_of_work(database) as db:
        for name, scopes, days in bad:
            with pytest.raises(Invalid):
                create_token(db, actor, name, scopes, days)
        with pytest.raises(NotFound):
            revoke_token(db, actor, "inconnu")
    assert tokens(database, account.id) == []
