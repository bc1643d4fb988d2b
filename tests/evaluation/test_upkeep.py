"""Upkeep checks: the yearly schedule until the end of the upkeep period (none on the lighter
track), the daily job (idempotent, reminders once, the overdue reminder once), and the answers."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.agent_tasks.models import AgentTask
from app.conventions.models import ConventionKind
from app.core.errors import Conflict
from app.db.session import unit_of_work
from app.evaluation import upkeep
from app.evaluation.models import UpkeepCheck
from app.initiatives.models import Initiative, InitiativeState
from app.jobs.registry import handler_for, recurring_jobs, using_settings
from tests.conventions.conftest import png_bytes
from tests.evaluation.conftest import World, audit_count, count, notifications, sign_convention
from tests.factories import Factory, form_fields

S = InitiativeState
SIGNED = dt.datetime(2026, 1, 10, 11, 0, tzinfo=dt.UTC)


def evaluated(world: World, *, months: int = 36, kind: str = ConventionKind.CONVENTION, **kw: Any) -> Initiative:
    initiative = world.initiative(S.EVALUATED, **kw)
    with unit_of_work(world.database) as db:
        db.get_one(Initiative, initiative.id).assigned_agent_person_id = world.agent.person_id
    sign_convention(world, initiative.id, signed_at=SIGNED, months=months, kind=kind)
    return world.reload(initiative.id)


def run_job_at(world: World, moment: dt.datetime) -> None:
    with time_machine.travel(moment, tick=False), unit_of_work(world.database) as db, using_settings(world.settings):
        handler_for("upkeep_checks")(db, {})


def checks(world: World, initiative_id: int) -> list[UpkeepCheck]:
    with unit_of_work(world.database) as db:
        rows = list(
            db.scalars(select(UpkeepCheck).where(UpkeepCheck.initiative_id == initiative_id).order_by(UpkeepCheck.id))
        )
        for row in rows:
            db.expunge(row)
        return rows


def at(year: int, month: int, day: int) -> dt.datetime:
    return dt.datetime(year, month, day, 7, 0, tzinfo=dt.UTC)


def test_schedule() -> None:
    signed = dt.date(2024, 2, 29)
    assert upkeep.add_months(signed, 12) == dt.date(2025, 2, 28)
    assert upkeep.schedule(signed, 36) == [dt.date(2025, 2, 28), dt.date(2026, 2, 28), dt.date(2027, 2, 28)]
    assert upkeep.schedule(dt.date(2026, 1, 10), 30) == [dt.date(2027, 1, 10), dt.date(2028, 1, 10)]
    assert upkeep.schedule(dt.date(2026, 1, 10), 6) == [dt.date(2026, 7, 10)]
    assert upkeep.schedule(dt.date(2026, 1, 10), 0) == []
    dates = upkeep.schedule(dt.date(2026, 1, 10), 24)
    assert upkeep.due_now(dates, dt.date(2027, 1, 9)) is None
    assert upkeep.due_now(dates, dt.date(2027, 1, 10)) == (1, dt.date(2027, 1, 10))
    assert upkeep.due_now(dates, dt.date(2028, 3, 1)) == (2, dt.date(2028, 1, 10))
    assert upkeep.due_now(dates, dt.date(2029, 1, 10)) is None  # a year after the last one


def test_yearly_checks_until_the_end_with_reminders_once(world: World) -> None:
    assert "upkeep_checks" in {r.kind for r in recurring_jobs()}
    initiative = evaluated(world, months=36)
    promoter, agent = world.promoter.person_id, world.agent.person_id

    run_job_at(world, at(2026, 12, 20))
    assert checks(world, initiative.id) == []

    run_job_at(world, at(2027, 1, 10))
    run_job_at(world, at(2027, 1, 10) + dt.timedelta(hours=5))  # the same day again: nothing more
    (first,) = checks(world, initiative.id)
    assert (first.number, first.due_on) == (1, dt.date(2027, 1, 10))
    assert len(notifications(world, promoter)) == 1
    assert len(notifications(world, agent)) == 1
    assert notifications(world, promoter)[0].link == f"/initiatives/{initiative.public_id}/entretien"
    assert audit_count(world, "upkeep.open") == 1
    assert audit_count(world, "upkeep.remind") == 1

    run_job_at(world, at(2027, 2, 8))  # 29 days late: not overdue yet
    assert audit_count(world, "upkeep.overdue") == 0
    run_job_at(world, at(2027, 2, 9))
    run_job_at(world, at(2027, 2, 20))
    assert audit_count(world, "upkeep.overdue") == 1
    assert len(notifications(world, promoter)) == 2
    assert len(notifications(world, agent)) == 2

    run_job_at(world, at(2028, 1, 10))
    run_job_at(world, at(2029, 1, 10))
    run_job_at(world, at(2030, 1, 10))
    run_job_at(world, at(2031, 1, 10))
    assert [(c.number, c.due_on) for c in checks(world, initiative.id)] == [
        (1, dt.date(2027, 1, 10)),
        (2, dt.date(2028, 1, 10)),
        (3, dt.date(2029, 1, 10)),
    ]
    assert audit_count(world, "upkeep.remind") == 3
    assert audit_count(world, "upkeep.overdue") == 3  # each check once, however often the job runs


def test_no_check_on_the_lighter_track_nor_before_evaluation(world: World) -> None:
    commitment = evaluated(world, kind=ConventionKind.COMMITMENT, title="Boîte à livres")
    no_upkeep = evaluated(world, months=0, title="Fête de quartier")
    delivered = world.initiative(S.DELIVERED, title="Pas encore évaluée")
    sign_convention(world, delivered.id, signed_at=SIGNED)
    short = evaluated(world, months=6, title="Six mois")
    run_job_at(world, at(2026, 7, 10))
    run_job_at(world, at(2027, 1, 10))
    run_job_at(world, at(2028, 1, 10))
    assert checks(world, commitment.id) == []
    assert checks(world, no_upkeep.id) == []
    assert checks(world, delivered.id) == []
    assert [c.due_on for c in checks(world, short.id)] == [dt.date(2026, 7, 10)]


def _open_check(world: World, initiative: Initiative) -> str:
    with unit_of_work(world.database) as db:
        report = upkeep.run_upkeep(db, now=SIGNED + dt.timedelta(days=366), settings=world.settings)
    return report.opened[0]


def _answer(client: TestClient, public_id: str, check_id: str, files: Any = None, **values: str) -> Any:
    page = client.get(f"/initiatives/{public_id}/entretien")
    assert page.status_code == 200, page.text[:300]
    return client.post(
        f"/initiatives/{public_id}/entretien/{check_id}", data={**form_fields(page.text), **values}, files=files
    )


def test_a_promoter_answers_once_and_the_page_shows_it(client: TestClient, factory: Factory, world: World) -> None:
    initiative = evaluated(world)
    check_id = _open_check(world, initiative)
    resident = factory.account("voisine@example.org", display_name="Véra Voisine")
    factory.login(client, resident)
    assert client.get(f"/initiatives/{initiative.public_id}/entretien").status_code == 403
    home = client.get("/")
    forbidden = client.post(
        f"/initiatives/{initiative.public_id}/entretien/{check_id}", data={**form_fields(home.text), "status": "gone"}
    )
    assert forbidden.status_code == 403

    factory.login(client, world.promoter)
    show = client.get(f"/initiatives/{initiative.public_id}").text
    assert "Répondre au point d'entretien" in show
    response = _answer(client, initiative.public_id, check_id, status="maintained", comment="Tout pousse.")
    assert response.status_code == 303
    (check,) = checks(world, initiative.id)
    assert (check.status, check.answered_by_person_id) == ("maintained", world.promoter.person_id)
    assert audit_count(world, "upkeep.answer") == 1
    assert notifications(world, world.agent.person_id)[-1].subject.startswith("Entretien de")
    again = _answer(client, initiative.public_id, check_id, status="gone", comment="Disparu")
    assert again.status_code == 409
    assert checks(world, initiative.id)[0].status == "maintained"
    client.cookies.clear()
    public = client.get(f"/initiatives/{initiative.public_id}").text
    assert "Entretenu au" in public
    assert "Tout pousse." not in public  # the comment stays with the promoters and the staff


def test_needs_help_opens_a_task_and_a_photo_stays_private(client: TestClient, factory: Factory, world: World) -> None:
    initiative = evaluated(world)
    check_id = _open_check(world, initiative)
    factory.login(client, world.agent)
    missing = _answer(client, initiative.public_id, check_id, status="needs_help")
    assert missing.status_code == 422
    assert 'id="f-comment-error"' in missing.text
    bad_photo = _answer(
        client, initiative.public_id, check_id, status="needs_help", comment="Le bac fuit.",
        files={"photo": ("bac.png", b"pas une image", "image/png")},
    )  # fmt: skip
    assert bad_photo.status_code == 422
    assert count(world, AgentTask) == 0
    assert checks(world, initiative.id)[0].answered_at is None

    response = _answer(
        client, initiative.public_id, check_id, status="needs_help", comment="Le bac fuit.",
        files={"photo": ("bac.png", png_bytes(), "image/png")},
    )  # fmt: skip
    assert response.status_code == 303
    (check,) = checks(world, initiative.id)
    assert check.status == "needs_help"
    assert check.task_id is not None
    assert check.photo_file_id is not None
    with unit_of_work(world.database) as db:
        task = db.scalars(select(AgentTask)).one()
        assert "besoin d'aide" in task.subject
        assert "Le bac fuit." in task.body
        assert task.person_id == world.promoter.person_id

    photo = f"/initiatives/{initiative.public_id}/entretien/{check_id}/photo"
    assert client.get(photo).headers["content-type"] == "image/jpeg"
    factory.login(client, world.promoter)
    assert client.get(photo).status_code == 200
    assert "A besoin d&#39;aide pour son entretien" in client.get(f"/initiatives/{initiative.public_id}").text
    resident = factory.account("voisine@example.org", display_name="Véra Voisine")
    factory.login(client, resident)
    assert client.get(photo).status_code == 404


def test_a_check_is_answered_once_in_the_service(world: World) -> None:
    initiative = evaluated(world)
    check_id = _open_check(world, initiative)
    with unit_of_work(world.database) as db:
        row = db.get_one(Initiative, initiative.id)
        upkeep.answer_check(db, world.promoter_actor, row, check_id, upkeep.UpkeepInput("gone", "Détruit par l'orage"))
    with unit_of_work(world.database) as db:
        row = db.get_one(Initiative, initiative.id)
        with pytest.raises(Conflict):
            upkeep.answer_check(db, world.agent_actor, row, check_id, upkeep.UpkeepInput("maintained"))
    assert checks(world, initiative.id)[0].status == "gone"


def test_a_check_opened_late_still_gets_its_30_days(world: World) -> None:
    initiative = evaluated(world, months=24)
    run_job_at(world, at(2027, 3, 1))  # evaluated late: the first anniversary has passed
    assert [c.due_on for c in checks(world, initiative.id)] == [dt.date(2027, 1, 10)]
    run_job_at(world, at(2027, 3, 2))
    assert audit_count(world, "upkeep.overdue") == 0
    run_job_at(world, at(2027, 3, 31))
    assert audit_count(world, "upkeep.overdue") == 1
