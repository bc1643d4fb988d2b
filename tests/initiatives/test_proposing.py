"""Proposing a draft: a resident, an agent for a contact with a paper form, errors and double submits."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.db.session import Database, read_only
from app.initiatives.models import Beneficiary, Initiative
from tests.factories import Factory, form_fields, post_form
from tests.initiatives import helpers as h


def _count(database: Database) -> int:
    with read_only(database) as db:
        return db.scalar(select(func.count()).select_from(Initiative)) or 0


def test_proposing_needs_an_account(client: TestClient) -> None:
    response = client.get("/initiatives/proposer")
    assert response.status_code == 303
    assert "/connexion" in response.headers["location"]


def test_resident_proposes_a_draft(client: TestClient, factory: Factory, database: Database) -> None:
    alice = factory.account()
    factory.login(client, alice)
    tid = factory.territory()
    theme_id = h.theme(database, tid)
    page = client.get("/initiatives/proposer")
    assert page.status_code == 200
    assert "<legend>" in page.text
    assert 'name="residents_offer"' in page.text

    data = {**h.complete_fields(database, tid, theme_id), "latitude": "50,4575", "longitude": "2.775"}
    response = post_form(client, "/initiatives/proposer", data=data)
    assert response.status_code == 303
    public_id = response.headers["location"].rsplit("/", 1)[1]

    row = h.initiative(database, public_id)
    assert row.state == "draft"
    assert row.territory_id == tid
    assert row.from_paper_form is False
    assert row.created_by_person_id == alice.person_id
    assert str(row.latitude) == "50.457500"
    members = h.members(database, public_id)
    assert [(m.person_id, m.role, m.accepted_at is not None) for m in members] == [(alice.person_id, "promoter", True)]
    with read_only(database) as db:
        beneficiary = db.get_one(Beneficiary, row.beneficiary_id)
        assert (beneficiary.kind, beneficiary.name, beneficiary.person_id) == (
            "person",
            "Alice Martin",
            alice.person_id,
        )
    assert h.audit_actions(database, public_id) == ["initiative.propose"]

    show = client.get(f"/initiatives/{public_id}")
    assert show.status_code == 200
    assert "<strong>jardin</strong>" in show.text  # the description is rendered from Markdown
    assert "brouillon" in show.text


def test_association_beneficiary(client: TestClient, factory: Factory, database: Database) -> None:
    factory.login(client, factory.account())
    data = {
        "title": "Fête de la Saint-Jean",
        "beneficiary_kind": "association",
        "beneficiary_name": "Les Amis du 5",
        "rna": "w623000123",
        "legal_representative": "Paul Durand",
    }
    response = post_form(client, "/initiatives/proposer", data=data)
    assert response.status_code == 303
    public_id = response.headers["location"].rsplit("/", 1)[1]
    with read_only(database) as db:
        beneficiary = db.get_one(Beneficiary, h.initiative(database, public_id).beneficiary_id)
        assert (beneficiary.kind, beneficiary.name, beneficiary.rna, beneficiary.person_id) == (
            "association",
            "Les Amis du 5",
            "W623000123",
            None,
        )


def test_errors_rerender_with_422_and_keep_values(client: TestClient, factory: Factory, database: Database) -> None:
    factory.login(client, factory.account())
    data = {
        "title": "",
        "description": "Une idée à garder",
        "start_on": "2026-06-10",
        "end_on": "2026-06-01",
        "latitude": "95",
        "longitude": "2",
        "beneficiary_kind": "association",
        "beneficiary_name": "Les Amis du 5",
        "siret": "123",
    }
    response = post_form(client, "/initiatives/proposer", data=data)
    assert response.status_code == 422
    assert "Ce champ est obligatoire." in response.text
    assert "La date de fin doit être" in response.text
    assert "14 chiffres" in response.text
    assert "représente légalement" in response.text
    assert 'aria-invalid="true"' in response.text
    assert "Une idée à garder" in response.text
    assert _count(database) == 0


def test_neighbourhood_of_another_town_is_refused(
    client: TestClient, other_client: TestClient, factory: Factory, database: Database
) -> None:
    factory.login(client, factory.account())
    other = h.neighbourhood(database, factory.territories["autre"])
    response = post_form(client, "/initiatives/proposer", data={"title": "Un banc", "neighbourhood_id": str(other)})
    assert response.status_code == 422
    assert "Choisissez un quartier de la liste." in response.text
    assert _count(database) == 0


def test_double_submit_creates_one_initiative(client: TestClient, factory: Factory, database: Database) -> None:
    factory.login(client, factory.account())
    page = client.get("/initiatives/proposer")
    payload = {**form_fields(page.text), "title": "Des bancs place de la République"}
    first = client.post("/initiatives/proposer", data=payload)
    second = client.post("/initiatives/proposer", data=payload)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    assert _count(database) == 1


def test_agent_proposes_for_a_contact_with_a_paper_form(
    client: TestClient, factory: Factory, database: Database
) -> None:
    agent = factory.account("agent@example.org", roles=("agent",), display_name="Agnès Agent")
    tid = factory.territory()
    marcel = h.contact(database, h.actor(agent, "agent"), tid)
    factory.login(client, agent)
    page = client.get(f"/initiatives/proposer?contact={marcel.public_id}")
    assert "Marcel Dupont" in page.text
    assert "Formulaire papier" in page.text

    response = post_form(
        client, "/initiatives/proposer", data={"title": "Nichoirs à mésanges", "contact_id": marcel.public_id}
    )
    assert response.status_code == 303
    public_id = response.headers["location"].rsplit("/", 1)[1]
    row = h.initiative(database, public_id)
    assert row.from_paper_form is True
    assert row.created_by_person_id == agent.person_id
    assert [(m.person_id, m.role) for m in h.members(database, public_id)] == [(marcel.id, "promoter")]
    with read_only(database) as db:
        assert db.get_one(Beneficiary, row.beneficiary_id).name == "Marcel Dupont"


def test_resident_cannot_propose_for_a_contact(client: TestClient, factory: Factory, database: Database) -> None:
    agent = factory.account("agent@example.org", roles=("agent",))
    marcel = h.contact(database, h.actor(agent, "agent"), factory.territory())
    factory.login(client, factory.account())
    response = post_form(client, "/initiatives/proposer", data={"title": "Nichoirs", "contact_id": marcel.public_id})
    assert response.status_code == 403
    assert _count(database) == 0


def test_promoter_edits_the_draft(client: TestClient, factory: Factory, database: Database) -> None:
    alice = factory.account()
    public_id = h.propose(database, h.actor(alice), factory.territory(), title="Avant")
    factory.login(client, alice)
    response = post_form(
        client, f"/initiatives/{public_id}/modifier", data={"title": "Après", "beneficiary_kind": "person"}
    )
    assert response.status_code == 303
    assert h.initiative(database, public_id).title == "Après"
    assert h.audit_actions(database, public_id) == ["initiative.propose", "initiative.update"]

    bob = factory.account("bob@example.org", display_name="Bob")
    factory.login(client, bob)
    assert client.get(f"/initiatives/{public_id}/modifier").status_code == 404
