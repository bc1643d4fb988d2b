"""Notification preferences, immediate e-mails, digests, contacts without e-mail, unsubscribe."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.accounts.models import Account, Person, PersonKind
from app.agent_tasks.models import AgentTask
from app.audit.models import AuditEntry
from app.config import Settings
from app.core.actor import Actor
from app.db.session import Database, unit_of_work
from app.jobs.registry import handler_for, using_settings
from app.notifications import service
from app.notifications.kinds import register_kind, unregister_kind
from app.notifications.models import Notification, NotificationPreference
from app.notifications.service import notify, send_digests, unsubscribe_token
from tests.factories import Factory, post_form

KIND = "test_news"


@pytest.fixture(autouse=True)
def news_kind() -> Iterator[str]:
    register_kind(KIND, "Nouvelles de test")
    yield KIND
    unregister_kind(KIND)


def _frequency(database: Database, person_id: int, kind: str = KIND) -> str | None:
    with unit_of_work(database) as db:
        return db.scalar(
            select(NotificationPreference.frequency).where(
                NotificationPreference.person_id == person_id, NotificationPreference.kind == kind
            )
        )


def _set_frequency(database: Database, person_id: int, frequency: str, kind: str = KIND) -> None:
    with unit_of_work(database) as db:
        db.add(NotificationPreference(person_id=person_id, kind=kind, frequency=frequency))


def _notify(database: Database, settings: Settings, person_id: int, territory_id: int, subject: str) -> None:
    with unit_of_work(database) as db:
        notify(
            db,
            territory_id=territory_id,
            person_id=person_id,
            kind=KIND,
            subject=subject,
            body=f"Détail : {subject}",
            link="/initiatives/abc",
            settings=settings,
        )


def _path(url: str) -> str:
    return urlsplit(url).path


def test_preferences_page_changes_the_frequency_and_is_audited(
    client: TestClient, factory: Factory, database: Database
) -> None:
    account = factory.account()
    factory.login(client, account)
    page = client.get("/mon-espace/notifications")
    assert page.status_code == 200
    assert "Nouvelles de test" in page.text
    assert "ne peut pas être modifiée" in page.text  # the account kind stays immediate

    response = post_form(client, "/mon-espace/notifications", data={f"kind-{KIND}": "weekly"})
    assert response.status_code == 303
    assert _frequency(database, account.person_id) == "weekly"
    with unit_of_work(database) as db:
        entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "notifications.preferences"))
        assert entry is not None
        assert entry.data == {"changes": {KIND: "weekly"}}


def test_a_bad_frequency_is_refused_and_changes_nothing(
    client: TestClient, factory: Factory, database: Database
) -> None:
    account = factory.account()
    factory.login(client, account)
    response = post_form(client, "/mon-espace/notifications", data={f"kind-{KIND}": "hourly"})
    assert response.status_code == 422
    assert "Choisissez une des fréquences proposées." in response.text
    assert _frequency(database, account.person_id) is None


def test_preferences_need_a_login(client: TestClient) -> None:
    response = client.get("/mon-espace/notifications")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/connexion")


def test_immediate_notification_is_emailed_with_one_click_unsubscribe(
    client: TestClient, factory: Factory, database: Database, settings: Settings
) -> None:
    account = factory.account()
    before = len(factory.outbox(to=account.email))
    _notify(database, settings, account.person_id, account.territory_id, "Votre projet avance")

    emails = factory.outbox(to=account.email)
    assert len(emails) == before + 1
    email = emails[-1]
    assert email.subject == "Votre projet avance"
    assert "http://loos.test/initiatives/abc" in email.body_text
    unsubscribe = email.headers["List-Unsubscribe"]
    assert unsubscribe.startswith("<http://loos.test/desabonnement/")
    assert unsubscribe.endswith(">")
    assert email.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert unsubscribe[1:-1] in email.body_text
    with unit_of_work(database) as db:
        row = db.scalar(select(Notification).where(Notification.person_id == account.person_id))
        assert row is not None
        assert row.delivered_at is not None
        assert row.frequency == "immediate"


def test_unsubscribe_get_changes_nothing_post_without_cookies_sets_never(
    client: TestClient, factory: Factory, database: Database, settings: Settings
) -> None:
    account = factory.account()
    _notify(database, settings, account.person_id, account.territory_id, "Nouvelle étape")
    url = factory.outbox(to=account.email)[-1].headers["List-Unsubscribe"][1:-1]

    page = client.get(_path(url))  # a mail scanner opening the link
    assert page.status_code == 200
    assert "Confirmer le désabonnement" in page.text
    assert _frequency(database, account.person_id) is None

    client.cookies.clear()
    response = client.post(_path(url), data={"List-Unsubscribe": "One-Click"})  # no cookie, no CSRF token
    assert response.status_code == 200
    assert "vous ne recevrez plus ces e-mails" in response.text
    assert _frequency(database, account.person_id) == "never"
    # Twice is harmless.
    assert client.post(_path(url)).status_code == 200


def test_unsubscribe_rejects_bad_and_foreign_tokens(
    client: TestClient, other_client: TestClient, factory: Factory, settings: Settings
) -> None:
    account = factory.account()
    assert client.get("/desabonnement/not-a-token").status_code == 404
    assert client.post("/desabonnement/not-a-token").status_code == 404
    person = factory.person(account)
    forged = unsubscribe_token("another-secret", person.public_id, KIND)
    assert client.post(f"/desabonnement/{forged}").status_code == 404
    unknown_kind = unsubscribe_token(settings.get_secret_key(), person.public_id, "no_such_kind")
    assert client.get(f"/desabonnement/{unknown_kind}").status_code == 404
    good = unsubscribe_token(settings.get_secret_key(), person.public_id, KIND)
    assert other_client.post(f"/desabonnement/{good}").status_code == 404  # another town's host


def test_security_notices_cannot_be_unsubscribed(
    client: TestClient, factory: Factory, database: Database, settings: Settings
) -> None:
    account = factory.account()
    person = factory.person(account)
    token = unsubscribe_token(settings.get_secret_key(), person.public_id, "account")
    response = client.post(f"/desabonnement/{token}")
    assert response.status_code == 200
    assert "ne peuvent pas être désactivés" in response.text
    assert _frequency(database, account.person_id, "account") is None


def test_never_stores_without_email(factory: Factory, database: Database, settings: Settings) -> None:
    account = factory.account()
    _set_frequency(database, account.person_id, "never")
    before = len(factory.outbox(to=account.email))
    _notify(database, settings, account.person_id, account.territory_id, "Gardé pour plus tard")
    assert len(factory.outbox(to=account.email)) == before
    with unit_of_work(database) as db:
        row = db.scalar(select(Notification).where(Notification.person_id == account.person_id))
        assert row is not None
        assert row.frequency == "never"
        assert row.delivered_at is None


def test_daily_digest_gathers_notifications_once(factory: Factory, database: Database, settings: Settings) -> None:
    account = factory.account()
    _set_frequency(database, account.person_id, "daily")
    before = len(factory.outbox(to=account.email))
    _notify(database, settings, account.person_id, account.territory_id, "Premier message")
    _notify(database, settings, account.person_id, account.territory_id, "Second message")
    assert len(factory.outbox(to=account.email)) == before  # nothing sent yet

    with unit_of_work(database) as db, using_settings(settings):
        handler_for("digest_daily")(db, {})
    emails = factory.outbox(to=account.email)
    assert len(emails) == before + 1
    digest = emails[-1]
    assert "2 nouvelles" in digest.subject
    assert "Premier message" in digest.body_text
    assert "Second message" in digest.body_text
    assert digest.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    with unit_of_work(database) as db:
        assert send_digests(db, "daily", settings) == 0
        assert send_digests(db, "weekly", settings) == 0
        undelivered = db.scalar(
            select(func.count()).select_from(Notification).where(Notification.delivered_at.is_(None))
        )
        assert undelivered == 0
    assert len(factory.outbox(to=account.email)) == before + 1


def test_digest_unsubscribe_stops_every_kind_of_that_digest(
    client: TestClient, factory: Factory, database: Database, settings: Settings
) -> None:
    account = factory.account()
    _set_frequency(database, account.person_id, "daily")
    _notify(database, settings, account.person_id, account.territory_id, "Un message")
    with unit_of_work(database) as db:
        send_digests(db, "daily", settings)
    url = factory.outbox(to=account.email)[-1].headers["List-Unsubscribe"][1:-1]
    client.cookies.clear()
    assert client.post(_path(url)).status_code == 200
    assert _frequency(database, account.person_id) == "never"


def test_contact_without_email_becomes_an_agent_task(factory: Factory, database: Database, settings: Settings) -> None:
    tid = factory.territory()
    with unit_of_work(database) as db:
        contact = Person(territory_id=tid, kind=PersonKind.CONTACT, display_name="Gérard Petit", phone="06 12 34 56 78")
        db.add(contact)
        db.flush()
        contact_id = contact.id
    before = len(factory.outbox())
    _notify(database, settings, contact_id, tid, "Votre pétition a reçu une réponse")
    assert len(factory.outbox()) == before
    with unit_of_work(database) as db:
        task = db.scalar(select(AgentTask).where(AgentTask.person_id == contact_id))
        assert task is not None
        assert task.subject == "Votre pétition a reçu une réponse"
        assert task.channel == "phone"
        assert "http://loos.test/initiatives/abc" in task.body


def test_unverified_address_is_not_mailed(factory: Factory, database: Database, settings: Settings) -> None:
    account = factory.account(verified=False)
    before = len(factory.outbox(to=account.email))
    _notify(database, settings, account.person_id, account.territory_id, "Pas encore")
    assert len(factory.outbox(to=account.email)) == before
    with unit_of_work(database) as db:
        assert db.scalar(select(func.count()).select_from(AgentTask)) == 0
        assert db.get_one(Account, account.id).email_verified_at is None


def test_switching_to_never_holds_back_pending_digest_items(
    factory: Factory, database: Database, settings: Settings
) -> None:
    account = factory.account()
    _set_frequency(database, account.person_id, "weekly")
    _notify(database, settings, account.person_id, account.territory_id, "En attente")
    with unit_of_work(database) as db:
        person = db.get_one(Person, account.person_id)
        actor = Actor(person_id=person.id, account_id=account.id, territory_id=person.territory_id, label="Alice")
        service.set_preferences(db, actor, {KIND: "never"})
    with unit_of_work(database) as db:
        assert send_digests(db, "weekly", settings) == 0
