"""The review checklist: points copied from the fund, opinions of town services, and the
executive's approval refused while a point is open."""

from __future__ import annotations

import datetime as dt
from html import unescape

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.accounts.models import Person
from app.audit.models import AuditEntry
from app.core.errors import Conflict, Invalid
from app.db.session import unit_of_work
from app.funds.models import Fund
from app.funds.service import DEFAULT_FUND_NAME
from app.initiatives.models import Decision, Initiative, InitiativeState
from app.notifications.models import Notification
from app.review import checklist
from app.review import service as review
from app.review.models import FundChecklistItem, ItemState, ReviewItem
from tests.factories import Factory, form_fields, post_form
from tests.review.conftest import World, state_of

S = InitiativeState
HX = {"HX-Request": "true"}
LABELS = ("Accord du propriétaire du terrain", "Assurance")


def fund_points(world: World, *labels: str) -> None:
    with unit_of_work(world.database) as db:
        for position, label in enumerate(labels, start=1):
            db.add(
                FundChecklistItem(
                    territory_id=world.territory_id, fund_id=world.fund_id, label=label, position=position
                )
            )


def items(world: World, initiative_id: int) -> list[ReviewItem]:
    with unit_of_work(world.database) as db:
        rows = list(
            db.scalars(
                select(ReviewItem).where(ReviewItem.initiative_id == initiative_id).order_by(ReviewItem.position)
            )
        )
        db.expunge_all()
        return rows


def audit_count(world: World, action: str) -> int:
    with unit_of_work(world.database) as db:
        return db.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action)) or 0


def decision_count(world: World) -> int:
    with unit_of_work(world.database) as db:
        return db.scalar(select(func.count()).select_from(Decision)) or 0


def test_approval_is_refused_while_a_point_is_open(client: TestClient, factory: Factory, world: World) -> None:
    fund_points(world, *LABELS)
    initiative = world.initiative(S.IN_REVIEW)
    base = f"/initiatives/{initiative.public_id}"
    factory.login(client, world.executive)
    refused = post_form(client, f"{base}/decision", data={"outcome": "approve", "act_kind": "decision"})
    assert refused.status_code == 409
    assert "Des points de l'instruction restent ouverts" in unescape(refused.text)
    assert "Accord du propriétaire du terrain" in unescape(refused.text)
    assert state_of(world.database, initiative.id) == S.IN_REVIEW
    assert decision_count(world) == 0
    assert world.envelope().committed_cents == 0

    factory.login(client, world.agent)
    page = client.get(f"{base}/points-de-controle")
    assert page.status_code == 200
    assert "Assurance" in page.text
    started = client.post(f"{base}/points-de-controle", data={**form_fields(page.text), "step": "start"})
    assert started.status_code == 303
    first, second = items(world, initiative.id)
    assert [first.label, second.label] == list(LABELS)
    assert first.state == second.state == ItemState.OPEN
    done = post_form(
        client, f"{base}/points-de-controle", f"{base}/points-de-controle/{first.public_id}/done",
        data={"opinion": "Convention d'occupation signée."},
    )  # fmt: skip
    assert done.status_code == 303
    no_reason = post_form(
        client, f"{base}/points-de-controle", f"{base}/points-de-controle/{second.public_id}/waive",
        data={"reason": "  "},
    )  # fmt: skip
    assert no_reason.status_code == 422
    assert "Ce champ est obligatoire" in unescape(no_reason.text)
    assert items(world, initiative.id)[1].state == ItemState.OPEN

    factory.login(client, world.executive)
    still = post_form(client, f"{base}/decision", data={"outcome": "approve", "act_kind": "decision"})
    assert still.status_code == 409
    assert "Assurance" in unescape(still.text)
    assert "Accord du propriétaire" not in unescape(still.text).split("restent ouverts")[1]

    factory.login(client, world.agent)
    waived = post_form(
        client, f"{base}/points-de-controle", f"{base}/points-de-controle/{second.public_id}/waive",
        data={"reason": "Assurée par la commune."},
    )  # fmt: skip
    assert waived.status_code == 303
    assert items(world, initiative.id)[1].waiver_reason == "Assurée par la commune."

    factory.login(client, world.executive)
    approved = post_form(client, f"{base}/decision", data={"outcome": "approve", "act_kind": "decision"})
    assert approved.status_code == 303
    assert state_of(world.database, initiative.id) == S.APPROVED
    assert audit_count(world, "review_item.done") == 1
    assert audit_count(world, "review_item.waive") == 1


def test_decline_is_allowed_with_open_points(world: World) -> None:
    fund_points(world, *LABELS)
    initiative = world.initiative(S.IN_REVIEW)
    with unit_of_work(world.database) as db:
        row = db.get_one(Initiative, initiative.id)
        review.decide(db, world.executive_actor, row, "decline", reason="Hors du périmètre du dispositif.")
    assert state_of(world.database, initiative.id) == S.DECLINED


def test_default_fund_gets_the_usual_points_on_first_use(world: World) -> None:
    with unit_of_work(world.database) as db:
        default_id = db.scalar(
            select(Fund.id).where(Fund.territory_id == world.territory_id, Fund.name == DEFAULT_FUND_NAME)
        )
    initiative = world.initiative(S.IN_REVIEW, fund_id=default_id)
    with unit_of_work(world.database) as db, pytest.raises(Conflict) as refused:
        review.decide(db, world.executive_actor, db.get_one(Initiative, initiative.id), "approve")
    assert "Accord du propriétaire du terrain" in refused.value.message
    assert items(world, initiative.id) == []  # the guard itself writes nothing
    with unit_of_work(world.database) as db:
        checklist.start(db, world.agent_actor, db.get_one(Initiative, initiative.id))
    labels = [i.label for i in items(world, initiative.id)]
    assert labels == list(checklist.DEFAULT_ITEMS)
    with unit_of_work(world.database) as db:
        stored = db.scalar(
            select(func.count()).select_from(FundChecklistItem).where(FundChecklistItem.fund_id == default_id)
        )
    assert stored == len(checklist.DEFAULT_ITEMS)


def test_opinion_request_tells_the_assignee(client: TestClient, factory: Factory, world: World) -> None:
    colleague = factory.account("voirie@example.org", roles=("agent",), display_name="Victor Voirie")
    fund_points(world, "Occupation du domaine public")
    initiative = world.initiative(S.IN_REVIEW)
    base = f"/initiatives/{initiative.public_id}"
    with unit_of_work(world.database) as db:
        checklist.start(db, world.agent_actor, db.get_one(Initiative, initiative.id))
    (item,) = items(world, initiative.id)
    factory.login(client, world.agent)
    page = client.get(f"{base}/points-de-controle")
    assert "Victor Voirie" in page.text
    assert "Paula Porteuse" not in page.text  # the promoter is not an agent
    with unit_of_work(world.database) as db:
        person_public_id = db.scalar(select(Person.public_id).where(Person.id == colleague.person_id))
    due = (dt.date.today() + dt.timedelta(days=10)).isoformat()
    url = f"{base}/points-de-controle/{item.public_id}/request"
    past = post_form(
        client, f"{base}/points-de-controle", url,
        data={"service_name": "Voirie", "assignee": person_public_id, "due_on": "2020-01-01"},
    )  # fmt: skip
    assert past.status_code == 422
    unknown = post_form(
        client, f"{base}/points-de-controle", url, data={"service_name": "Voirie", "assignee": "nobody", "due_on": due}
    )
    assert unknown.status_code == 422
    fragment = post_form(
        client, f"{base}/points-de-controle", url,
        data={"service_name": "Voirie", "assignee": person_public_id, "due_on": due}, headers=HX,
    )  # fmt: skip
    assert fragment.status_code == 200
    assert "<html" not in unescape(fragment.text)
    assert 'id="checklist"' in unescape(fragment.text)
    assert "La demande d'avis est envoyée." in unescape(fragment.text)
    row = items(world, initiative.id)[0]
    assert row.service_name == "Voirie"
    assert row.assignee_person_id == colleague.person_id
    assert row.due_on == dt.date.fromisoformat(due)
    with unit_of_work(world.database) as db:
        notes = list(db.scalars(select(Notification).where(Notification.person_id == colleague.person_id)))
        assert len(notes) == 1
        assert "points-de-controle" in notes[0].link
    assert audit_count(world, "review_item.request_opinion") == 1
    # Once an opinion was asked, the point is done only with that opinion.
    empty = post_form(
        client, f"{base}/points-de-controle", f"{base}/points-de-controle/{item.public_id}/done", data={"opinion": ""}
    )
    assert empty.status_code == 422
    assert items(world, initiative.id)[0].state == ItemState.OPEN


def test_agents_add_points_and_reopen_them(world: World) -> None:
    initiative = world.initiative(S.SUBMITTED)
    with unit_of_work(world.database) as db:
        row = db.get_one(Initiative, initiative.id)
        with pytest.raises(Invalid):
            checklist.add_item(db, world.agent_actor, row, "   ")
        added = checklist.add_item(db, world.agent_actor, row, "Avis du conseil de quartier")
        checklist.complete_item(db, world.agent_actor, row, added.public_id, "")
        with pytest.raises(Conflict):
            checklist.complete_item(db, world.agent_actor, row, added.public_id, "")
        checklist.reopen_item(db, world.agent_actor, row, added.public_id)
    (item,) = items(world, initiative.id)
    assert item.label == "Avis du conseil de quartier"
    assert item.state == ItemState.OPEN
    assert audit_count(world, "review_item.add") == 1
    assert audit_count(world, "review_item.reopen") == 1


def test_the_checklist_is_frozen_after_the_decision(world: World) -> None:
    initiative = world.initiative(S.APPROVED)
    with unit_of_work(world.database) as db, pytest.raises(Conflict):
        checklist.add_item(db, world.agent_actor, db.get_one(Initiative, initiative.id), "Trop tard")
    assert items(world, initiative.id) == []


def test_points_of_another_territory_or_initiative_are_not_found(
    client: TestClient, other_client: TestClient, factory: Factory, world: World
) -> None:
    fund_points(world, *LABELS)
    initiative = world.initiative(S.IN_REVIEW)
    other = world.initiative(S.IN_REVIEW, title="Fresque")
    with unit_of_work(world.database) as db:
        checklist.start(db, world.agent_actor, db.get_one(Initiative, initiative.id))
    item = items(world, initiative.id)[0]
    stranger = factory.account("agent@autre.example.org", territory="autre", roles=("agent",))
    factory.login(other_client, stranger)
    page = other_client.get("/mon-espace/interets")
    assert page.status_code == 200
    base = f"/initiatives/{initiative.public_id}/points-de-controle"
    assert other_client.get(base).status_code == 404
    response = other_client.post(f"{base}/{item.public_id}/done", data=form_fields(page.text))
    assert response.status_code == 404
    factory.login(client, world.agent)
    wrong = post_form(
        client, base, f"/initiatives/{other.public_id}/points-de-controle/{item.public_id}/done", data={"opinion": "x"}
    )
    assert wrong.status_code == 404
    assert items(world, initiative.id)[0].state == ItemState.OPEN


def test_residents_do_not_see_the_checklist(client: TestClient, factory: Factory, world: World) -> None:
    fund_points(world, *LABELS)
    initiative = world.initiative(S.IN_REVIEW)
    factory.login(client, world.promoter)
    assert client.get(f"/initiatives/{initiative.public_id}/points-de-controle").status_code == 403
    workspace = client.get(f"/initiatives/{initiative.public_id}")
    assert "points-de-controle" not in workspace.text
    factory.login(client, world.agent)
    workspace = client.get(f"/initiatives/{initiative.public_id}")
    assert f"/initiatives/{initiative.public_id}/points-de-controle" in workspace.text
