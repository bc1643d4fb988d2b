"""Download my data (JSON, no secrets) and delete my account (anonymised, email freed,
sessions ended, password required, blockers honoured)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.accounts.models import Account, Person, RoleGrant, UserSession
from app.audit.models import AuditEntry
from app.db.session import Database, unit_of_work
from app.notifications.models import NotificationPreference
from app.privacy import erasure
from tests.factories import PASSWORD, Factory, post_form


def test_export_holds_the_persons_data_and_no_secret(client: TestClient, factory: Factory, database: Database) -> None:
    account = factory.account(roles=("agent",))
    token = factory.login(client, account)
    with unit_of_work(database) as db:
        db.add(NotificationPreference(person_id=account.person_id, kind="account", frequency="immediate"))
        password_hash = db.get_one(Account, account.id).password_hash
        session_hash = db.scalar(select(UserSession.token_hash).where(UserSession.account_id == account.id))

    response = client.get("/mon-espace/donnees.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["content-disposition"].startswith("attachment;")
    assert response.headers["cache-control"] == "no-store"
    data = json.loads(response.text)
    assert data["person"]["display_name"] == "Alice Martin"
    assert data["account"]["email"] == "alice@example.org"
    assert [r["role"] for r in data["roles"]] == ["agent"]
    assert len(data["sessions"]) == 1
    assert data["tokens"]["email_links"][0]["purpose"] == "verify_email"
    assert data["notification_preferences"]["account"] == "immediate"
    assert any(a["action"] == "account.register" for a in data["actions"])
    assert session_hash is not None
    for secret in (password_hash, session_hash, token, "password_hash", "token_hash", "$argon2"):
        assert secret not in response.text


def test_export_needs_a_login(client: TestClient) -> None:
    assert client.get("/mon-espace/donnees.json").status_code == 303


def test_delete_needs_the_password_and_changes_nothing_otherwise(
    client: TestClient, factory: Factory, database: Database
) -> None:
    account = factory.account()
    factory.login(client, account)
    page = client.get("/mon-espace/supprimer")
    assert page.status_code == 200
    assert "ancien·ne habitant·e" in page.text
    response = post_form(client, "/mon-espace/supprimer", data={"password": "pas le bon mot de passe"})
    assert response.status_code == 422
    assert "Le mot de passe n&#39;est pas le bon." in response.text
    with unit_of_work(database) as db:
        assert db.get_one(Person, account.person_id).anonymised_at is None
        assert db.get_one(Account, account.id).disabled_at is None


def test_delete_anonymises_frees_the_email_and_ends_sessions(
    client: TestClient, factory: Factory, database: Database
) -> None:
    account = factory.account(roles=("agent",))
    token = factory.login(client, account)
    with unit_of_work(database) as db:
        db.add(NotificationPreference(person_id=account.person_id, kind="account", frequency="immediate"))

    response = post_form(client, "/mon-espace/supprimer", data={"password": PASSWORD})
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    assert any(c.startswith("cailloux_session=") and "Max-Age=0" in c for c in response.headers.get_list("set-cookie"))

    with unit_of_work(database) as db:
        person = db.get_one(Person, account.person_id)
        assert person.display_name == erasure.ANONYMOUS_NAME
        assert person.email is None
        assert person.guardian_contact is None
        assert person.anonymised_at is not None
        closed = db.get_one(Account, account.id)
        assert closed.disabled_at is not None
        assert closed.email == ""
        assert closed.email_key != "alice@example.org"
        assert db.scalar(select(UserSession).where(UserSession.account_id == account.id)) is None
        assert db.scalar(select(NotificationPreference).where(NotificationPreference.person_id == person.id)) is None
        assert all(g.revoked_at is not None for g in db.scalars(select(RoleGrant)))
        entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "privacy.erase_account"))
        assert entry is not None
        assert "alice" not in json.dumps(entry.data).lower()
        assert entry.actor_label == erasure.ANONYMOUS_NAME

    # The old cookie no longer opens anything.
    client.cookies.set("cailloux_session", token)
    assert client.get("/mon-espace/notifications").status_code == 303
    # The address is free to register again.
    again = factory.account("alice@example.org")
    assert again.id != account.id


@pytest.fixture
def sole_promoter_blocker() -> Iterator[erasure.Blocker]:
    def blocker(db: object, person: Person) -> str | None:
        return "Vous portez seul·e un projet en cours : confiez-le d'abord à quelqu'un d'autre."

    erasure.register_blocker(blocker)
    yield blocker
    erasure.unregister_blocker(blocker)


def test_a_registered_blocker_refuses_with_409(
    client: TestClient, factory: Factory, database: Database, sole_promoter_blocker: erasure.Blocker
) -> None:
    account = factory.account()
    factory.login(client, account)
    page = client.get("/mon-espace/supprimer")
    assert "confiez-le d&#39;abord" in page.text
    response = post_form(client, "/mon-espace/supprimer", data={"password": PASSWORD})
    assert response.status_code == 409
    assert "confiez-le d&#39;abord" in response.text
    with unit_of_work(database) as db:
        assert db.get_one(Person, account.person_id).anonymised_at is None
        assert db.get_one(Account, account.id).disabled_at is None
