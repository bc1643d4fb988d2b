"""The council's agenda: an initiative in review "awaiting the council sitting", scheduled, postponed
or taken off by an untied executive, shown on the pages and closed by the decision."""

from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.core.errors import Conflict, Forbidden, Invalid, NotFound
from app.db.session import unit_of_work
from app.initiatives.models import Decision, Initiative, InitiativeState
from app.notifications.models import Notification
from app.review import agenda, interests
from app.review import service as review
from app.review.models import CouncilAgendaItem
from app.territories.models import CouncilSitting
from tests.factories import Factory, form_fields, post_form
from tests.review.conftest import World, actor, state_of

S = InitiativeState
HX = {"HX-Request": "true"}
# Today, for every test of this module: the sittings below are dated from it.
NOW = dt.datetime(2026, 11, 22, 9, 30, tzinfo=dt.UTC)
SITTING_DAY = dt.date(2026, 12, 12)
WAITING = "en attente de la séance du conseil du 12 décembre 2026"


@pytest.fixture(autouse=True)
def _clock() -> Iterator[None]:
    with time_machine.travel(NOW, tick=True):
        yield


def sitting(world: World, day: dt.date = SITTING_DAY, title: str = "Conseil municipal", *, tid: int = 0) -> str:
    with unit_of_work(world.database) as db:
        row = CouncilSitting(territory_id=tid or world.territory_id, sitting_date=day, title=title)
        db.add(row)
        db.flush()
        return row.public_id


def act(world: World, initiative_id: int, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Runs one service call in its own transaction, as a request would."""
    with unit_of_work(world.database) as db:
        initiative = db.get_one(Initiative, initiative_id)
        if "settings" in inspect.signature(fn).parameters:
            kwargs["settings"] = world.settings
        return fn(db, *args[:1], initiative, *args[1:], **kwargs)


def item_of(world: World, initiative_id: int) -> tuple[str, dt.date, str] | None:
    """(sitting public id, its date, the note) of the initiative's live agenda item."""
    with unit_of_work(world.database) as db:
        row = db.execute(
            select(CouncilSitting.public_id, CouncilSitting.sitting_date, CouncilAgendaItem.note)
            .join(CouncilAgendaItem, CouncilAgendaItem.sitting_id == CouncilSitting.id)
            .where(CouncilAgendaItem.initiative_id == initiative_id)
        ).one_or_none()
        return (row[0], row[1], row[2]) if row is not None else None


def entries(world: World, action: str) -> list[AuditEntry]:
    with unit_of_work(world.database) as db:
        rows = list(db.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))
        for row in rows:
            db.expunge(row)
        return rows


def told(world: World) -> list[str]:
    with unit_of_work(world.database) as db:
        return list(
            db.scalars(
                select(Notification.subject)
                .where(Notification.person_id == world.promoter.person_id)
                .order_by(Notification.id)
            )
        )


# ---------------------------------------------------------------- the service


def test_an_initiative_in_review_is_scheduled_on_a_sitting_to_come(world: World) -> None:
    initiative = world.initiative(S.IN_REVIEW, title="Verger partagé")
    sitting_id = sitting(world)
    act(world, initiative.id, agenda.schedule, world.executive_actor, sitting_id)
    assert item_of(world, initiative.id) == (sitting_id, SITTING_DAY, "")
    assert state_of(world.database, initiative.id) == S.IN_REVIEW  # not a state of its own
    [entry] = entries(world, "council_agenda.schedule")
    assert entry.subject_id == initiative.public_id
    assert entry.data["sitting"] == sitting_id
    assert entry.data["sitting_date"] == "2026-12-12"
    assert entry.actor_person_id == world.executive.person_id
    assert told(world) == ["« Verger partagé » sera examinée par le conseil municipal"]
    with unit_of_work(world.database) as db:
        body = db.scalar(select(Notification.body).where(Notification.person_id == world.promoter.person_id))
    assert body is not None
    assert "12 décembre 2026" in body


def test_only_initiatives_in_review_on_sittings_to_come_of_the_same_town(world: World, factory: Factory) -> None:
    submitted = world.initiative(S.SUBMITTED)
    approved = world.initiative(S.APPROVED)
    in_review = world.initiative(S.IN_REVIEW)
    future = sitting(world)
    with pytest.raises(Conflict):
        act(world, submitted.id, agenda.schedule, world.executive_actor, future)
    with pytest.raises(Conflict):
        act(world, approved.id, agenda.schedule, world.executive_actor, future)
    past = sitting(world, dt.date(2026, 11, 21), "Conseil d'hier")
    with pytest.raises(Invalid) as exc:
        act(world, in_review.id, agenda.schedule, world.executive_actor, past)
    assert exc.value.field == "sitting"
    with pytest.raises(Invalid):
        act(world, in_review.id, agenda.schedule, world.executive_actor, "")
    other_tid = factory.territory(slug="autre", name="Autreville", host="autre.test", insee="59350")
    foreign_sitting = sitting(world, tid=other_tid)
    with pytest.raises(Invalid):
        act(world, in_review.id, agenda.schedule, world.executive_actor, foreign_sitting)
    foreign = world.initiative(S.IN_REVIEW, territory_id=other_tid)
    with pytest.raises(NotFound):
        act(world, foreign.id, agenda.schedule, world.executive_actor, foreign_sitting)
    # Today's sitting is still to come.
    today = sitting(world, dt.date(2026, 11, 22), "Conseil de ce soir")
    act(world, in_review.id, agenda.schedule, world.executive_actor, today)
    assert item_of(world, in_review.id) is not None
    for row in (submitted, approved, foreign):
        assert item_of(world, row.id) is None
    assert len(entries(world, "council_agenda.schedule")) == 1


def test_residents_agents_and_a_tied_executive_may_not_schedule(world: World, factory: Factory) -> None:
    initiative = world.initiative(S.IN_REVIEW)
    day = sitting(world)
    with pytest.raises(Forbidden):
        act(world, initiative.id, agenda.schedule, world.promoter_actor, day)
    with pytest.raises(Forbidden):
        act(world, initiative.id, agenda.schedule, world.agent_actor, day)
    stranger = actor(factory.account("rita@example.org", display_name="Rita"))
    with pytest.raises(NotFound):  # a resident who may not see it does not learn it exists
        act(world, initiative.id, agenda.schedule, stranger, day)
    tied = factory.account("maire-adjoint@example.org", roles=("executive",), display_name="Adjoint lié")
    with unit_of_work(world.database) as db:
        interests.withdraw_from(db, actor(tied, "executive"), initiative.public_id, "Mon association.")
    with pytest.raises(Forbidden):
        act(world, initiative.id, agenda.schedule, actor(tied, "executive"), day)
    mayor_promoter = factory.account("maire-porteur@example.org", roles=("executive",))
    own = world.initiative(S.IN_REVIEW, promoter=mayor_promoter)
    with pytest.raises(Forbidden):
        act(world, own.id, agenda.schedule, actor(mayor_promoter, "executive"), day)
    assert item_of(world, initiative.id) is None
    assert item_of(world, own.id) is None
    assert entries(world, "council_agenda.schedule") == []


def test_scheduling_twice_is_harmless(world: World) -> None:
    initiative = world.initiative(S.IN_REVIEW)
    first, second = sitting(world), sitting(world, dt.date(2027, 1, 20), "Conseil de janvier")
    act(world, initiative.id, agenda.schedule, world.executive_actor, first)
    act(world, initiative.id, agenda.schedule, world.executive_actor, first)
    assert len(entries(world, "council_agenda.schedule")) == 1
    with pytest.raises(Conflict):  # another sitting is a postponement, with its reason
        act(world, initiative.id, agenda.schedule, world.executive_actor, second)
    assert item_of(world, initiative.id) == (first, SITTING_DAY, "")
    with unit_of_work(world.database) as db:
        assert db.scalar(select(func.count()).select_from(CouncilAgendaItem)) == 1


def test_postponing_needs_a_reason_and_is_audited(world: World) -> None:
    initiative = world.initiative(S.IN_REVIEW, title="Verger partagé")
    first, later = sitting(world), sitting(world, dt.date(2027, 1, 20), "Conseil de janvier")
    with pytest.raises(Conflict):  # nothing to postpone yet
        act(world, initiative.id, agenda.postpone, world.executive_actor, later, "Rapport incomplet.")
    act(world, initiative.id, agenda.schedule, world.executive_actor, first)
    with pytest.raises(Invalid) as exc:
        act(world, initiative.id, agenda.postpone, world.executive_actor, later, "  ")
    assert exc.value.field == "reason"
    with pytest.raises(Invalid) as exc:
        act(world, initiative.id, agenda.postpone, world.executive_actor, first, "Même séance.")
    assert exc.value.field == "sitting"
    with pytest.raises(Forbidden):
        act(world, initiative.id, agenda.postpone, world.agent_actor, later, "Rapport incomplet.")
    act(world, initiative.id, agenda.postpone, world.executive_actor, later, "Avis des Bâtiments de France attendu.")
    assert item_of(world, initiative.id) == (later, dt.date(2027, 1, 20), "Avis des Bâtiments de France attendu.")
    [entry] = entries(world, "council_agenda.postpone")
    assert entry.reason == "Avis des Bâtiments de France attendu."
    assert (entry.data["from_sitting"], entry.data["to_sitting"]) == (first, later)
    assert told(world)[-1] == "L'examen de « Verger partagé » par le conseil municipal est reporté"


def test_taking_off_the_agenda_keeps_the_initiative_in_review(world: World) -> None:
    initiative = world.initiative(S.IN_REVIEW)
    day = sitting(world)
    act(world, initiative.id, agenda.schedule, world.executive_actor, day)
    with pytest.raises(Forbidden):
        act(world, initiative.id, agenda.take_off, world.promoter_actor, "")
    act(world, initiative.id, agenda.take_off, world.executive_actor, "Le projet sera décidé par le maire.")
    assert item_of(world, initiative.id) is None
    assert state_of(world.database, initiative.id) == S.IN_REVIEW
    [entry] = entries(world, "council_agenda.take_off")
    assert entry.reason == "Le projet sera décidé par le maire."
    with pytest.raises(Conflict):
        act(world, initiative.id, agenda.take_off, world.executive_actor, "")
    act(world, initiative.id, agenda.schedule, world.executive_actor, day)  # it may be scheduled again
    assert item_of(world, initiative.id) is not None


def test_the_decision_closes_the_agenda_item(world: World) -> None:
    initiative = world.initiative(S.IN_REVIEW, subsidy=True)
    day = sitting(world, dt.date(2026, 11, 22), "Conseil de ce soir")
    act(world, initiative.id, agenda.schedule, world.executive_actor, day)
    decision = act(
        world, initiative.id, review.decide, world.executive_actor, "approve", "deliberation", "D2026-31", day
    )
    assert item_of(world, initiative.id) is None
    [entry] = entries(world, "council_agenda.close")
    assert entry.data["decision"] == decision.public_id
    assert entry.data["decided_in_sitting"] is True
    with unit_of_work(world.database) as db:
        assert db.scalar(select(Decision.sitting_id).where(Decision.id == decision.id)) is not None
    # The whole history stays in the audit.
    assert [len(entries(world, f"council_agenda.{a}")) for a in ("schedule", "close")] == [1, 1]


def test_a_refused_decision_leaves_the_item(world: World) -> None:
    initiative = world.initiative(S.IN_REVIEW, subsidy=True)
    day = sitting(world)
    act(world, initiative.id, agenda.schedule, world.executive_actor, day)
    with pytest.raises(Invalid):  # a subsidy needs a deliberation
        act(world, initiative.id, review.decide, world.executive_actor, "approve", "decision", "A-1")
    assert item_of(world, initiative.id) is not None
    assert entries(world, "council_agenda.close") == []


# ---------------------------------------------------------------- the pages


def test_promoters_agents_and_the_queue_see_the_sitting(client: TestClient, factory: Factory, world: World) -> None:
    waiting = world.initiative(S.IN_REVIEW, title="Verger partagé")
    other = world.initiative(S.IN_REVIEW, title="Boîte à livres")
    act(world, waiting.id, agenda.schedule, world.executive_actor, sitting(world))

    factory.login(client, world.promoter)
    show = client.get(f"/initiatives/{waiting.public_id}")
    assert show.status_code == 200
    assert WAITING in show.text  # rendered with the page, in the "Instruction" section
    assert "Reporter" not in show.text
    assert WAITING not in client.get(f"/initiatives/{other.public_id}").text
    fragment = client.get(f"/initiatives/{waiting.public_id}/conseil", params={"from": "workspace"}, headers=HX)
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert WAITING in fragment.text
    assert "Reporter" not in fragment.text  # the promoters see it, they do not change it
    assert (
        client.get(f"/initiatives/{other.public_id}/conseil", params={"from": "workspace"}, headers=HX).text.strip()
        == ""
    )
    page = client.get(f"/initiatives/{waiting.public_id}/conseil")  # without JavaScript
    assert page.status_code == 200
    assert WAITING in page.text

    factory.login(client, world.agent)
    queue = client.get("/instruction")
    assert WAITING in queue.text
    assert queue.text.count(WAITING) == 1
    only = client.get("/instruction", params={"council": "1"})
    assert "Verger partagé" in only.text
    assert "Boîte à livres" not in only.text
    assert "Boîte à livres" in client.get("/instruction").text


def test_a_resident_may_not_see_nor_schedule(client: TestClient, factory: Factory, world: World) -> None:
    initiative = world.initiative(S.IN_REVIEW)
    day = sitting(world)
    factory.login(client, factory.account("rita@example.org", display_name="Rita"))
    assert client.get(f"/initiatives/{initiative.public_id}/conseil").status_code == 404
    token = factory.login(client, world.promoter)
    from tests.ledger.helpers import csrf_for

    headers = {"X-CSRF-Token": csrf_for(factory.app, token)}
    response = client.post(
        f"/initiatives/{initiative.public_id}/conseil/inscrire", data={"sitting": day}, headers=headers
    )
    assert response.status_code == 403
    assert item_of(world, initiative.id) is None


def test_the_executive_schedules_from_the_page_once(client: TestClient, factory: Factory, world: World) -> None:
    initiative = world.initiative(S.IN_REVIEW, title="Verger partagé")
    day = sitting(world)
    factory.login(client, world.executive)
    page_url = f"/initiatives/{initiative.public_id}/conseil"
    page = client.get(page_url)
    assert "Inscrire au conseil" in page.text
    assert day in page.text
    empty = post_form(client, page_url, f"{page_url}/inscrire", {"sitting": "", "from": "page"})
    assert empty.status_code == 422
    assert 'aria-invalid="true"' in empty.text
    data = {**form_fields(client.get(page_url).text), "sitting": day, "from": "workspace"}
    response = client.post(f"{page_url}/inscrire", data=data)
    assert response.status_code == 303
    assert response.headers["location"].endswith(f"/initiatives/{initiative.public_id}#council")
    again = client.post(f"{page_url}/inscrire", data=data)  # the same form sent twice
    assert again.status_code == 303
    assert len(entries(world, "council_agenda.schedule")) == 1
    page = client.get(page_url)
    assert WAITING in page.text
    assert "Reporter à une autre séance" in page.text

    later = sitting(world, dt.date(2027, 1, 20), "Conseil de janvier")
    no_reason = post_form(client, page_url, f"{page_url}/reporter", {"sitting": later, "reason": ""})
    assert no_reason.status_code == 422
    assert item_of(world, initiative.id) == (day, SITTING_DAY, "")
    moved = post_form(client, page_url, f"{page_url}/reporter", {"sitting": later, "reason": "Rapport à compléter."})
    assert moved.status_code == 303
    assert "en attente de la séance du conseil du 20 janvier 2027" in client.get(page_url).text
    assert len(entries(world, "council_agenda.postpone")) == 1


def test_the_decision_page_explains_the_council_and_preselects_the_sitting(
    client: TestClient, factory: Factory, world: World
) -> None:
    initiative = world.initiative(S.IN_REVIEW, subsidy=True)
    factory.login(client, world.executive)
    decision_url = f"/initiatives/{initiative.public_id}/decision"
    page = client.get(decision_url)
    assert "art. L2311-7" in page.text
    assert "doit passer en conseil municipal" in page.text
    assert "Aucune séance du conseil à venir" in page.text
    day = sitting(world, dt.date(2026, 11, 22), "Conseil de ce soir")
    assert "Inscrire au conseil" in client.get(decision_url).text  # scheduling is offered right there
    response = post_form(
        client,
        decision_url,
        f"/initiatives/{initiative.public_id}/conseil/inscrire",
        {"sitting": day, "from": "decision"},
    )
    assert response.status_code == 303
    assert response.headers["location"].endswith(decision_url)

    page = client.get(decision_url)
    assert "en attente de la séance du conseil du 22 novembre 2026" in page.text
    assert f'<option value="{day}" selected>' in page.text
    assert '<option value="deliberation" selected>' in page.text
    assert 'name="decided_on" type="date" value="2026-11-22"' in page.text

    data = {"outcome": "approve", "act_kind": "deliberation", "act_reference": "D2026-31", "sitting": day}
    decided = post_form(client, decision_url, data=data)
    assert decided.status_code == 303
    assert state_of(world.database, initiative.id) == S.APPROVED
    assert item_of(world, initiative.id) is None
    assert len(entries(world, "council_agenda.close")) == 1
    with unit_of_work(world.database) as db:
        sitting_date = db.scalar(
            select(CouncilSitting.sitting_date)
            .join(Decision, Decision.sitting_id == CouncilSitting.id)
            .where(Decision.initiative_id == initiative.id)
        )
    assert sitting_date == dt.date(2026, 11, 22)


def test_a_sitting_with_initiatives_on_its_agenda_cannot_be_deleted(world: World) -> None:
    from app.admin import service as admin

    initiative = world.initiative(S.IN_REVIEW, title="Verger partagé")
    sitting_id = sitting(world)
    act(world, initiative.id, agenda.schedule, world.executive_actor, sitting_id)
    admin_actor = actor(world.agent, "admin")
    with pytest.raises(Conflict), unit_of_work(world.database) as db:
        admin.delete_sitting(db, admin_actor, world.territory_id, sitting_id)
    assert item_of(world, initiative.id) == (sitting_id, SITTING_DAY, "")
    act(world, initiative.id, agenda.take_off, world.executive_actor)
    with unit_of_work(world.database) as db:
        admin.delete_sitting(db, admin_actor, world.territory_id, sitting_id)
        assert db.scalar(select(func.count()).select_from(CouncilSitting)) == 0
