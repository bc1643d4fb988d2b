"""Milestones: who writes which side, in which states, listed in date order with the overdue ones marked."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from app.core.errors import Conflict, Forbidden, Invalid, NotFound
from app.db.session import unit_of_work
from app.followup import milestones
from app.followup import service as followup
from app.followup.milestones import MilestoneInput
from app.followup.models import Milestone
from app.initiatives.models import Initiative, InitiativeState
from app.ledger.models import Side
from tests.factories import Factory
from tests.followup.conftest import act, actor, audit_count, line_of, signed
from tests.review.conftest import World

S = InitiativeState
TODAY = dt.datetime(2027, 4, 12, 9, 0, tzinfo=dt.UTC)


def add(world: World, initiative_id: int, who: object, side: str = "residents", title: str = "Premier chantier",
        due_on: dt.date = dt.date(2027, 5, 1), line: str = "") -> Milestone:  # fmt: skip
    return act(world, initiative_id, milestones.add_milestone, who, MilestoneInput(side, title, due_on, line))  # type: ignore[no-any-return]


def rows(world: World, initiative_id: int, who: object = None) -> list[milestones.MilestoneRow]:
    with unit_of_work(world.database) as db:
        panel = followup.panel(db, who, db.get_one(Initiative, initiative_id))  # type: ignore[arg-type]
        assert panel is not None
        return panel.milestones


@time_machine.travel(TODAY, tick=False)
def test_promoters_write_the_residents_side_agents_every_side(world: World) -> None:
    initiative = signed(world)
    add(world, initiative.id, world.promoter_actor)
    with pytest.raises(Forbidden):
        add(world, initiative.id, world.promoter_actor, side="town", title="Livraison du terreau")
    town = line_of(world, initiative.id, Side.TOWN)
    add(world, initiative.id, world.agent_actor, side="town", title="Livraison du terreau",
        due_on=dt.date(2027, 4, 20), line=town.public_id)  # fmt: skip
    add(world, initiative.id, world.agent_actor, side="partners", title="Plants", due_on=dt.date(2027, 6, 1))
    listed = rows(world, initiative.id, world.promoter_actor)
    assert [m.title for m in listed] == ["Livraison du terreau", "Premier chantier", "Plants"]  # date order
    assert listed[0].commitment_label == "Bacs et terreau"
    assert [m.can_edit for m in listed] == [False, True, False]
    assert audit_count(world, "milestone.add") == 3


@time_machine.travel(TODAY, tick=False)
def test_overdue_milestones_are_marked_until_done(world: World) -> None:
    initiative = signed(world, state=S.IN_PROGRESS)
    late = add(world, initiative.id, world.promoter_actor, title="Semis", due_on=dt.date(2027, 4, 1))
    add(world, initiative.id, world.promoter_actor, title="Récolte", due_on=dt.date(2027, 9, 1))
    listed = rows(world, initiative.id)
    assert [(m.title, m.overdue) for m in listed] == [("Semis", True), ("Récolte", False)]
    act(world, initiative.id, milestones.mark_done, world.promoter_actor, late.public_id)
    done = rows(world, initiative.id)[0]
    assert not done.overdue
    assert done.done_on == dt.date(2027, 4, 12)
    with pytest.raises(Conflict):
        act(world, initiative.id, milestones.mark_done, world.promoter_actor, late.public_id)
    act(world, initiative.id, milestones.reopen, world.agent_actor, late.public_id)
    assert rows(world, initiative.id)[0].overdue


@time_machine.travel(TODAY, tick=False)
def test_edit_and_remove(world: World) -> None:
    initiative = signed(world)
    row = add(world, initiative.id, world.promoter_actor)
    with unit_of_work(world.database) as db:
        db.get_one(Milestone, row.id).overdue_flagged_at = TODAY
    act(world, initiative.id, milestones.update_milestone, world.promoter_actor, row.public_id,
        MilestoneInput("residents", "Chantier reporté", dt.date(2027, 5, 15)))  # fmt: skip
    with unit_of_work(world.database) as db:
        fresh = db.get_one(Milestone, row.id)
        assert (fresh.title, fresh.due_on, fresh.overdue_flagged_at) == ("Chantier reporté", dt.date(2027, 5, 15), None)
    with pytest.raises(Forbidden):  # a promoter cannot move a residents' milestone to the town's side
        act(world, initiative.id, milestones.update_milestone, world.promoter_actor, row.public_id,
            MilestoneInput("town", "Chantier reporté", dt.date(2027, 5, 15)))  # fmt: skip
    act(world, initiative.id, milestones.remove_milestone, world.promoter_actor, row.public_id)
    assert rows(world, initiative.id) == []
    assert audit_count(world, "milestone.remove") == 1
    with pytest.raises(NotFound):
        act(world, initiative.id, milestones.mark_done, world.promoter_actor, row.public_id)


@time_machine.travel(TODAY, tick=False)
def test_bad_values_are_refused_on_their_field(world: World) -> None:
    initiative = signed(world)
    with pytest.raises(Invalid) as empty:
        add(world, initiative.id, world.promoter_actor, title=" \u200b ")
    assert empty.value.field == "title"
    with pytest.raises(Invalid) as year:
        add(world, initiative.id, world.promoter_actor, due_on=dt.date(2062, 5, 1))
    assert year.value.field == "due_on"
    town = line_of(world, initiative.id, Side.TOWN)
    with pytest.raises(Invalid) as other_side:
        add(world, initiative.id, world.promoter_actor, line=town.public_id)
    assert other_side.value.field == "commitment_line"
    with pytest.raises(Invalid) as unknown:
        add(world, initiative.id, world.promoter_actor, line="nope")
    assert unknown.value.field == "commitment_line"
    assert rows(world, initiative.id) == []


@time_machine.travel(TODAY, tick=False)
def test_outsiders_and_closed_states(world: World, factory: Factory) -> None:
    initiative = signed(world)
    neighbour = factory.account("voisin@example.org")
    with pytest.raises(Forbidden):
        add(world, initiative.id, actor(neighbour))
    evaluated = signed(world, state=S.EVALUATED, title="Fini")
    with pytest.raises(Conflict):
        add(world, evaluated.id, world.promoter_actor)
    draft = signed(world, state=S.DRAFT, title="Brouillon")
    with pytest.raises(NotFound):
        add(world, draft.id, actor(neighbour))
    with pytest.raises(Conflict):
        add(world, draft.id, world.promoter_actor)
    factory.territory(slug="autre", name="Autreville", host="autre.test", insee="59350")
    stranger = factory.account("agent-autre@example.org", territory="autre", roles=("agent",))
    with pytest.raises(NotFound):
        add(world, initiative.id, actor(stranger, "agent"))
    assert rows(world, initiative.id) == []
