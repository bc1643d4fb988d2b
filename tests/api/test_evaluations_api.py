"""The close-out in the JSON API: what each person may read of an evaluation, and the staff's
writes (a draft, then the final evaluation) through the same service as the page."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from app.db.session import unit_of_work
from app.evaluation import service as evaluation
from app.evaluation.models import Evaluation
from app.initiatives.models import Initiative
from tests.api.test_api import bearer, make_token
from tests.api.test_initiatives_api import assert_problem
from tests.evaluation.conftest import S, World, audit_count, count, delivered, world
from tests.factories import Factory
from tests.review.conftest import state_of

__all__ = ["world"]

FULL = evaluation.EvaluationInput(
    goals_met="met", goals_comment="Tout est fait.", social_level="high", social_comment="Des liens.",
    environmental_level="low", economic_level="none", lessons="Commencer petit.", generalise="yes",
)  # fmt: skip
BODY: dict[str, Any] = {
    "goals_met": "partly", "goals_comment": "Deux bacs sur trois.", "social_level": "high",
    "environmental_level": "medium", "economic_level": "low", "lessons": "Prévoir l'arrosage.",
    "generalise": "to_study", "generalise_comment": "Avec les écoles.",
}  # fmt: skip


def test_public_summary_full_evaluation_and_survey_by_reader(
    client: TestClient, factory: Factory, world: World
) -> None:
    initiative = delivered(world)
    path = f"/api/v1/initiatives/{initiative.public_id}/evaluation"
    resident = factory.account("voisine@example.org", display_name="Véra Voisine")
    resident_token = make_token(factory, resident, ("read",))
    with unit_of_work(world.database) as db:
        evaluation.save_draft(db, world.agent_actor, db.get_one(Initiative, initiative.id), FULL)
    draft = client.get(path, headers=bearer(resident_token)).json()
    assert draft["evaluated"] is False
    assert draft["lessons"] == ""
    staff_draft = client.get(path, headers=bearer(make_token(factory, world.agent, ("read",)))).json()
    assert staff_draft["lessons"] == "Commencer petit."
    assert staff_draft["survey"] == {
        "invited": 0, "answers": 0, "shown": False, "satisfaction_average": None, "would_again": 0, "first_time": 0,
    }  # fmt: skip

    with unit_of_work(world.database) as db:
        evaluation.finalise(db, world.agent_actor, db.get_one(Initiative, initiative.id), FULL)
    public = client.get(path, headers=bearer(resident_token)).json()
    assert public["evaluated"] is True
    assert (public["goals_met"], public["lessons"]) == ("met", "Commencer petit.")
    assert [(a["axis"], a["level"], a["comment"]) for a in public["axes"]] == [
        ("social", "high", ""),
        ("environmental", "low", ""),
        ("economic", "none", ""),
    ]
    assert public["generalise"] is None
    assert public["goals_comment"] == ""
    assert public["survey"] is None
    assert public["upkeep_checks"] is None

    promoter = client.get(path, headers=bearer(make_token(factory, world.promoter, ("read",)))).json()
    assert (promoter["generalise"], promoter["goals_comment"]) == ("yes", "Tout est fait.")
    assert promoter["axes"][0]["comment"] == "Des liens."
    assert promoter["survey"] is None
    assert promoter["upkeep_checks"] == []

    private = world.initiative(title="Initiative déposée, pas encore publique")
    hidden = client.get(f"/api/v1/initiatives/{private.public_id}/evaluation", headers=bearer(resident_token))
    assert hidden.status_code == 404


def test_agent_saves_a_draft_then_finalises(client: TestClient, factory: Factory, world: World) -> None:
    initiative = delivered(world)
    path = f"/api/v1/initiatives/{initiative.public_id}/evaluation"
    agent = bearer(make_token(factory, world.agent))
    promoter = bearer(make_token(factory, world.promoter))

    draft = client.put(path, json={**BODY, "lessons": "", "generalise": None}, headers=agent)
    assert draft.status_code == 200, draft.text
    assert (draft.json()["evaluated"], draft.json()["goals_met"], draft.json()["generalise"]) == (False, "partly", None)
    assert state_of(world.database, initiative.id) == S.DELIVERED
    assert audit_count(world, "evaluation.save") == 1
    # The promoters may not write it, nor read the draft.
    assert_problem(client.put(path, json=BODY, headers=promoter), 403)
    assert_problem(client.post(f"{path}/finalise", json=BODY, headers=promoter), 403)
    assert client.get(path, headers=promoter).json()["goals_comment"] == ""
    assert_problem(client.put(path, json={**BODY, "social_level": "immense"}, headers=agent), 422)
    assert_problem(client.put(path, json={**BODY, "state": "evaluated"}, headers=agent), 422)

    incomplete = assert_problem(client.post(f"{path}/finalise", json={**BODY, "lessons": ""}, headers=agent), 422)
    assert incomplete["code"] == "invalid"
    assert state_of(world.database, initiative.id) == S.DELIVERED

    headers = {**agent, "Idempotency-Key": "finalise-1"}
    final = client.post(f"{path}/finalise", json=BODY, headers=headers)
    retried = client.post(f"{path}/finalise", json=BODY, headers=headers)
    assert final.status_code == retried.status_code == 200, final.text
    assert final.json() == retried.json()
    body = final.json()
    assert (body["evaluated"], body["state"], body["lessons"]) == (True, "evaluated", "Prévoir l'arrosage.")
    assert state_of(world.database, initiative.id) == S.EVALUATED
    assert audit_count(world, "initiative.evaluate") == 1
    assert count(world, Evaluation, initiative_id=initiative.id) == 1
    assert client.get(path, headers=promoter).json()["generalise_comment"] == "Avec les écoles."

    # Final: it no longer changes.
    assert_problem(client.put(path, json=BODY, headers=agent), 409)
    assert_problem(client.post(f"{path}/finalise", json=BODY, headers=agent), 409)
    assert audit_count(world, "initiative.evaluate") == 1


def test_evaluation_before_delivery_or_elsewhere(client: TestClient, factory: Factory, world: World) -> None:
    in_progress = world.initiative(S.IN_PROGRESS)
    agent = bearer(make_token(factory, world.agent))
    path = f"/api/v1/initiatives/{in_progress.public_id}/evaluation"
    assert_problem(client.put(path, json=BODY, headers=agent), 409)
    assert_problem(client.post(f"{path}/finalise", json=BODY, headers=agent), 409)
    assert count(world, Evaluation) == 0

    other = factory.territory(slug="autre", name="Autreville", host="autre.test", insee="59350")
    foreign = world.initiative(S.DELIVERED, territory_id=other, fund_id=None, title="Ailleurs")
    elsewhere = f"/api/v1/initiatives/{foreign.public_id}/evaluation"
    assert_problem(client.get(elsewhere, headers=agent), 404)
    assert_problem(client.put(elsewhere, json=BODY, headers=agent), 404)
    assert_problem(client.post(f"{elsewhere}/finalise", json=BODY, headers=agent), 404)
    assert count(world, Evaluation) == 0
