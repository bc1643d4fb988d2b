"""The peer library ("villes pairs"): sharing an evaluated initiative by opt-in, a snapshot without
personal data, read from every territory (the named exception to isolation), replaced, withdrawn."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.accounts.models import Account
from app.db.base import utcnow
from app.db.session import Database, read_only, unit_of_work
from app.evaluation.models import Evaluation
from app.initiatives.models import Beneficiary, Initiative, InitiativeMember
from app.ledger.models import CommitmentLine
from app.library.models import LibraryEntry
from app.territories.models import Theme
from tests import test_isolation
from tests.factories import Factory, form_fields

PROMOTER_NAME = "Alice Martin"
PROMOTER_EMAIL = "alice.martin@example.org"


@dataclass
class Shared:
    initiative_public_id: str
    initiative_id: int
    agent: Account


def _evaluated(
    factory: Factory, database: Database, *, state: str = "evaluated", title: str = "Jardin partagé"
) -> Shared:
    """An evaluated initiative with a named promoter, an association with its identifiers, an address and lines."""
    tid = factory.territory()
    promoter = factory.account(PROMOTER_EMAIL, display_name=PROMOTER_NAME)
    agent = factory.account("agent@loos.fr", roles=("agent",), display_name="Agathe Agent")
    with unit_of_work(database) as db:
        theme_id = db.scalar(select(Theme.id).where(Theme.territory_id == tid, Theme.name == "Plan paysager"))
        beneficiary = Beneficiary(
            territory_id=tid, kind="association", name="Les Amis du Jardin", siret="12345678901234",
            rna="W623000123", legal_representative="Bernard Durand",
        )  # fmt: skip
        db.add(beneficiary)
        db.flush()
        initiative = Initiative(
            territory_id=tid, state=state, title=title, beneficiary_id=beneficiary.id, theme_id=theme_id,
            description="Six bacs potagers au pied des immeubles.", address="12 rue des Lilas",
            project_type="physical", fiscal_year=2025, start_on=dt.date(2025, 4, 1), end_on=dt.date(2025, 4, 30),
            created_by_person_id=promoter.person_id,
        )  # fmt: skip
        db.add(initiative)
        db.flush()
        db.add(
            InitiativeMember(
                territory_id=tid, initiative_id=initiative.id, person_id=promoter.person_id, role="promoter",
                accepted_at=utcnow(),
            )
        )  # fmt: skip
        for side, kind, quantity, unit, unit_value, cash in (
            ("town", "purchase", 1, "units", 120_000, True),
            ("residents", "volunteer_hours", 180 * 60, "minutes", 1188, False),
            ("partners", "partner_cash", 1, "units", 30_000, False),
        ):
            db.add(
                CommitmentLine(
                    territory_id=tid, initiative_id=initiative.id, side=side, kind=kind, label=kind,
                    quantity=quantity, unit=unit, unit_value_cents=unit_value,
                    value_cents=quantity * unit_value // (60 if unit == "minutes" else 1), is_town_cash=cash,
                    state="secured", partner_name="Fondation" if side == "partners" else "",
                )
            )  # fmt: skip
        db.flush()
        return Shared(initiative.public_id, initiative.id, agent)


def _share(client: TestClient, public_id: str, **data: str) -> Any:
    page = client.get(f"/initiatives/{public_id}/bibliotheque")
    assert page.status_code == 200, page.text[:500]
    payload = {
        "title": "Jardin partagé",
        "description": "Six bacs potagers au pied des immeubles.",
        "lessons": "Commencer petit.",
        "promoters_agreed": "on",
        **data,
    }
    return client.post(f"/initiatives/{public_id}/bibliotheque", data={**form_fields(page.text), **payload})


def _entries(database: Database) -> list[LibraryEntry]:
    with read_only(database) as db:
        rows = list(db.scalars(select(LibraryEntry).order_by(LibraryEntry.id)))
        for r in rows:
            db.expunge(r)
        return rows


def _other_resident(other_client: TestClient, factory: Factory, roles: tuple[str, ...] = ()) -> None:
    factory.login(other_client, factory.account("bob@autre.fr", territory="autre", roles=roles, display_name="Bob"))


# ---------------------------------------------------------------- sharing


def test_an_agent_shares_an_evaluated_initiative_with_the_promoters_agreement(
    client: TestClient, factory: Factory, database: Database
) -> None:
    shared = _evaluated(factory, database)
    factory.login(client, shared.agent)
    page = client.get(f"/initiatives/{shared.initiative_public_id}")
    assert "Partager avec les villes pairs" in page.text
    response = _share(client, shared.initiative_public_id)
    assert response.status_code == 303, response.text[:2000]
    [entry] = _entries(database)
    assert response.headers["location"] == f"/bibliotheque/{entry.public_id}"
    assert (entry.title, entry.theme, entry.project_type, entry.year) == (
        "Jardin partagé",
        "Plan paysager",
        "physical",
        2025,
    )
    assert (entry.town_name, entry.population_bracket) == ("Loos-en-Gohelle", "2k-10k")
    assert (entry.town_value_cents, entry.residents_value_cents, entry.partners_value_cents) == (
        120_000,
        180 * 1188,
        30_000,
    )
    assert (entry.volunteer_minutes, entry.duration_days, entry.lessons) == (180 * 60, 30, "Commencer petit.")
    assert entry.source_territory_id == factory.territory()
    with read_only(database) as db:
        from app.audit.models import AuditEntry

        audit = db.scalars(select(AuditEntry).where(AuditEntry.action == "library.share")).one()
        assert audit.subject_id == shared.initiative_public_id
        assert audit.data["promoters_agreed"] is True
    # The step shows on the initiative's timeline for its team and the staff.
    assert "Fiche partagée avec les villes pairs" in client.get(f"/initiatives/{shared.initiative_public_id}").text


def test_sharing_needs_the_promoters_agreement(client: TestClient, factory: Factory, database: Database) -> None:
    shared = _evaluated(factory, database)
    factory.login(client, shared.agent)
    response = _share(client, shared.initiative_public_id, promoters_agreed="")
    assert response.status_code == 422
    assert "le partage suppose l&#39;accord des porteur·ses" in response.text
    assert 'aria-invalid="true"' in response.text
    assert _entries(database) == []


def test_only_an_evaluated_initiative_is_shared(client: TestClient, factory: Factory, database: Database) -> None:
    shared = _evaluated(factory, database, state="delivered")
    factory.login(client, shared.agent)
    assert client.get(f"/initiatives/{shared.initiative_public_id}/bibliotheque").status_code == 409
    page = client.get("/")
    response = client.post(
        f"/initiatives/{shared.initiative_public_id}/bibliotheque",
        data={**form_fields(page.text), "title": "Jardin", "promoters_agreed": "on"},
    )
    assert response.status_code == 409
    assert _entries(database) == []


def test_only_an_agent_of_the_town_shares(client: TestClient, factory: Factory, database: Database) -> None:
    shared = _evaluated(factory, database)
    # The promoter agrees, but the opt-in is the town's agent's act; an admin configures, nothing more.
    for email, roles in ((PROMOTER_EMAIL, ()), ("admin@loos.fr", ("admin",))):
        account = factory.account(email, roles=roles) if email != PROMOTER_EMAIL else None
        if account is None:
            with read_only(database) as db:
                account = db.scalars(select(Account).where(Account.email == PROMOTER_EMAIL)).one()
                db.expunge(account)
        factory.login(client, account)
        assert client.get(f"/initiatives/{shared.initiative_public_id}/bibliotheque").status_code == 403
    assert _entries(database) == []


# ---------------------------------------------------------------- no personal data


def test_the_snapshot_holds_no_personal_data(
    client: TestClient, other_client: TestClient, factory: Factory, database: Database
) -> None:
    shared = _evaluated(factory, database)
    factory.login(client, shared.agent)
    assert _share(client, shared.initiative_public_id).status_code == 303
    [entry] = _entries(database)
    stored = " ".join(str(getattr(entry, c.key)) for c in LibraryEntry.__table__.columns)
    for personal in (
        PROMOTER_NAME, PROMOTER_EMAIL, "Agathe Agent", "Bernard Durand", "12345678901234", "W623000123",
        "12 rue des Lilas", "Les Amis du Jardin",
    ):  # fmt: skip
        assert personal not in stored, personal
    _other_resident(other_client, factory)
    page = other_client.get(f"/bibliotheque/{entry.public_id}")
    assert page.status_code == 200
    for personal in (PROMOTER_NAME, PROMOTER_EMAIL, "Bernard Durand", "Les Amis du Jardin", "12 rue des Lilas"):
        assert personal not in page.text


def test_texts_naming_the_team_or_giving_contacts_are_refused(
    client: TestClient, factory: Factory, database: Database
) -> None:
    shared = _evaluated(factory, database)
    factory.login(client, shared.agent)
    refused = {
        "description": "Porté par alice MARTIN, une habitante.",  # case folded
        "lessons": "Écrire à contact@jardin.example pour en savoir plus.",
        "title": "Jardin de Bernard Durand",
    }
    for field, text in refused.items():
        response = _share(client, shared.initiative_public_id, **{field: text})
        assert response.status_code == 422, field
        assert f'id="f-{field}-error"' in response.text
    phone = _share(client, shared.initiative_public_id, lessons="Appeler le 06 12 34 56 78.")
    assert phone.status_code == 422
    assert "numéro de téléphone" in phone.text
    # A word that merely contains a name is not a name: "Martinique" is fine.
    assert _share(client, shared.initiative_public_id, lessons="Des graines de Martinique.").status_code == 303


def test_the_evaluation_public_summary_is_copied(client: TestClient, factory: Factory, database: Database) -> None:
    shared = _evaluated(factory, database)
    with unit_of_work(database) as db:
        db.add(
            Evaluation(
                territory_id=factory.territory(), initiative_id=shared.initiative_id, goals_met="met",
                goals_comment="Commentaire interne", social_level="high", environmental_level="medium",
                economic_level="low", lessons="Associer l'école dès le début.", finalised_at=utcnow(),
            )
        )  # fmt: skip
    factory.login(client, shared.agent)
    form = client.get(f"/initiatives/{shared.initiative_public_id}/bibliotheque")
    assert "Associer l&#39;école dès le début." in form.text  # the lessons, offered for re-reading
    assert _share(client, shared.initiative_public_id).status_code == 303
    [entry] = _entries(database)
    assert "Objectifs" in entry.evaluation_summary
    assert "Social" in entry.evaluation_summary
    assert "Commentaire interne" not in entry.evaluation_summary


# ---------------------------------------------------------------- the deliberate exception to isolation


def test_an_entry_of_town_a_is_read_from_town_b_but_its_initiative_stays_hidden(
    client: TestClient, other_client: TestClient, factory: Factory, database: Database
) -> None:
    shared = _evaluated(factory, database)
    factory.login(client, shared.agent)
    _share(client, shared.initiative_public_id)
    [entry] = _entries(database)

    _other_resident(other_client, factory, roles=("agent", "executive", "admin"))
    listing = other_client.get("/bibliotheque")
    assert listing.status_code == 200
    assert f"/bibliotheque/{entry.public_id}" in listing.text
    assert "Loos-en-Gohelle" in listing.text
    page = other_client.get(f"/bibliotheque/{entry.public_id}")
    assert page.status_code == 200
    assert "Retirer la fiche" not in page.text
    # The exception stops at the snapshot: the source initiative, its share form and the withdrawal are 404.
    assert other_client.get(f"/initiatives/{shared.initiative_public_id}").status_code == 404
    assert other_client.get(f"/initiatives/{shared.initiative_public_id}/bibliotheque").status_code == 404
    home = other_client.get("/")
    withdraw = other_client.post(f"/bibliotheque/{entry.public_id}/retirer", data=form_fields(home.text))
    assert withdraw.status_code == 404
    assert len(_entries(database)) == 1


def test_the_exception_is_named_in_the_isolation_test(app: Any) -> None:
    assert {"library:entry"} == test_isolation.DELIBERATE_CROSS_TERRITORY
    names = {route.name: path for path, route in test_isolation.iter_api_routes(app.routes)}
    assert names["library:entry"] == "/bibliotheque/{public_id}"
    # Changing an entry is not part of the exception: the isolation walk checks it.
    assert "library:withdraw" in names
    assert "library:share" in names


def test_the_library_needs_a_signed_in_person(client: TestClient, factory: Factory) -> None:
    factory.territory()
    assert client.get("/bibliotheque").status_code in (303, 401)
    factory.login(client, factory.account("resident@loos.fr"))
    assert client.get("/bibliotheque").status_code == 200


# ---------------------------------------------------------------- replacing and withdrawing


def test_sharing_again_replaces_the_snapshot(client: TestClient, factory: Factory, database: Database) -> None:
    shared = _evaluated(factory, database)
    factory.login(client, shared.agent)
    _share(client, shared.initiative_public_id)
    [first] = _entries(database)
    form = client.get(f"/initiatives/{shared.initiative_public_id}/bibliotheque")
    assert "Remplacer la fiche partagée" in form.text
    assert "Commencer petit." in form.text  # the shared texts are the starting point
    assert _share(client, shared.initiative_public_id, title="Jardin partagé (bilan à un an)").status_code == 303
    [second] = _entries(database)
    assert second.public_id == first.public_id
    assert second.title == "Jardin partagé (bilan à un an)"
    with read_only(database) as db:
        from app.audit.models import AuditEntry

        replaced = [
            a.data["replaced"] for a in db.scalars(select(AuditEntry).where(AuditEntry.action == "library.share"))
        ]
    assert replaced == [False, True]


def test_the_source_town_withdraws_its_entry(
    client: TestClient, other_client: TestClient, factory: Factory, database: Database
) -> None:
    shared = _evaluated(factory, database)
    factory.login(client, shared.agent)
    _share(client, shared.initiative_public_id)
    [entry] = _entries(database)
    page = client.get(f"/bibliotheque/{entry.public_id}")
    assert "Retirer la fiche" in page.text
    # A resident of the same town reads it but may not withdraw it.
    resident = TestClient(client.app, base_url="http://loos.test", follow_redirects=False)
    factory.login(resident, factory.account("resident@loos.fr"))
    resident_page = resident.get(f"/bibliotheque/{entry.public_id}")
    assert "Retirer la fiche" not in resident_page.text
    assert (
        resident.post(f"/bibliotheque/{entry.public_id}/retirer", data=form_fields(resident_page.text)).status_code
        == 403
    )

    response = client.post(
        f"/bibliotheque/{entry.public_id}/retirer",
        data={**form_fields(page.text), "reason": "À la demande des porteur·ses"},
    )
    assert response.status_code == 303
    assert _entries(database) == []
    with read_only(database) as db:
        from app.audit.models import AuditEntry

        audit = db.scalars(select(AuditEntry).where(AuditEntry.action == "library.withdraw")).one()
        assert audit.reason == "À la demande des porteur·ses"
        assert audit.subject_id == shared.initiative_public_id
    _other_resident(other_client, factory)
    assert other_client.get(f"/bibliotheque/{entry.public_id}").status_code == 404
    # It may be shared again later.
    assert _share(client, shared.initiative_public_id).status_code == 303


# ---------------------------------------------------------------- browsing


def _entry(database: Database, territory_id: int, **values: Any) -> None:
    with unit_of_work(database) as db:
        initiative = Initiative(territory_id=territory_id, state="evaluated", title=values.get("title", "x"))
        db.add(initiative)
        db.flush()
        fields = {
            "town_name": "Autreville", "population_bracket": "2k-10k", "project_type": "physical",
            "theme": "", "search_text": "", "shared_at": utcnow(), **values,
        }  # fmt: skip
        db.add(LibraryEntry(source_territory_id=territory_id, source_initiative_id=initiative.id, **fields))


def test_filters_and_search(client: TestClient, factory: Factory, database: Database) -> None:
    tid = factory.territory()
    other = factory.territory(slug="autre", name="Autreville", host="autre.test", insee="59350")
    _entry(database, tid, title="Jardin partagé", theme="Plan paysager", search_text="jardin partage evaluation reussie",
           town_value_cents=50_000)  # fmt: skip
    _entry(database, other, title="Fête de quartier", theme="Implication", project_type="activity",
           population_bracket="lt2k", search_text="fete de quartier 100% benevole", town_value_cents=300_000)  # fmt: skip
    _entry(database, other, title="Abri à vélos", theme="Déplacements doux", population_bracket="10k-50k",
           search_text="abri a velos", town_value_cents=900_000)  # fmt: skip
    factory.login(client, factory.account("resident@loos.fr"))

    def titles(query: str) -> list[str]:
        page = client.get("/bibliotheque" + query)
        assert page.status_code == 200
        return [t for t in ("Jardin partagé", "Fête de quartier", "Abri à vélos") if t in page.text]

    assert titles("") == ["Jardin partagé", "Fête de quartier", "Abri à vélos"]
    assert titles("?q=ÉVALUATION") == ["Jardin partagé"]  # case and accents folded
    assert titles("?q=velos+abri") == ["Abri à vélos"]
    assert titles("?q=100%25") == ["Fête de quartier"]  # % is a character, not a wildcard
    assert titles("?q=%25%25zz") == []
    assert titles("?theme=Implication") == ["Fête de quartier"]
    assert titles("?projet=activity") == ["Fête de quartier"]
    assert titles("?taille=10k-50k") == ["Abri à vélos"]
    assert titles("?budget=small") == ["Jardin partagé"]
    assert titles("?budget=medium") == ["Fête de quartier"]
    assert titles("?budget=large") == ["Abri à vélos"]
    # Values outside the lists are ignored, never passed to the database.
    assert titles("?projet=x';drop&taille=huge") == ["Jardin partagé", "Fête de quartier", "Abri à vélos"]
    htmx = client.get("/bibliotheque?theme=Implication", headers={"HX-Request": "true"})
    assert htmx.text.lstrip().startswith('<div id="library-results"')
    with read_only(database) as db:
        assert db.scalar(select(func.count()).select_from(LibraryEntry)) == 3


def test_the_library_is_linked_for_signed_in_people(client: TestClient, factory: Factory) -> None:
    assert 'href="/bibliotheque"' not in client.get("/").text  # the library needs an account
    factory.login(client, factory.account("resident@example.org"))
    assert 'href="/bibliotheque"' in client.get("/").text
