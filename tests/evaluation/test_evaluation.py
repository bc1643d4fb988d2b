"""The town's evaluation of a delivered initiative: who may write it, the draft, the EVALUATE step,
and what the public sees of it."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.core.errors import Conflict, Forbidden, Invalid
from app.db.session import unit_of_work
from app.evaluation import service as evaluation
from app.evaluation.models import Evaluation
from app.initiatives.models import Initiative, InitiativeState, MemberRole
from tests.evaluation.conftest import World, actor, add_member, audit_count, count, delivered, notifications
from tests.factories import Factory, form_fields
from tests.review.conftest import state_of

S = InitiativeState

COMPLETE: dict[str, str] = {
    "goals_met": "partly",
    "goals_comment": "Deux bacs sur trois sont plantés.",
    "social_level": "high",
    "social_comment": "Commentaire social réservé à l'équipe",
    "environmental_level": "medium",
    "environmental_comment": "",
    "economic_level": "low",
    "economic_comment": "",
    "lessons": "Prévoir l'arrosage dès le départ.",
    "generalise": "to_study",
    "generalise_comment": "Commentaire généraliser réservé",
}


def _input(**values: str) -> evaluation.EvaluationInput:
    return evaluation.EvaluationInput(**{**COMPLETE, **values})


def _post(client: TestClient, public_id: str, step: str, **values: str) -> Any:
    page = client.get(f"/initiatives/{public_id}/evaluation")
    assert page.status_code == 200, page.text[:300]
    data = {**form_fields(page.text), **COMPLETE, **values, "step": step}
    return client.post(f"/initiatives/{public_id}/evaluation", data=data)


def test_agent_saves_a_draft_then_finalises(client: TestClient, factory: Factory, world: World) -> None:
    initiative = delivered(world)
    factory.login(client, world.agent)
    response = _post(client, initiative.public_id, "draft", lessons="", generalise="")
    assert response.status_code == 303
    assert response.headers["location"] == f"/initiatives/{initiative.public_id}/evaluation"
    assert state_of(world.database, initiative.id) == S.DELIVERED
    assert audit_count(world, "evaluation.save") == 1
    page = client.get(f"/initiatives/{initiative.public_id}/evaluation")
    assert "brouillon" in page.text
    assert "Deux bacs sur trois" in page.text

    # The promoters do not read the draft.
    factory.login(client, world.promoter)
    promoter_page = client.get(f"/initiatives/{initiative.public_id}/evaluation")
    assert promoter_page.status_code == 200
    assert "Deux bacs sur trois" not in promoter_page.text

    factory.login(client, world.agent)
    final = _post(client, initiative.public_id, "final")
    assert final.status_code == 303
    assert final.headers["location"] == f"/initiatives/{initiative.public_id}"
    assert state_of(world.database, initiative.id) == S.EVALUATED
    assert audit_count(world, "initiative.evaluate") == 1
    assert count(world, Evaluation, initiative_id=initiative.id) == 1
    with unit_of_work(world.database) as db:
        row = db.scalar(select(Evaluation).where(Evaluation.initiative_id == initiative.id))
        assert row is not None
        assert row.finalised_at is not None
        assert (row.goals_met, row.social_level, row.generalise) == ("partly", "high", "to_study")
    # The promoters are told, and now read every part of it.
    assert notifications(world, world.promoter.person_id, kind="initiatives")
    factory.login(client, world.promoter)
    full = client.get(f"/initiatives/{initiative.public_id}/evaluation")
    assert "Commentaire social réservé" in full.text
    assert "Commentaire généraliser réservé" in full.text
    assert "Évaluation de la commune finalisée" in client.get(f"/initiatives/{initiative.public_id}").text


def test_finalising_twice_or_before_delivery_is_a_conflict(client: TestClient, factory: Factory, world: World) -> None:
    in_progress = world.initiative(S.IN_PROGRESS)
    with unit_of_work(world.database) as db:
        row = db.get_one(Initiative, in_progress.id)
        with pytest.raises(Conflict):
            evaluation.finalise(db, world.agent_actor, row, _input())
    with unit_of_work(world.database) as db:
        row = db.get_one(Initiative, in_progress.id)
        with pytest.raises(Conflict):
            evaluation.save_draft(db, world.agent_actor, row, _input())
    assert count(world, Evaluation) == 0
    assert state_of(world.database, in_progress.id) == S.IN_PROGRESS

    factory.login(client, world.agent)
    page = client.get(f"/initiatives/{in_progress.public_id}/evaluation")
    assert page.status_code == 200
    assert "L'évaluation commence quand le projet est réalisé" in page.text
    response = client.post(
        f"/initiatives/{in_progress.public_id}/evaluation", data={**form_fields(page.text), **COMPLETE, "step": "final"}
    )
    assert response.status_code == 409
    assert count(world, Evaluation) == 0

    initiative = delivered(world, title="Nichoirs")
    assert _post(client, initiative.public_id, "final").status_code == 303
    page = client.get(f"/initiatives/{initiative.public_id}/evaluation")
    again = client.post(
        f"/initiatives/{initiative.public_id}/evaluation",
        data={**form_fields(page.text), **COMPLETE, "lessons": "Autre chose", "step": "draft"},
    )
    assert again.status_code == 409
    with unit_of_work(world.database) as db:
        row = db.scalar(select(Evaluation).where(Evaluation.initiative_id == initiative.id))
        assert row is not None
        assert row.lessons == COMPLETE["lessons"]
    assert audit_count(world, "initiative.evaluate") == 1


def test_a_final_evaluation_answers_every_question(client: TestClient, factory: Factory, world: World) -> None:
    initiative = delivered(world)
    factory.login(client, world.agent)
    response = _post(client, initiative.public_id, "final", economic_level="")
    assert response.status_code == 422
    assert 'id="f-economic_level"' in response.text
    assert 'aria-invalid="true"' in response.text
    assert "Prévoir l&#39;arrosage" in response.text  # the other values are kept
    assert state_of(world.database, initiative.id) == S.DELIVERED
    bad = _post(client, initiative.public_id, "draft", social_level="immense")
    assert bad.status_code == 422
    assert count(world, Evaluation) == 0


def test_conflicted_agents_and_promoters_may_not_evaluate(client: TestClient, factory: Factory, world: World) -> None:
    initiative = delivered(world)
    tied = factory.account("agente-liee@example.org", roles=("agent",), display_name="Agnès Liée")
    add_member(world, initiative.id, tied, MemberRole.CO_PROMOTER)
    with unit_of_work(world.database) as db:
        row = db.get_one(Initiative, initiative.id)
        with pytest.raises(Forbidden):
            evaluation.finalise(db, actor(tied, "agent"), row, _input())
    with unit_of_work(world.database) as db:
        row = db.get_one(Initiative, initiative.id)
        with pytest.raises(Forbidden):
            evaluation.save_draft(db, world.promoter_actor, row, _input())
    factory.login(client, tied)
    page = client.get(f"/initiatives/{initiative.public_id}/evaluation")
    assert page.status_code == 200
    assert "son évaluation revient à un·e autre agent·e" in page.text
    response = client.post(
        f"/initiatives/{initiative.public_id}/evaluation", data={**form_fields(page.text), **COMPLETE, "step": "final"}
    )
    assert response.status_code == 403
    assert state_of(world.database, initiative.id) == S.DELIVERED
    assert count(world, Evaluation) == 0


def test_the_evaluation_page_is_for_promoters_and_staff(client: TestClient, factory: Factory, world: World) -> None:
    initiative = delivered(world)
    path = f"/initiatives/{initiative.public_id}/evaluation"
    assert client.get(path).status_code == 303  # to the login page
    resident = factory.account("voisine@example.org", display_name="Véra Voisine")
    factory.login(client, resident)
    assert client.get(path).status_code == 403
    draft = world.initiative(S.DRAFT, title="Brouillon privé")
    assert client.get(f"/initiatives/{draft.public_id}/evaluation").status_code == 404


def test_the_public_sees_the_summary_only_once_final(client: TestClient, factory: Factory, world: World) -> None:
    initiative = delivered(world)
    with unit_of_work(world.database) as db:
        evaluation.save_draft(db, world.agent_actor, db.get_one(Initiative, initiative.id), _input())
    page = client.get(f"/initiatives/{initiative.public_id}")
    assert page.status_code == 200
    assert "Bilan du projet" in page.text
    assert "Prévoir l" not in page.text  # the draft's lessons are not public
    with unit_of_work(world.database) as db:
        evaluation.finalise(db, world.agent_actor, db.get_one(Initiative, initiative.id), _input())
    public = client.get(f"/initiatives/{initiative.public_id}").text
    assert "atteints en partie" in public
    assert "Effet social" in public
    assert "fort" in public
    assert "moyen" in public
    assert "faible" in public
    assert "arrosage dès le départ." in public
    for private in (
        "Deux bacs sur trois",
        "Commentaire social réservé",
        "Commentaire généraliser réservé",
        "à étudier",
    ):
        assert private not in public
    assert "Lire le bilan complet" not in public
    factory.login(client, world.promoter)
    assert "Lire le bilan complet" in client.get(f"/initiatives/{initiative.public_id}").text


def test_invalid_choice_in_the_service(world: World) -> None:
    initiative = delivered(world)
    with unit_of_work(world.database) as db, pytest.raises(Invalid) as caught:
        evaluation.save_draft(db, world.agent_actor, db.get_one(Initiative, initiative.id), _input(goals_met="oui"))
    assert caught.value.field == "goals_met"
