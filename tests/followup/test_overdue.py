"""The daily overdue job: both sides told once per overdue milestone and per overdue commitment."""

from __future__ import annotations

import datetime as dt

import time_machine
from sqlalchemy import func, select

from app.db.session import unit_of_work
from app.followup import milestones
from app.followup.milestones import MilestoneInput
from app.followup.models import CommitmentOverdueFlag, Milestone
from app.followup.overdue import flag_overdue
from app.initiatives.models import InitiativeState
from app.ledger import realisations
from app.ledger.models import CommitmentLine, Side
from app.notifications.models import Notification
from tests.followup.conftest import act, line_of, notified, signed
from tests.review.conftest import World

S = InitiativeState
MONDAY = dt.datetime(2027, 4, 12, 6, 0, tzinfo=dt.UTC)


def run(world: World, moment: dt.datetime) -> tuple[list[str], list[str]]:
    with time_machine.travel(moment, tick=False), unit_of_work(world.database) as db:
        report = flag_overdue(db, settings=world.settings)
        return report.milestones, report.commitments


def set_due(world: World, line_id: int, due_on: dt.date) -> None:
    with unit_of_work(world.database) as db:
        db.get_one(CommitmentLine, line_id).due_on = due_on


def notifications(world: World) -> int:
    with unit_of_work(world.database) as db:
        return db.scalar(select(func.count()).select_from(Notification)) or 0


def test_an_overdue_milestone_is_flagged_once_to_both_sides(world: World) -> None:
    with time_machine.travel(MONDAY, tick=False):
        initiative = signed(world, state=S.IN_PROGRESS)
        milestone = act(world, initiative.id, milestones.add_milestone, world.promoter_actor,
                        MilestoneInput("residents", "Semis", dt.date(2027, 4, 14)))  # fmt: skip
    before = notifications(world)
    assert run(world, MONDAY + dt.timedelta(days=2)) == ([], [])  # due today: not late yet
    flagged, _lines = run(world, MONDAY + dt.timedelta(days=3))
    assert flagged == [milestone.public_id]
    assert notified(world, world.promoter.person_id, "%étape%retard%") == 1
    assert notified(world, world.agent.person_id, "%étape%retard%") == 1
    # The job runs again (the next day, or twice the same day in two workers): nobody is told twice.
    assert run(world, MONDAY + dt.timedelta(days=3)) == ([], [])
    assert run(world, MONDAY + dt.timedelta(days=4)) == ([], [])
    assert notifications(world) == before + 2
    # A new due date that passes too is flagged again.
    with time_machine.travel(MONDAY + dt.timedelta(days=4), tick=False):
        act(world, initiative.id, milestones.update_milestone, world.promoter_actor, milestone.public_id,
            MilestoneInput("residents", "Semis", dt.date(2027, 4, 20)))  # fmt: skip
    assert run(world, MONDAY + dt.timedelta(days=9))[0] == [milestone.public_id]
    assert notified(world, world.agent.person_id, "%étape%retard%") == 2


def test_done_milestones_and_closed_initiatives_are_not_flagged(world: World) -> None:
    with time_machine.travel(MONDAY, tick=False):
        initiative = signed(world, state=S.IN_PROGRESS)
        done = act(world, initiative.id, milestones.add_milestone, world.promoter_actor,
                   MilestoneInput("residents", "Fait", dt.date(2027, 4, 13)))  # fmt: skip
        act(world, initiative.id, milestones.mark_done, world.promoter_actor, done.public_id)
        evaluated = signed(world, state=S.IN_PROGRESS, title="Bientôt évaluée")
        act(world, evaluated.id, milestones.add_milestone, world.promoter_actor,
            MilestoneInput("residents", "Oublié", dt.date(2027, 4, 13)))  # fmt: skip
    with unit_of_work(world.database) as db:
        from app.initiatives.models import Initiative

        db.get_one(Initiative, evaluated.id).state = S.EVALUATED
    assert run(world, MONDAY + dt.timedelta(days=5)) == ([], [])
    with unit_of_work(world.database) as db:
        assert (
            db.scalar(select(func.count()).select_from(Milestone).where(Milestone.overdue_flagged_at.is_not(None))) == 0
        )


def test_an_overdue_commitment_is_flagged_once_unless_a_verified_realisation_covers_it(world: World) -> None:
    with time_machine.travel(MONDAY, tick=False):
        initiative = signed(world, state=S.IN_PROGRESS)
        residents = line_of(world, initiative.id, Side.RESIDENTS)  # 6000 minutes
        town = line_of(world, initiative.id, Side.TOWN)  # 1 unit
        set_due(world, residents.id, dt.date(2027, 4, 10))
        set_due(world, town.id, dt.date(2027, 4, 10))
        # The town delivered and verified its part; the residents gave only part of their hours.
        with unit_of_work(world.database) as db:
            line = db.get_one(CommitmentLine, town.id)
            realisations.record_realisation(db, world.agent_actor, line, 1, dt.date(2027, 4, 9), verified=True)
            hours = db.get_one(CommitmentLine, residents.id)
            realisations.record_realisation(db, world.agent_actor, hours, 3000, dt.date(2027, 4, 9), verified=True)
    _milestones, lines = run(world, MONDAY)
    assert lines == [residents.public_id]
    assert notified(world, world.promoter.person_id, "%apport%retard%") == 1
    assert notified(world, world.agent.person_id, "%apport%retard%") == 1
    assert run(world, MONDAY + dt.timedelta(days=1)) == ([], [])
    with unit_of_work(world.database) as db:
        flags = db.scalars(select(CommitmentOverdueFlag)).all()
        assert [(f.commitment_line_id, f.due_on) for f in flags] == [(residents.id, dt.date(2027, 4, 10))]
    # An amendment gives the line a new date: flagged again once that date passes.
    set_due(world, residents.id, dt.date(2027, 5, 1))
    assert run(world, MONDAY + dt.timedelta(days=5)) == ([], [])
    assert run(world, dt.datetime(2027, 5, 2, 6, 0, tzinfo=dt.UTC))[1] == [residents.public_id]


def test_a_declared_but_unverified_realisation_does_not_cover_the_commitment(world: World) -> None:
    with time_machine.travel(MONDAY, tick=False):
        initiative = signed(world, state=S.IN_PROGRESS, town_cash_cents=0)
        residents = line_of(world, initiative.id, Side.RESIDENTS)
        set_due(world, residents.id, dt.date(2027, 4, 10))
        with unit_of_work(world.database) as db:
            line = db.get_one(CommitmentLine, residents.id)
            realisations.record_realisation(db, world.promoter_actor, line, 6000, dt.date(2027, 4, 9))
    assert run(world, MONDAY)[1] == [residents.public_id]


def test_the_job_is_registered_daily() -> None:
    from app.jobs.registry import handler_for, recurring_jobs

    spec = {r.kind: r for r in recurring_jobs()}["followup_overdue"]
    assert spec.every == dt.timedelta(days=1)
    assert handler_for("followup_overdue") is not None
