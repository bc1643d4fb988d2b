"""Declared interests and withdrawals: a conflicted member of staff may not review, decide or sign."""

from __future__ import annotations

from html import unescape

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.core.errors import Conflict, Forbidden, NotFound
from app.db.session import unit_of_work
from app.initiatives.models import Beneficiary, Decision, Initiative, InitiativeState
from app.review import checklist, interests
from app.review import service as review
from app.review.models import InterestDeclaration, InterestKind
from app.review.service import QueueFilters
from app.territories.context import TerritoryContext
from app.territories.models import Territory
from tests.factories import Factory, form_fields, post_form
from tests.review.conftest import World, state_of

S = InitiativeState


def audit_actions(world: World, subject_id: str) -> list[str]:
    with unit_of_work(world.database) as db:
        return list(db.scalars(select(AuditEntry.action).where(AuditEntry.subject_id == subject_id)))


def declarations(world: World) -> list[InterestDeclaration]:
    with unit_of_work(world.database) as db:
        rows = list(db.scalars(select(InterestDeclaration).order_by(InterestDeclaration.id)))
        db.expunge_all()
        return rows


def beneficiary_public_id(world: World, initiative: Initiative) -> str:
    with unit_of_work(world.database) as db:
        value = db.scalar(select(Beneficiary.public_id).where(Beneficiary.id == initiative.beneficiary_id))
        assert value is not None
        return value


def test_a_withdrawal_bars_review_and_is_audited(client: TestClient, factory: Factory, world: World) -> None:
    initiative = world.initiative(S.SUBMITTED)
    with unit_of_work(world.database) as db:
        review.assign_to_me(db, world.agent_actor, db.get_one(Initiative, initiative.id))
    base = f"/initiatives/{initiative.public_id}"
    factory.login(client, world.agent)
    page = client.get(f"{base}/points-de-controle")
    assert "Me déporter" in page.text
    response = client.post(
        "/mon-espace/interets/deport",
        data={**form_fields(page.text), "initiative": initiative.public_id, "reason": "Ma sœur préside l'association.",
              "from": "workspace"},
    )  # fmt: skip
    assert response.status_code == 303
    assert response.headers["location"] == base
    (declaration,) = declarations(world)
    assert declaration.kind == InterestKind.WITHDRAWAL
    assert declaration.initiative_id == initiative.id
    assert declaration.person_id == world.agent.person_id
    assert world.reload(initiative.id).assigned_agent_person_id is None  # no longer assigned
    assert "interest.withdraw" in audit_actions(world, initiative.public_id)

    refused = post_form(client, "/instruction", f"{base}/instruction/start")
    assert refused.status_code == 403
    assert state_of(world.database, initiative.id) == S.SUBMITTED
    assert post_form(client, "/instruction", f"{base}/instruction/assign").status_code == 403
    assert client.get(f"{base}/points-de-controle").status_code == 403
    assert "points-de-controle" not in client.get(base).text
    again = post_form(
        client, "/mon-espace/interets", "/mon-espace/interets/deport", data={"initiative": initiative.public_id}
    )
    assert again.status_code == 409
    assert len(declarations(world)) == 1
    listing = client.get("/mon-espace/interets")
    assert "déport" in listing.text
    assert "définitif" in listing.text
    with unit_of_work(world.database) as db:
        territory = TerritoryContext.from_row(db.get_one(Territory, world.territory_id))
        (row,) = review.queue(db, world.agent_actor, territory, QueueFilters())
        assert row.conflicted  # the queue shows the withdrawal too


def test_a_withdrawal_bars_the_decision(client: TestClient, factory: Factory, world: World) -> None:
    initiative = world.initiative(S.IN_REVIEW)
    with unit_of_work(world.database) as db:
        interests.declare_withdrawal(db, world.executive_actor, db.get_one(Initiative, initiative.id))
    base = f"/initiatives/{initiative.public_id}"
    factory.login(client, world.executive)
    assert client.get(f"{base}/decision").status_code == 403
    page = client.get("/mon-espace/interets")
    response = client.post(f"{base}/decision", data={**form_fields(page.text), "outcome": "approve"})
    assert response.status_code == 403
    assert state_of(world.database, initiative.id) == S.IN_REVIEW
    with unit_of_work(world.database) as db:
        assert db.scalar(select(func.count()).select_from(Decision)) == 0


def test_an_interest_in_the_beneficiary_bars_review_and_decision(world: World) -> None:
    initiative = world.initiative(S.IN_REVIEW, subsidy=True)
    beneficiary = beneficiary_public_id(world, initiative)
    with unit_of_work(world.database) as db:
        declared = interests.declare_interest(
            db, world.executive_actor, "Trésorier des Jardins de Loos", beneficiary_public_id=beneficiary
        )
        interests.declare_interest(db, world.agent_actor, "Membre de l'association", beneficiary_public_id=beneficiary)
    with unit_of_work(world.database) as db, pytest.raises(Forbidden):
        review.decide(db, world.executive_actor, db.get_one(Initiative, initiative.id), "approve", "deliberation", "D1")
    with unit_of_work(world.database) as db, pytest.raises(Forbidden):
        review.put_on_hold(db, world.agent_actor, db.get_one(Initiative, initiative.id), "Attente", None)
    with unit_of_work(world.database) as db, pytest.raises(Forbidden):
        checklist.add_item(db, world.agent_actor, db.get_one(Initiative, initiative.id), "Statuts")
    assert state_of(world.database, initiative.id) == S.IN_REVIEW
    # Another initiative of another beneficiary is not affected.
    other = world.initiative(S.IN_REVIEW, title="Fresque")
    with unit_of_work(world.database) as db:
        checklist.add_item(db, world.agent_actor, db.get_one(Initiative, other.id), "Mur de l'école")
    # Once the interest has ended, the executive may decide again.
    with unit_of_work(world.database) as db:
        interests.end_interest(db, world.executive_actor, declared.public_id)
    with unit_of_work(world.database) as db:
        review.decide(db, world.executive_actor, db.get_one(Initiative, initiative.id), "approve", "deliberation", "D1")
    assert state_of(world.database, initiative.id) == S.APPROVED
    assert "interest.declare" in audit_actions(world, declared.public_id)
    assert "interest.end" in audit_actions(world, declared.public_id)


def test_interests_page_for_staff_with_form_errors(client: TestClient, factory: Factory, world: World) -> None:
    initiative = world.initiative(S.IN_REVIEW, subsidy=True)
    assert client.get("/mon-espace/interets").status_code == 303  # sign in first
    factory.login(client, world.promoter)
    assert client.get("/mon-espace/interets").status_code == 403
    factory.login(client, world.agent)
    page = client.get("/mon-espace/interets")
    assert page.status_code == 200
    assert "Les Jardins de Loos" in page.text
    empty = post_form(client, "/mon-espace/interets", data={"description": " ", "beneficiary": ""})
    assert empty.status_code == 422
    assert "Ce champ est obligatoire" in unescape(empty.text)
    unknown = post_form(client, "/mon-espace/interets", data={"description": "Voisin", "beneficiary": "inconnu"})
    assert unknown.status_code == 422
    assert "Voisin" in unknown.text  # the values are kept
    no_initiative = post_form(client, "/mon-espace/interets", "/mon-espace/interets/deport", data={"initiative": ""})
    assert no_initiative.status_code == 422
    assert declarations(world) == []
    ok = post_form(
        client, "/mon-espace/interets",
        data={"description": "Voisin du jardin", "beneficiary": beneficiary_public_id(world, initiative)},
    )  # fmt: skip
    assert ok.status_code == 303
    (declaration,) = declarations(world)
    assert declaration.beneficiary_id == world.reload(initiative.id).beneficiary_id
    assert "Voisin du jardin" in client.get("/mon-espace/interets").text
    ended = post_form(client, "/mon-espace/interets", f"/mon-espace/interets/{declaration.public_id}/fin")
    assert ended.status_code == 303
    assert declarations(world)[0].ended_at is not None
    twice = post_form(client, "/mon-espace/interets", f"/mon-espace/interets/{declaration.public_id}/fin")
    assert twice.status_code == 409


def test_declarations_stay_with_their_author_and_territory(
    other_client: TestClient, factory: Factory, world: World
) -> None:
    initiative = world.initiative(S.IN_REVIEW)
    with unit_of_work(world.database) as db:
        withdrawal = interests.declare_withdrawal(db, world.agent_actor, db.get_one(Initiative, initiative.id))
        interest = interests.declare_interest(db, world.agent_actor, "Membre du comité de quartier")
    with unit_of_work(world.database) as db, pytest.raises(NotFound):
        interests.end_interest(db, world.executive_actor, interest.public_id)  # someone else's
    with unit_of_work(world.database) as db, pytest.raises(Conflict):
        interests.end_interest(db, world.agent_actor, withdrawal.public_id)  # a withdrawal is for good
    stranger = factory.account("agent@autre.example.org", territory="autre", roles=("agent",))
    factory.login(other_client, stranger)
    page = other_client.get("/mon-espace/interets")
    assert "Membre du comité" not in page.text
    assert initiative.title not in page.text
    response = post_form(other_client, "/mon-espace/interets", f"/mon-espace/interets/{interest.public_id}/fin")
    assert response.status_code == 404
    deport = post_form(other_client, "/mon-espace/interets", "/mon-espace/interets/deport",
                       data={"initiative": initiative.public_id})  # fmt: skip
    assert deport.status_code == 422
    assert len(declarations(world)) == 2
