from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from starlette.routing import NoMatchFound

from app.accounts.models import Account, Person, UserSession
from app.db.session import Database, unit_of_work
from tests.accounts.helpers import SESSION_COOKIE, active_sessions, audit_actions, login
from tests.factories import PASSWORD, Factory, post_form


def _person(database: Database, account_id: int) -> tuple[Person, Account]:
    with unit_of_work(database) as db:
        account = db.get_one(Account, account_id)
        person = db.get_one(Person, account.person_id)
        db.expunge_all()
        return person, account


def test_profile_shows_the_account_and_translated_roles(client: TestClient, factory: Factory) -> None:
    account = factory.account("alice@example.org", roles=("agent", "council_member"))
    factory.login(client, account)
    page = client.get("/mon-espace")
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    assert "Alice Martin" in page.text
    assert "alice@example.org" in page.text
    assert "confirmée" in page.text
    assert "agent·e de la commune, élu·e au conseil municipal" in page.text
    assert "18 ans et plus" in page.text
    assert "Renvoyer le lien" not in page.text


def test_profile_edit(client: TestClient, factory: Factory, database: Database) -> None:
    account = factory.account("alice@example.org")
    factory.login(client, account)
    centre = factory.neighbourhood_id(factory.territory(), "Centre")
    response = post_form(
        client,
        "/mon-espace",
        "/mon-espace/profil",
        data={"display_name": "Alice M.", "neighbourhood_id": str(centre), "locale": "en"},
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/en/mon-espace"
    person, fresh = _person(database, account.id)
    assert (person.display_name, person.neighbourhood_id, fresh.locale) == ("Alice M.", centre, "en")
    assert "account.update_profile" in audit_actions(database)


def test_profile_edit_bad_input_changes_nothing(client: TestClient, factory: Factory, database: Database) -> None:
    account = factory.account("alice@example.org")
    factory.login(client, account)
    for data in (
        {"display_name": "", "neighbourhood_id": "", "locale": "fr"},
        {"display_name": "Alice", "neighbourhood_id": "12345", "locale": "fr"},
        {"display_name": "Alice", "neighbourhood_id": "", "locale": "de"},
        {"display_name": "x" * 121, "neighbourhood_id": "", "locale": "fr"},
    ):
        response = post_form(client, "/mon-espace", "/mon-espace/profil", data=data)
        assert response.status_code == 422, data
        assert 'class="form-errors"' in response.text
    person, fresh = _person(database, account.id)
    assert (person.display_name, person.neighbourhood_id, fresh.locale) == ("Alice Martin", None, "fr")


def test_profile_edit_without_csrf_token_is_refused(client: TestClient, factory: Factory, database: Database) -> None:
    account = factory.account("alice@example.org")
    factory.login(client, account)
    response = client.post("/mon-espace/profil", data={"display_name": "Pirate", "locale": "fr"})
    assert response.status_code == 403
    assert _person(database, account.id)[0].display_name == "Alice Martin"


def test_password_change_revokes_the_other_sessions(client: TestClient, factory: Factory, database: Database) -> None:
    account = factory.account("alice@example.org")
    other = factory.login(client, account)
    client.cookies.clear()
    factory.login(client, account)
    new_password = "encore une phrase de passe"
    wrong = post_form(
        client,
        "/mon-espace",
        "/mon-espace/mot-de-passe",
        data={"current_password": "pas le bon", "new_password": new_password, "new_password_confirm": new_password},
    )
    assert wrong.status_code == 422
    assert 'id="f-current_password-error"' in wrong.text
    assert active_sessions(database, account.id) == 2
    response = post_form(
        client,
        "/mon-espace",
        "/mon-espace/mot-de-passe",
        data={"current_password": PASSWORD, "new_password": new_password, "new_password_confirm": new_password},
    )
    assert response.status_code == 303
    assert active_sessions(database, account.id) == 1
    assert client.get("/mon-espace").status_code == 200  # this session stays
    client.cookies.set(SESSION_COOKIE, other)
    assert client.get("/mon-espace").status_code == 303
    client.cookies.clear()
    assert login(client, "alice@example.org", new_password).status_code == 303


def _session_ids(database: Database, account_id: int) -> list[str]:
    """Public ids of the account's live sessions, oldest first."""
    with unit_of_work(database) as db:
        return list(
            db.scalars(
                select(UserSession.public_id)
                .where(UserSession.account_id == account_id, UserSession.revoked_at.is_(None))
                .order_by(UserSession.id)
            )
        )


def test_sessions_list_and_revoke_one(client: TestClient, factory: Factory, database: Database) -> None:
    account = factory.account("alice@example.org")
    factory.login(client, account)
    client.cookies.clear()
    factory.login(client, account)
    page = client.get("/mon-espace/sessions")
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    assert "cette session" in page.text
    assert page.text.count("Révoquer la session") == 1  # not offered for the current session
    first, second = _session_ids(database, account.id)
    response = post_form(client, "/mon-espace/sessions", f"/mon-espace/sessions/{first}/revoquer")
    assert response.status_code == 303
    assert _session_ids(database, account.id) == [second]
    assert "session.revoke" in audit_actions(database)


def test_revoke_session_with_htmx_rerenders_the_list(client: TestClient, factory: Factory, database: Database) -> None:
    account = factory.account("alice@example.org")
    factory.login(client, account)
    client.cookies.clear()
    factory.login(client, account)
    first, second = _session_ids(database, account.id)
    page = client.get("/mon-espace/sessions")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    response = client.post(
        f"/mon-espace/sessions/{first}/revoquer", headers={"HX-Request": "true", "X-CSRF-Token": token}
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section id="sessions"')
    assert "<html" not in response.text
    assert 'hx-swap-oob="beforeend:#toasts"' in response.text
    assert f"session-{first}" not in response.text
    assert f"session-{second}" in response.text
    assert _session_ids(database, account.id) == [second]


def test_cannot_revoke_someone_elses_session(client: TestClient, factory: Factory, database: Database) -> None:
    alice = factory.account("alice@example.org")
    bob = factory.account("bob@example.org", display_name="Bob")
    factory.login(client, bob)
    bob_session = _session_ids(database, bob.id)[0]
    client.cookies.clear()
    factory.login(client, alice)
    response = post_form(client, "/mon-espace/sessions", f"/mon-espace/sessions/{bob_session}/revoquer")
    assert response.status_code == 404
    assert _session_ids(database, bob.id) == [bob_session]
    for junk in ("abc", "1e3", "٣", "9" * 30):
        assert post_form(client, "/mon-espace/sessions", f"/mon-espace/sessions/{junk}/revoquer").status_code == 404


def test_current_session_is_not_revoked_from_the_list(client: TestClient, factory: Factory, database: Database) -> None:
    account = factory.account("alice@example.org")
    factory.login(client, account)
    current = _session_ids(database, account.id)[0]
    response = post_form(client, "/mon-espace/sessions", f"/mon-espace/sessions/{current}/revoquer")
    assert response.status_code == 409
    assert _session_ids(database, account.id) == [current]


def test_log_out_everywhere_else(client: TestClient, factory: Factory, database: Database) -> None:
    account = factory.account("alice@example.org")
    for _ in range(2):
        factory.login(client, account)
        client.cookies.clear()
    factory.login(client, account)
    assert active_sessions(database, account.id) == 3
    response = post_form(client, "/mon-espace/sessions", "/mon-espace/sessions/revoquer-les-autres")
    assert response.status_code == 303
    assert active_sessions(database, account.id) == 1
    assert client.get("/mon-espace").status_code == 200
    assert "session.revoke_all" in audit_actions(database)


def test_links_to_pages_of_other_parts_render_only_when_they_exist(client: TestClient, factory: Factory) -> None:
    account = factory.account("alice@example.org")
    factory.login(client, account)
    page = client.get("/mon-espace")

    def exists(name: str) -> bool:
        try:
            client.app.url_path_for(name)  # type: ignore[attr-defined]
        except NoMatchFound:
            return False
        return True

    assert ("Télécharger mes données" in page.text) == exists("privacy:export")
    assert ("Supprimer mon compte" in page.text) == exists("privacy:delete")
    assert ("Préférences de notification" in page.text) == exists("notifications:preferences")
