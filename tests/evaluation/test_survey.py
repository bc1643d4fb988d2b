"""The volunteers' survey: invitations (once each), who may answer, one answer per person,
results aggregated for the staff, names only with the respondent's agreement."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.accounts.models import Account, Person, PersonKind
from app.core.errors import Conflict, Forbidden
from app.db.session import unit_of_work
from app.evaluation import service as evaluation
from app.evaluation.models import SurveyAnswer, SurveyInvitation
from app.initiatives.models import Initiative, InitiativeState, MemberRole
from app.jobs.registry import handler_for, recurring_jobs, using_settings
from app.workdays.models import WorkDay, WorkDayParticipant
from tests.evaluation.conftest import World, actor, add_member, audit_count, count, delivered, notifications
from tests.factories import Factory, form_fields

S = InitiativeState
ANSWER = {"satisfaction": "4", "would_again": "yes", "first_time": "no", "comment": "J'ai appris à greffer."}


def _invite(world: World) -> None:
    with unit_of_work(world.database) as db, using_settings(world.settings):
        handler_for("evaluation_surveys")(db, {})


def _answer(client: TestClient, public_id: str, **values: str) -> Any:
    page = client.get(f"/initiatives/{public_id}/questionnaire")
    assert page.status_code == 200, page.text[:300]
    return client.post(f"/initiatives/{public_id}/questionnaire", data={**form_fields(page.text), **ANSWER, **values})


def _volunteers(factory: Factory, world: World, initiative_id: int, n: int) -> list[Account]:
    people = []
    for i in range(n):
        account = factory.account(f"benevole{i}@example.org", display_name=f"Bénévole {i}")
        add_member(world, initiative_id, account, MemberRole.CO_PROMOTER)
        people.append(account)
    return people


def test_the_job_invites_the_members_once(factory: Factory, world: World) -> None:
    assert "evaluation_surveys" in {r.kind for r in recurring_jobs()}
    initiative = delivered(world)
    (volunteer,) = _volunteers(factory, world, initiative.id, 1)
    pending = factory.account("en-attente@example.org")
    add_member(world, initiative.id, pending, MemberRole.CO_PROMOTER, accepted=False)
    world.initiative(S.IN_PROGRESS, title="Pas encore réalisée")
    _invite(world)
    _invite(world)
    assert len(notifications(world, world.promoter.person_id)) == 1
    invitation = notifications(world, volunteer.person_id)
    assert len(invitation) == 1
    assert invitation[0].link == f"/initiatives/{initiative.public_id}/questionnaire"
    assert notifications(world, pending.person_id) == []
    assert count(world, SurveyInvitation) == 2
    assert audit_count(world, "survey.invite") == 1


def test_volunteers_who_came_to_a_work_day_are_invited(factory: Factory, world: World) -> None:
    initiative = delivered(world)
    came = factory.account("venu@example.org", display_name="Venu")
    stayed_home = factory.account("absent@example.org", display_name="Absent")
    with unit_of_work(world.database) as db:
        walk_in = Person(territory_id=world.territory_id, kind=PersonKind.WALK_IN, display_name="Sans compte")
        db.add(walk_in)
        day = WorkDay(
            territory_id=world.territory_id,
            initiative_id=initiative.id,
            day=dt.date(2026, 5, 16),
            starts_at=dt.time(9),
            ends_at=dt.time(12),
            place="Rue Lavoisier",
        )
        db.add(day)
        db.flush()
        for person_id, was_there in ((came.person_id, True), (stayed_home.person_id, False), (walk_in.id, True)):
            db.add(
                WorkDayParticipant(
                    territory_id=world.territory_id, work_day_id=day.id, person_id=person_id, came=was_there
                )
            )
    with unit_of_work(world.database) as db:
        people = evaluation.survey_people(db, db.get_one(Initiative, initiative.id))
    assert came.person_id in people
    assert stayed_home.person_id not in people
    assert walk_in.id not in people  # no account: asked on paper
    _invite(world)
    assert len(notifications(world, came.person_id)) == 1
    assert notifications(world, stayed_home.person_id) == []


def test_only_invited_people_answer(client: TestClient, factory: Factory, world: World) -> None:
    initiative = delivered(world)
    path = f"/initiatives/{initiative.public_id}/questionnaire"
    resident = factory.account("voisine@example.org", display_name="Véra Voisine")
    factory.login(client, resident)
    page = client.get(path)
    assert page.status_code == 403
    home = client.get("/")
    assert client.post(path, data={**form_fields(home.text), **ANSWER}).status_code == 403
    assert "Répondre au questionnaire" not in client.get(f"/initiatives/{initiative.public_id}").text
    with unit_of_work(world.database) as db, pytest.raises(Forbidden):
        evaluation.answer_survey(
            db, actor(resident), db.get_one(Initiative, initiative.id), evaluation.SurveyInput(5, True, True)
        )
    assert count(world, SurveyAnswer) == 0

    factory.login(client, world.promoter)
    assert "Répondre au questionnaire" in client.get(f"/initiatives/{initiative.public_id}").text
    assert _answer(client, initiative.public_id).status_code == 303
    assert "Modifier ma réponse" in client.get(f"/initiatives/{initiative.public_id}").text


def test_one_answer_per_person_editable_until_final(client: TestClient, factory: Factory, world: World) -> None:
    initiative = delivered(world)
    factory.login(client, world.promoter)
    assert _answer(client, initiative.public_id).status_code == 303
    assert _answer(client, initiative.public_id, satisfaction="2", named="on").status_code == 303
    with unit_of_work(world.database) as db:
        rows = list(db.scalars(select(SurveyAnswer).where(SurveyAnswer.initiative_id == initiative.id)))
        assert len(rows) == 1
        assert (rows[0].satisfaction, rows[0].named, rows[0].first_time) == (2, True, False)
    invalid = _answer(client, initiative.public_id, satisfaction="7")
    assert invalid.status_code == 422
    assert 'id="f-satisfaction"' in invalid.text

    with unit_of_work(world.database) as db:
        db.get_one(Initiative, initiative.id).state = S.EVALUATED
    closed = client.get(f"/initiatives/{initiative.public_id}/questionnaire")
    assert "Le questionnaire est clos" in closed.text
    late = client.post(
        f"/initiatives/{initiative.public_id}/questionnaire", data={**form_fields(closed.text), **ANSWER}
    )
    assert late.status_code == 409
    with unit_of_work(world.database) as db, pytest.raises(Conflict):
        evaluation.answer_survey(
            db, world.promoter_actor, db.get_one(Initiative, initiative.id), evaluation.SurveyInput(5, True, True)
        )
    with unit_of_work(world.database) as db:
        assert db.scalar(select(SurveyAnswer.satisfaction)) == 2


def test_staff_see_aggregates_and_names_only_when_agreed(client: TestClient, factory: Factory, world: World) -> None:
    initiative = delivered(world)
    volunteers = _volunteers(factory, world, initiative.id, 2)
    factory.login(client, volunteers[0])
    _answer(client, initiative.public_id, satisfaction="5", comment="Secret de Bénévole 0")
    factory.login(client, world.agent)
    page = client.get(f"/initiatives/{initiative.public_id}/evaluation").text
    assert "1 réponse" in page
    assert "à partir de 3 réponses" in page
    assert "Secret de Bénévole 0" not in page  # one answer alone would be recognised

    factory.login(client, volunteers[1])
    _answer(client, initiative.public_id, satisfaction="3", would_again="no", first_time="yes", comment="")
    factory.login(client, world.promoter)
    _answer(client, initiative.public_id, satisfaction="3", named="on", comment="Signé par Paula")

    factory.login(client, world.agent)
    page = client.get(f"/initiatives/{initiative.public_id}/evaluation").text
    assert "3 réponses" in page
    assert "3,7 sur 5" in page  # (5 + 3 + 3) / 3
    assert "Secret de Bénévole 0" in page
    assert "Bénévole 0" not in page.replace("Secret de Bénévole 0", "")
    assert "Bénévole 1" not in page
    assert "Paula Porteuse" in page
    assert "Signé par Paula" in page
    with unit_of_work(world.database) as db:
        results = evaluation.survey_results(db, db.get_one(Initiative, initiative.id))
    assert results.satisfaction_average is not None
    assert str(results.satisfaction_average) == "3.7"
    assert (results.would_again, results.first_time) == (2, 1)
    assert results.comments == ["Secret de Bénévole 0"]
    assert [a.name for a in results.named] == ["Paula Porteuse"]

    # The promoters read the evaluation, never the survey's results.
    factory.login(client, world.promoter)
    promoter_page = client.get(f"/initiatives/{initiative.public_id}/evaluation").text
    assert "questionnaire des bénévoles" not in promoter_page
    assert "Secret de Bénévole 0" not in promoter_page


def test_answers_are_in_the_persons_data_export(factory: Factory, world: World) -> None:
    from app.privacy.export import build_export

    initiative = delivered(world)
    with unit_of_work(world.database) as db:
        row = db.get_one(Initiative, initiative.id)
        evaluation.answer_survey(db, world.promoter_actor, row, evaluation.SurveyInput(4, True, False, "Bien"))
    with unit_of_work(world.database) as db:
        exported = build_export(db, world.promoter_actor)["survey_answers"]
    assert [(e["initiative"], e["satisfaction"], e["comment"]) for e in exported] == [(initiative.public_id, 4, "Bien")]
