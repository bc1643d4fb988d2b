"""Starting and delivering the work: who may, from which state, what is recorded and who is told."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.core.errors import Conflict, Forbidden, Invalid, NotFound
from app.db.session import unit_of_work
from app.followup import service as followup
from app.followup.models import DeliveryReport
from app.initiatives.models import InitiativeState, MemberRole
from app.review import service as review
from tests.conventions.conftest import add_member
from tests.factories import Factory
from tests.followup.conftest import act, actor, audit_count, notified, signed
from tests.review.conftest import World, state_of

S = InitiativeState


def test_a_promoter_starts_the_work_and_the_agent_is_told(world: World) -> None:
    initiative = signed(world)
    act(world, initiative.id, followup.start_work, world.promoter_actor)
    assert state_of(world.database, initiative.id) == S.IN_PROGRESS
    assert audit_count(world, "initiative.start_work") == 1
    assert notified(world, world.agent.person_id, "%commencent%") == 1
    assert notified(world, world.promoter.person_id, "%commencent%") == 0  # the actor is not told of their own step


def test_an_agent_starts_the_work_and_the_promoters_are_told(world: World) -> None:
    initiative = signed(world)
    act(world, initiative.id, followup.start_work, world.agent_actor)
    assert state_of(world.database, initiative.id) == S.IN_PROGRESS
    assert notified(world, world.promoter.person_id, "%commencent%") == 1


@pytest.mark.parametrize("state", [S.APPROVED, S.CONVENTION_PROPOSED, S.IN_PROGRESS, S.DELIVERED, S.EVALUATED])
def test_starting_from_another_state_is_a_conflict_that_changes_nothing(world: World, state: InitiativeState) -> None:
    initiative = signed(world, state=state)
    with pytest.raises(Conflict):
        act(world, initiative.id, followup.start_work, world.agent_actor)
    assert state_of(world.database, initiative.id) == state
    assert audit_count(world, "initiative.start_work") == 0


def test_residents_who_are_not_promoters_may_not_start_it(world: World, factory: Factory) -> None:
    initiative = signed(world)
    neighbour = factory.account("voisin@example.org")
    with pytest.raises(Forbidden):  # the initiative is public: seen, but not theirs to move
        act(world, initiative.id, followup.start_work, actor(neighbour))
    assert state_of(world.database, initiative.id) == S.CONVENTION_SIGNED


def test_a_pending_co_promoter_may_not_start_it(world: World, factory: Factory) -> None:
    initiative = signed(world)
    invited = factory.account("invitee@example.org")
    add_member(world, initiative.id, invited, MemberRole.CO_PROMOTER, accepted=False)
    with pytest.raises(Forbidden):
        act(world, initiative.id, followup.start_work, actor(invited))


def test_another_towns_agent_gets_404(world: World, factory: Factory) -> None:
    initiative = signed(world)
    factory.territory(slug="autre", name="Autreville", host="autre.test", insee="59350")
    stranger = factory.account("agent-autre@example.org", territory="autre", roles=("agent",))
    with pytest.raises(NotFound):
        act(world, initiative.id, followup.start_work, actor(stranger, "agent"))
    assert state_of(world.database, initiative.id) == S.CONVENTION_SIGNED


def test_delivering_stores_the_report_and_tells_the_other_side(world: World) -> None:
    initiative = signed(world, state=S.IN_PROGRESS)
    act(
        world, initiative.id, followup.deliver, world.promoter_actor,
        "Douze bacs construits en trois samedis.", "Les voisins se parlent.",
    )  # fmt: skip
    assert state_of(world.database, initiative.id) == S.DELIVERED
    with unit_of_work(world.database) as db:
        report = db.scalars(select(DeliveryReport).where(DeliveryReport.initiative_id == initiative.id)).one()
        assert report.what_was_done == "Douze bacs construits en trois samedis."
        assert report.what_changed == "Les voisins se parlent."
        assert report.written_by_person_id == world.promoter.person_id
    assert audit_count(world, "initiative.deliver") == 1
    assert notified(world, world.agent.person_id, "%réalisée%") == 1


def test_an_agent_may_deliver_for_the_promoters(world: World) -> None:
    initiative = signed(world, state=S.IN_PROGRESS)
    act(world, initiative.id, followup.deliver, world.agent_actor, "Livré.")
    assert state_of(world.database, initiative.id) == S.DELIVERED


def test_delivering_without_a_report_or_twice_changes_nothing(world: World) -> None:
    initiative = signed(world, state=S.IN_PROGRESS)
    with pytest.raises(Invalid) as refused:
        act(world, initiative.id, followup.deliver, world.promoter_actor, "  \u200b ")
    assert refused.value.field == "what_was_done"
    assert state_of(world.database, initiative.id) == S.IN_PROGRESS
    act(world, initiative.id, followup.deliver, world.promoter_actor, "Fait.")
    with pytest.raises(Conflict):
        act(world, initiative.id, followup.deliver, world.promoter_actor, "Encore.")
    with unit_of_work(world.database) as db:
        assert len(db.scalars(select(DeliveryReport)).all()) == 1


def test_delivering_before_the_work_started_is_a_conflict(world: World) -> None:
    initiative = signed(world)
    with pytest.raises(Conflict):
        act(world, initiative.id, followup.deliver, world.promoter_actor, "Fait.")
    assert state_of(world.database, initiative.id) == S.CONVENTION_SIGNED


def test_an_initiative_in_progress_can_still_be_abandoned_by_the_review(world: World) -> None:
    initiative = signed(world, state=S.IN_PROGRESS)
    act(world, initiative.id, review.abandon, world.agent_actor, "Le terrain est vendu.")
    assert state_of(world.database, initiative.id) == S.ABANDONED
    with pytest.raises(Conflict):
        act(world, initiative.id, followup.deliver, world.promoter_actor, "Fait.")


def test_panel_offers_the_step_each_viewer_may_take(world: World, factory: Factory) -> None:
    initiative = signed(world)
    neighbour = factory.account("voisin@example.org")
    with unit_of_work(world.database) as db:
        from app.initiatives.models import Initiative

        row = db.get_one(Initiative, initiative.id)
        promoter = followup.panel(db, world.promoter_actor, row)
        agent = followup.panel(db, world.agent_actor, row)
        public = followup.panel(db, None, row)
        other = followup.panel(db, actor(neighbour), row)
    assert promoter is not None
    assert promoter.can_start
    assert not promoter.can_deliver
    assert promoter.is_party
    assert agent is not None
    assert agent.can_start
    assert agent.realisations is not None
    assert agent.proofs is not None
    assert public is not None
    assert not public.can_start
    assert public.realisations is None
    assert public.proofs is None
    assert other is not None
    assert not other.can_start
    assert not other.is_party
    assert other.proofs is None


def test_the_report_is_in_its_authors_data_export(world: World) -> None:
    from app.privacy.export import build_export

    initiative = signed(world, state=S.IN_PROGRESS)
    act(world, initiative.id, followup.deliver, world.promoter_actor, "Douze bacs.", "Un lieu de rencontre.")
    with unit_of_work(world.database) as db:
        [report] = build_export(db, world.promoter_actor)["delivery_reports"]
        assert (report["initiative"], report["what_was_done"]) == (initiative.public_id, "Douze bacs.")
        assert build_export(db, world.agent_actor)["delivery_reports"] == []
