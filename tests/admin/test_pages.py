"""Administration pages: permissions, territory isolation, settings, neighbourhoods, themes, sittings."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.accounts.models import Person
from app.db.session import unit_of_work
from app.territories.models import CouncilSitting, Neighbourhood, Territory, Theme
from tests.admin.helpers import audit_entries
from tests.factories import Factory, post_form

ADMIN_PAGES = [
    "/admin",
    "/admin/territoire",
    "/admin/territoire/regles",
    "/admin/territoire/mentions",
    "/admin/quartiers",
    "/admin/thematiques",
    "/admin/seances",
    "/admin/personnes",
]


def login_admin(client: TestClient, factory: Factory, email: str = "admin@example.org") -> None:
    factory.login(client, factory.account(email, roles=("admin",), display_name="Ada Admin"))


def neighbourhood_public_id(factory: Factory, territory_id: int, name: str = "Cité 5") -> str:
    with unit_of_work(factory.database) as db:
        return db.scalar(
            select(Neighbourhood.public_id).where(
                Neighbourhood.territory_id == territory_id, Neighbourhood.name == name
            )
        )  # type: ignore[return-value]


def test_admin_pages_render_for_an_admin(client: TestClient, factory: Factory) -> None:
    login_admin(client, factory)
    for path in ADMIN_PAGES:
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.text.count("<h1") == 1, path


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_anonymous_is_sent_to_login(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/connexion?next=")


def test_resident_and_agent_get_403(client: TestClient, factory: Factory) -> None:
    factory.login(client, factory.account("resident@example.org"))
    for path in ADMIN_PAGES:
        assert client.get(path).status_code == 403, path
    factory.login(client, factory.account("agent@example.org", roles=("agent",)))
    assert client.get("/admin/quartiers").status_code == 403
    assert client.post("/admin/quartiers", data={"name": "X"}).status_code == 403


def test_executive_sees_people_but_not_configuration(client: TestClient, factory: Factory) -> None:
    factory.login(client, factory.account("maire@example.org", roles=("executive",)))
    assert client.get("/admin").status_code == 200
    assert client.get("/admin/personnes").status_code == 200
    assert client.get("/admin/territoire").status_code == 403
    assert client.get("/admin/quartiers").status_code == 403


def test_other_territory_ids_are_404(client: TestClient, other_client: TestClient, factory: Factory) -> None:
    other = factory.territories["autre"]
    stranger = factory.account("bob@example.org", territory="autre", display_name="Bob Autre")
    with unit_of_work(factory.database) as db:
        sitting = CouncilSitting(territory_id=other, sitting_date=dt.date(2030, 1, 1), title="S")
        db.add(sitting)
        db.flush()
        sitting_id = sitting.public_id
        theme_id = db.scalar(select(Theme.public_id).where(Theme.territory_id == other).limit(1))
        person_id = db.get_one(Person, stranger.person_id).public_id
    hood = neighbourhood_public_id(factory, other)
    login_admin(client, factory)
    for path in (
        f"/admin/quartiers/{hood}",
        f"/admin/quartiers/{hood}/supprimer",
        f"/admin/thematiques/{theme_id}",
        f"/admin/seances/{sitting_id}",
        f"/admin/seances/{sitting_id}/supprimer",
        f"/admin/personnes/{person_id}",
    ):
        assert client.get(path).status_code == 404, path
    page = client.get("/admin/quartiers")
    response = post_form(client, "/admin/quartiers", f"/admin/quartiers/{hood}/supprimer")
    assert response.status_code == 404
    assert page.status_code == 200
    response = post_form(client, "/admin/quartiers", f"/admin/quartiers/{hood}", {"name": "Piraté", "population": "1"})
    assert response.status_code == 404
    with unit_of_work(factory.database) as db:
        assert db.scalar(select(func.count()).where(Neighbourhood.territory_id == other)) == 2
        assert db.scalar(select(func.count()).where(Neighbourhood.name == "Piraté")) == 0
    # The other town's admin does not see this town's people either.
    assert other_client.get("/admin").status_code == 303


def test_territory_settings_saved_and_audited(client: TestClient, factory: Factory) -> None:
    login_admin(client, factory)
    response = post_form(
        client,
        "/admin/territoire",
        data={
            "name": "Loos-en-Gohelle",
            "population": "7000",
            "registered_electors": "5100",
            "siret": "216 205 286 00019",
            "timezone": "Europe/Paris",
        },
    )
    assert response.status_code == 303
    territory = factory.territory_row()
    assert territory.population == 7000
    assert territory.siret == "21620528600019"
    entry = audit_entries(factory.database, "territory.update")[-1]
    assert entry.data["population"] == {"from": 6850, "to": 7000}
    # The cached territory snapshot was refreshed: the home page shows the new threshold (1 % of 7 000).
    assert "À partir de 70 signatures" in client.get("/").text


def test_bad_siret_is_422_and_changes_nothing(client: TestClient, factory: Factory) -> None:
    login_admin(client, factory)
    before = len(audit_entries(factory.database, "territory.update"))
    response = post_form(
        client,
        "/admin/territoire",
        data={
            "name": "Autre nom",
            "population": "1",
            "registered_electors": "1",
            "siret": "123",
            "timezone": "Europe/Paris",
        },
    )
    assert response.status_code == 422
    assert "Le SIRET compte exactement 14 chiffres." in response.text
    assert 'value="Autre nom"' in response.text  # other values kept
    territory = factory.territory_row()
    assert territory.name == "Loos-en-Gohelle"
    assert territory.population == 6850
    assert len(audit_entries(factory.database, "territory.update")) == before


def test_rules_saved_with_percentages(client: TestClient, factory: Factory) -> None:
    login_admin(client, factory)
    page = client.get("/admin/territoire/regles")
    # The match rules, the cap, the deadline and the hour value belong to the funds and the rates.
    assert "ff_volunteer_hour_value_cents" not in page.text
    assert "ff_review_deadline_days" not in page.text
    assert 'href="/admin/dispositifs"' in page.text
    data = {
        "ff_upkeep_years": "5",
        "ff_fiscal_year_start_month": "1",
        "pt_answer_threshold_minimum": "50",
        "pt_answer_threshold_percent": "0,5",
        "pt_council_threshold_minimum": "300",
        "pt_council_threshold_percent": "5",
        "pt_answer_deadline_days": "60",
        "pt_open_period_months": "3",
        "pt_threshold_basis": "town",
        "scheme_intro": "**Ensemble**",
    }
    response = post_form(client, "/admin/territoire/regles", data=data)
    assert response.status_code == 303
    settings = factory.territory_row().settings
    assert settings.fifty_fifty.upkeep_years == 5
    assert settings.petitions.answer_threshold_percent == 0.5
    entry = audit_entries(factory.database, "territory.update_rules")[-1]
    assert entry.data["fifty_fifty.upkeep_years"] == {"from": 3, "to": 5}

    bad = post_form(client, "/admin/territoire/regles", data={**data, "pt_answer_threshold_percent": "1e309"})
    assert bad.status_code == 422
    assert factory.territory_row().settings.petitions.answer_threshold_percent == 0.5


def test_old_scheme_keys_in_stored_settings_are_ignored(client: TestClient, factory: Factory) -> None:
    with unit_of_work(factory.database) as db:
        territory = db.get_one(Territory, factory.territories["loos"])
        stored = dict(territory.settings_json)
        stored["fifty_fifty"] = {**stored.get("fifty_fifty", {}), "review_deadline_days": 12, "upkeep_years": 4}
        territory.settings_json = stored
    settings = factory.territory_row().settings
    assert settings.fifty_fifty.upkeep_years == 4
    assert not hasattr(settings.fifty_fifty, "review_deadline_days")
    login_admin(client, factory)
    assert client.get("/admin/territoire/regles").status_code == 200


def test_accessibility_needs_an_audit_date(client: TestClient, factory: Factory) -> None:
    login_admin(client, factory)
    response = post_form(client, "/admin/territoire/mentions", data={"status": "totalement_conforme"})
    assert response.status_code == 422
    assert factory.territory_row().accessibility.status == "non_conforme"
    response = post_form(
        client,
        "/admin/territoire/mentions",
        data={"status": "partiellement_conforme", "audit_date": "2026-02-01", "audit_rate_percent": "87,5"},
    )
    assert response.status_code == 303
    accessibility = factory.territory_row().accessibility
    assert accessibility.audit_rate_percent == 87.5
    assert accessibility.audit_date == "2026-02-01"


def test_neighbourhood_crud(client: TestClient, factory: Factory) -> None:
    login_admin(client, factory)
    tid = factory.territory()
    response = post_form(
        client, "/admin/quartiers", data={"name": "Les Ateliers", "population": "800", "is_priority": "on"}
    )
    assert response.status_code == 303
    public_id = neighbourhood_public_id(factory, tid, "Les Ateliers")
    assert "Les Ateliers" in client.get("/admin/quartiers").text

    duplicate = post_form(client, "/admin/quartiers", data={"name": "les ateliers"})
    assert duplicate.status_code == 422
    assert "Un quartier porte déjà ce nom." in duplicate.text

    response = post_form(
        client, f"/admin/quartiers/{public_id}", data={"name": "Les Ateliers Nord", "population": "900"}
    )
    assert response.status_code == 303
    with unit_of_work(factory.database) as db:
        row = db.scalar(select(Neighbourhood).where(Neighbourhood.public_id == public_id))
        assert row is not None
        assert row.name == "Les Ateliers Nord"
        assert row.is_priority is False

    confirm = client.get(f"/admin/quartiers/{public_id}/supprimer")
    assert confirm.status_code == 200
    response = post_form(client, f"/admin/quartiers/{public_id}/supprimer")
    assert response.status_code == 303
    with unit_of_work(factory.database) as db:
        assert db.scalar(select(Neighbourhood).where(Neighbourhood.public_id == public_id)) is None
    actions = [e.action for e in audit_entries(factory.database, "neighbourhood.create")]
    actions += [e.action for e in audit_entries(factory.database, "neighbourhood.update")]
    actions += [e.action for e in audit_entries(factory.database, "neighbourhood.delete")]
    assert actions == ["neighbourhood.create", "neighbourhood.update", "neighbourhood.delete"]


def test_neighbourhood_add_with_htmx_returns_the_table_block(client: TestClient, factory: Factory) -> None:
    login_admin(client, factory)
    response = post_form(client, "/admin/quartiers", data={"name": "Quartier HTMX"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "<html" not in response.text
    assert 'id="catalogue-block"' in response.text
    assert "Quartier HTMX" in response.text
    assert "Le quartier est ajouté." in response.text
    assert response.headers["Vary"].find("HX-Request") >= 0

    error = post_form(client, "/admin/quartiers", data={"name": "  "}, headers={"HX-Request": "true"})
    assert error.status_code == 422
    assert "<html" not in error.text
    assert "Ce champ est obligatoire." in error.text


def test_deleting_a_neighbourhood_detaches_its_people(client: TestClient, factory: Factory) -> None:
    login_admin(client, factory)
    tid = factory.territory()
    resident = factory.account("res@example.org")
    hood_id = factory.neighbourhood_id(tid)
    with unit_of_work(factory.database) as db:
        db.get_one(Person, resident.person_id).neighbourhood_id = hood_id
    public_id = neighbourhood_public_id(factory, tid)
    assert "1 personne indique habiter ce quartier" in client.get(f"/admin/quartiers/{public_id}/supprimer").text
    assert post_form(client, f"/admin/quartiers/{public_id}/supprimer").status_code == 303
    with unit_of_work(factory.database) as db:
        assert db.get_one(Person, resident.person_id).neighbourhood_id is None


def test_theme_crud(client: TestClient, factory: Factory) -> None:
    login_admin(client, factory)
    tid = factory.territory()
    assert (
        post_form(client, "/admin/thematiques", data={"name": "Jeunesse", "description": "Pour les jeunes"}).status_code
        == 303
    )
    with unit_of_work(factory.database) as db:
        theme_id = db.scalar(select(Theme.public_id).where(Theme.territory_id == tid, Theme.name == "Jeunesse"))
    assert post_form(client, f"/admin/thematiques/{theme_id}", data={"name": "Jeunesse et sport"}).status_code == 303
    assert post_form(client, f"/admin/thematiques/{theme_id}/supprimer").status_code == 303
    with unit_of_work(factory.database) as db:
        assert db.scalar(select(Theme).where(Theme.public_id == theme_id)) is None
    assert len(audit_entries(factory.database, "theme.update")) == 1


def test_sittings_listed_upcoming_and_past(client: TestClient, factory: Factory) -> None:
    login_admin(client, factory)
    future = {"sitting_date": "2099-03-12", "title": "Conseil du futur", "minutes_url": ""}
    past = {"sitting_date": "2001-03-12", "title": "Conseil passé", "minutes_url": "https://mairie.example/pv.pdf"}
    assert post_form(client, "/admin/seances", data=future).status_code == 303
    assert post_form(client, "/admin/seances", data=past).status_code == 303
    page = client.get("/admin/seances").text
    assert page.index("Séances à venir") < page.index("Conseil du futur") < page.index("Séances passées")
    assert page.index("Séances passées") < page.index("Conseil passé")

    bad = post_form(client, "/admin/seances", data={**future, "title": "Piège", "minutes_url": "javascript:alert(1)"})
    assert bad.status_code == 422
    assert "https://" in bad.text
    with unit_of_work(factory.database) as db:
        assert db.scalar(select(func.count()).select_from(CouncilSitting)) == 2


def test_territory_row_unchanged_by_other_town(client: TestClient, other_client: TestClient, factory: Factory) -> None:
    """An admin of one town edits only their own town's settings."""
    login_admin(client, factory)
    response = post_form(
        client,
        "/admin/territoire",
        data={"name": "Loos", "population": "1", "registered_electors": "1", "timezone": "Europe/Paris"},
    )
    assert response.status_code == 303
    with unit_of_work(factory.database) as db:
        other = db.scalar(select(Territory).where(Territory.slug == "autre"))
        assert other is not None
        assert other.name == "Autreville"


def test_without_fund_nor_rate_the_home_page_announces_a_new_fund_s_rules(client: TestClient, factory: Factory) -> None:
    from sqlalchemy import delete, update

    from app.funds.models import Fund, Rate

    tid = factory.territory()
    with unit_of_work(factory.database) as db:
        db.execute(update(Fund).where(Fund.territory_id == tid).values(is_active=False, decision_deadline_days=90))
        db.execute(delete(Rate).where(Rate.territory_id == tid))
    text = client.get("/").text.replace("&#39;", "'")
    assert "un délai de 30 jours" in text  # the Fund model's default, not a territory setting
    assert "jusqu'à 1,00\xa0€ pour 1 € apporté" in text
    assert "valorisée 12,02\xa0€" in text  # the seeded SMIC in force
