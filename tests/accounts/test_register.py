from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from app.accounts.models import Account, Person
from app.db.session import Database, unit_of_work
from tests.accounts.helpers import accounts, registration
from tests.factories import Factory, form_fields, post_form


def test_register_page_explains_minors_and_lists_neighbourhoods(client: TestClient) -> None:
    page = client.get("/inscription")
    assert page.status_code == 200
    assert "Cité 5" in page.text
    assert "jamais affiché publiquement" in page.text
    assert "Moins de 15 ans" in page.text
    assert "18 ans et plus" in page.text
    assert page.headers["Cache-Control"] == "no-store"


def test_register_creates_an_unverified_account_and_mails_a_link(
    client: TestClient, factory: Factory, database: Database
) -> None:
    cite = factory.neighbourhood_id(factory.territory())
    response = post_form(client, "/inscription", data=registration(neighbourhood_id=str(cite)))
    assert response.status_code == 303
    assert response.headers["location"] == "/inscription/verifiez-vos-mails"
    done = client.get(response.headers["location"])
    assert "Vérifiez votre boîte mail" in done.text
    with unit_of_work(database) as db:
        account = db.scalars(select(Account).where(Account.email == "bea@example.org")).one()
        person = db.get_one(Person, account.person_id)
        assert account.email_verified_at is None
        assert account.locale == "fr"
        assert person.display_name == "Béa Durand"
        assert person.neighbourhood_id == cite
    mails = factory.outbox(to="bea@example.org")
    assert len(mails) == 1
    assert "/compte/verifier?token=" in mails[0].body_text


def test_duplicate_email_gets_the_same_page_and_an_account_exists_mail(
    client: TestClient, factory: Factory, database: Database
) -> None:
    factory.account("bea@example.org")
    before = len(factory.outbox(to="bea@example.org"))
    response = post_form(client, "/inscription", data=registration("Bea@Example.org", display_name="Autre"))
    assert response.status_code == 303
    assert response.headers["location"] == "/inscription/verifiez-vos-mails"
    assert accounts(database, "bea@example.org") == 1
    mails = factory.outbox(to="bea@example.org")
    assert len(mails) == before + 1
    assert mails[-1].subject == "Vous avez déjà un compte"


def test_under_15_needs_a_guardian_contact(client: TestClient, database: Database) -> None:
    response = post_form(client, "/inscription", data=registration(age_bracket="under_15"))
    assert response.status_code == 422
    assert 'id="f-guardian_contact-error"' in response.text
    assert 'value="bea@example.org"' in response.text  # other values kept
    assert "une phrase de passe solide" not in response.text  # never the password
    assert accounts(database, "bea@example.org") == 0

    ok = post_form(
        client, "/inscription", data=registration(age_bracket="under_15", guardian_contact="Maman, 06 11 22 33 44")
    )
    assert ok.status_code == 303
    with unit_of_work(database) as db:
        person = db.scalars(select(Person).where(Person.email == "bea@example.org")).one()
        assert person.age_bracket == "under_15"
        assert person.guardian_contact == "Maman, 06 11 22 33 44"


def test_bad_inputs_are_refused_without_creating_anything(client: TestClient, database: Database) -> None:
    cases = [
        ({"password_confirm": "autre chose encore"}, "f-password_confirm-error"),
        ({"password": "azerty", "password_confirm": "azerty"}, "f-password-error"),
        ({"email": "pas-une-adresse"}, "f-email-error"),
        ({"display_name": " \u200b "}, "f-display_name-error"),
        ({"age_bracket": "old"}, "f-age_bracket-error"),
        ({"neighbourhood_id": "999999"}, "f-neighbourhood_id-error"),
        ({"display_name": "nul\x00"}, "f-display_name-error"),
    ]
    for overrides, marker in cases:
        response = post_form(client, "/inscription", data=registration(**overrides))
        assert response.status_code == 422, overrides
        assert marker in response.text, overrides
        assert 'class="form-errors"' in response.text
    assert accounts(database, "bea@example.org") == 0


def test_double_submit_creates_one_account(client: TestClient, factory: Factory, database: Database) -> None:
    page = client.get("/inscription")
    payload = {**form_fields(page.text), **registration()}
    first = client.post("/inscription", data=payload)
    second = client.post("/inscription", data=payload)
    assert first.status_code == 303
    assert second.status_code == 303
    assert second.headers["location"] == first.headers["location"]
    assert accounts(database, "bea@example.org") == 1
    assert len(factory.outbox(to="bea@example.org")) == 1


def test_same_email_registers_separately_in_each_territory(
    client: TestClient, other_client: TestClient, database: Database
) -> None:
    assert post_form(client, "/inscription", data=registration()).status_code == 303
    assert post_form(other_client, "/inscription", data=registration()).status_code == 303
    with unit_of_work(database) as db:
        rows = list(db.scalars(select(Account).where(Account.email_key == "bea@example.org")))
    assert len(rows) == 2
    assert len({r.territory_id for r in rows}) == 2


def test_registration_is_rate_limited_by_ip(client: TestClient) -> None:
    statuses = [post_form(client, "/inscription", data=registration(email="")).status_code for _ in range(11)]
    assert statuses[:10] == [422] * 10
    assert statuses[10] == 429


def test_post_without_csrf_token_is_refused(client: TestClient, database: Database) -> None:
    client.get("/inscription")
    response = client.post("/inscription", data=registration())
    assert response.status_code == 403
    assert accounts(database, "bea@example.org") == 0


def test_english_registration_stores_the_locale(client: TestClient, database: Database) -> None:
    response = post_form(client, "/en/inscription", data=registration())
    assert response.status_code == 303
    assert response.headers["location"] == "/en/inscription/verifiez-vos-mails"
    with unit_of_work(database) as db:
        account = db.scalars(select(Account).where(Account.email_key == "bea@example.org")).one()
        assert account.locale == "en"
