"""Realisation lines: values in the commitment's unit and rate, exactly once per source key, who records,
verifies and cancels, and totals that count each realisation once and leave the match alone."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
import time_machine

from app.core.actor import SYSTEM
from app.core.errors import Conflict, Forbidden, Invalid, NotFound
from app.db.session import unit_of_work
from app.initiatives.models import Initiative, InitiativeState
from app.ledger import realisations
from app.ledger import service as ledger
from app.ledger.models import CommitmentLine, LineKind, LineState, RealisationSource, RealisationState, Side, Unit
from tests.factories import Factory
from tests.followup.conftest import act, actor, add_line, audit_count, line_of, signed
from tests.followup.conftest import realisations as rows_of
from tests.review.conftest import World

S = InitiativeState
TODAY = dt.datetime(2027, 4, 12, 9, 0, tzinfo=dt.UTC)
DAY = dt.date(2027, 4, 10)


def record(world: World, who: object, line: CommitmentLine, quantity: int, **kwargs: object) -> object:
    with unit_of_work(world.database) as db:
        fresh = db.get_one(CommitmentLine, line.id)
        row = realisations.record_realisation(db, who, fresh, quantity, kwargs.pop("day", DAY), **kwargs)  # type: ignore[arg-type]
        db.flush()
        db.expunge(row)
        return row


def totals(world: World, initiative_id: int) -> dict[str, tuple[int, int, int]]:
    with unit_of_work(world.database) as db:
        found = realisations.side_totals(db, db.get_one(Initiative, initiative_id))
        return {t.side: (t.committed_cents, t.delivered_cents, t.verified_cents) for t in found}


@time_machine.travel(TODAY, tick=False)
def test_value_is_the_quantity_at_the_commitments_own_unit_value(world: World) -> None:
    initiative = signed(world, state=S.IN_PROGRESS, residents_cents=100_000)  # 6000 min at 1 000 cents/h
    hours = line_of(world, initiative.id, Side.RESIDENTS)
    row = record(world, world.promoter_actor, hours, 90)  # 1 h 30
    assert (row.quantity, row.value_cents, row.state) == (90, 1500, RealisationState.DELIVERED)  # type: ignore[attr-defined]
    assert row.source == RealisationSource.MANUAL  # type: ignore[attr-defined]
    plants = add_line(world, initiative.id, quantity=10, unit_value_cents=333, value_cents=3330)
    assert record(world, world.agent_actor, plants, 3).value_cents == 999  # type: ignore[attr-defined]
    assert audit_count(world, "ledger.realisation.record") == 2


@time_machine.travel(TODAY, tick=False)
def test_more_than_committed_is_allowed_and_flagged(world: World) -> None:
    initiative = signed(world, state=S.IN_PROGRESS, residents_cents=100_000)
    hours = line_of(world, initiative.id, Side.RESIDENTS)
    record(world, world.promoter_actor, hours, 5000)
    record(world, world.promoter_actor, hours, 2000)
    with unit_of_work(world.database) as db:
        view = realisations.realisations_view(db, world.promoter_actor, db.get_one(Initiative, initiative.id))
    assert view is not None
    row = next(c for c in view.commitments if c.public_id == hours.public_id)
    assert row.beyond
    assert row.delivered_cents == 83_333 + 33_333
    assert line_of(world, initiative.id, Side.RESIDENTS).quantity == 6000  # the commitment is never changed


@time_machine.travel(TODAY, tick=False)
def test_exactly_once_per_source_key(world: World) -> None:
    initiative = signed(world, state=S.IN_PROGRESS)
    hours = line_of(world, initiative.id, Side.RESIDENTS)
    first = record(world, world.agent_actor, hours, 120, source=RealisationSource.WORK_DAY,
                   source_key="workday:abc:person:1", verified=True)  # fmt: skip
    again = record(world, world.agent_actor, hours, 120, source=RealisationSource.WORK_DAY,
                   source_key="workday:abc:person:1", verified=True)  # fmt: skip
    assert again.id == first.id  # type: ignore[attr-defined]
    assert len(rows_of(world, initiative.id)) == 1
    assert audit_count(world, "ledger.realisation.record") == 1
    town = line_of(world, initiative.id, Side.TOWN)
    with pytest.raises(Conflict):  # the key names another line's realisation
        record(world, world.agent_actor, town, 1, source_key="workday:abc:person:1")
    # A job acting for the town may record an automatic source, never a manual entry.
    system = dataclasses.replace(SYSTEM, territory_id=world.territory_id)
    by_job = record(world, system, hours, 60, source=RealisationSource.WORK_DAY, source_key="workday:abc:person:2",
                    verified=True)  # fmt: skip
    assert by_job.state == RealisationState.VERIFIED  # type: ignore[attr-defined]
    with pytest.raises(Forbidden):
        record(world, system, hours, 60)


@time_machine.travel(TODAY, tick=False)
def test_who_records_what(world: World, factory: Factory) -> None:
    initiative = signed(world, state=S.IN_PROGRESS)
    hours = line_of(world, initiative.id, Side.RESIDENTS)
    town = line_of(world, initiative.id, Side.TOWN)
    with pytest.raises(Forbidden):
        record(world, world.promoter_actor, town, 1)  # the town's side is the town's
    with pytest.raises(Forbidden):
        record(world, world.promoter_actor, hours, 60, verified=True)  # a promoter never verifies
    with pytest.raises(Forbidden):
        record(world, world.promoter_actor, hours, 60, source=RealisationSource.DELIVERY)
    with pytest.raises(Forbidden):
        record(world, world.agent_actor, hours, 60, source=RealisationSource.DELIVERY)  # a delivery is a town line
    neighbour = factory.account("voisin@example.org")
    with pytest.raises(Forbidden):
        record(world, actor(neighbour), hours, 60)
    factory.territory(slug="autre", name="Autreville", host="autre.test", insee="59350")
    stranger = factory.account("agent-autre@example.org", territory="autre", roles=("agent",))
    with pytest.raises(NotFound):
        record(world, actor(stranger, "agent"), hours, 60)
    delivery = record(world, world.agent_actor, town, 1, source=RealisationSource.DELIVERY)
    assert delivery.source == RealisationSource.DELIVERY  # type: ignore[attr-defined]
    assert len(rows_of(world, initiative.id)) == 1


@time_machine.travel(TODAY, tick=False)
def test_bad_values_and_states_change_nothing(world: World) -> None:
    initiative = signed(world, state=S.IN_PROGRESS)
    hours = line_of(world, initiative.id, Side.RESIDENTS)
    for quantity in (0, -5, 10**10):
        with pytest.raises(Invalid):
            record(world, world.promoter_actor, hours, quantity)
    with pytest.raises(Invalid) as future:
        record(world, world.promoter_actor, hours, 60, day=dt.date(2027, 4, 13))
    assert future.value.field == "delivered_on"
    cancelled = add_line(world, initiative.id, state=LineState.CANCELLED)
    with pytest.raises(Conflict):
        record(world, world.agent_actor, cancelled, 1)
    before = signed(world, state=S.APPROVED, title="Pas encore signée")
    with pytest.raises(Conflict):
        record(world, world.agent_actor, line_of(world, before.id, Side.RESIDENTS), 60)
    assert rows_of(world, initiative.id) == []
    assert rows_of(world, before.id) == []


@time_machine.travel(TODAY, tick=False)
def test_verify_and_cancel(world: World, factory: Factory) -> None:
    initiative = signed(world, state=S.IN_PROGRESS)
    hours = line_of(world, initiative.id, Side.RESIDENTS)
    first = record(world, world.promoter_actor, hours, 60)
    second = record(world, world.promoter_actor, hours, 30)
    with pytest.raises(Forbidden):
        act(world, initiative.id, realisations.verify_realisation, world.promoter_actor, first.public_id)  # type: ignore[attr-defined]
    act(world, initiative.id, realisations.verify_realisation, world.agent_actor, first.public_id)  # type: ignore[attr-defined]
    with pytest.raises(Conflict):
        act(world, initiative.id, realisations.verify_realisation, world.agent_actor, first.public_id)  # type: ignore[attr-defined]
    # The promoters cancel their own entry while it is not verified; a verified one only the town cancels.
    with pytest.raises(Invalid):
        act(world, initiative.id, realisations.cancel_realisation, world.promoter_actor, second.public_id, " ")  # type: ignore[attr-defined]
    act(world, initiative.id, realisations.cancel_realisation, world.promoter_actor, second.public_id, "Doublon")  # type: ignore[attr-defined]
    with pytest.raises(Conflict):
        act(world, initiative.id, realisations.cancel_realisation, world.promoter_actor, first.public_id, "Erreur")  # type: ignore[attr-defined]
    with pytest.raises(Conflict):
        act(world, initiative.id, realisations.verify_realisation, world.agent_actor, second.public_id)  # type: ignore[attr-defined]
    neighbour = factory.account("voisin@example.org")
    with pytest.raises(NotFound):  # realisations are for the promoters and the town's staff
        act(world, initiative.id, realisations.cancel_realisation, actor(neighbour), first.public_id, "Non")  # type: ignore[attr-defined]
    states = [(r.state, r.cancel_reason) for r in rows_of(world, initiative.id)]
    assert states == [(RealisationState.VERIFIED, ""), (RealisationState.CANCELLED, "Doublon")]
    act(world, initiative.id, realisations.cancel_realisation, world.agent_actor, first.public_id, "Mal saisi")  # type: ignore[attr-defined]
    assert audit_count(world, "ledger.realisation.verify") == 1
    assert audit_count(world, "ledger.realisation.cancel") == 2


@time_machine.travel(TODAY, tick=False)
def test_totals_count_each_realisation_once_and_never_the_cancelled_ones(world: World) -> None:
    initiative = signed(world, state=S.IN_PROGRESS, residents_cents=100_000, town_cash_cents=50_000)
    hours = line_of(world, initiative.id, Side.RESIDENTS)
    town = line_of(world, initiative.id, Side.TOWN)
    with unit_of_work(world.database) as db:
        balance_before = ledger.balance(db, db.get_one(Initiative, initiative.id))
    verified = record(world, world.promoter_actor, hours, 600)  # 10 000 cents
    record(world, world.promoter_actor, hours, 300)  # 5 000 cents, declared only
    wrong = record(world, world.promoter_actor, hours, 6000)
    act(world, initiative.id, realisations.verify_realisation, world.agent_actor, verified.public_id)  # type: ignore[attr-defined]
    act(world, initiative.id, realisations.cancel_realisation, world.agent_actor, wrong.public_id, "Erreur")  # type: ignore[attr-defined]
    record(world, world.agent_actor, town, 1, source=RealisationSource.DELIVERY, verified=True)
    assert totals(world, initiative.id) == {
        "residents": (100_000, 15_000, 10_000),
        "town": (50_000, 50_000, 50_000),
        "partners": (0, 0, 0),
    }
    with unit_of_work(world.database) as db:
        row = db.get_one(Initiative, initiative.id)
        # The match, the cap and the envelope use the commitments only.
        assert ledger.balance(db, row) == balance_before
        view = ledger.ledger_view(db, None, row)
    assert [(d.side, d.delivered_cents, d.verified_cents) for d in view.done] == [
        ("residents", 15_000, 10_000), ("town", 50_000, 50_000), ("partners", 0, 0),
    ]  # fmt: skip


def test_ledger_view_shows_no_done_totals_before_the_signature(world: World) -> None:
    initiative = signed(world, state=S.IN_REVIEW)
    with unit_of_work(world.database) as db:
        assert ledger.ledger_view(db, None, db.get_one(Initiative, initiative.id)).done == []


@time_machine.travel(TODAY, tick=False)
def test_form_entry_parses_hours_and_makes_town_lines_deliveries(world: World) -> None:
    initiative = signed(world, state=S.IN_PROGRESS)
    hours = line_of(world, initiative.id, Side.RESIDENTS)
    town = line_of(world, initiative.id, Side.TOWN)
    row = act(world, initiative.id, realisations.record_from_form, world.promoter_actor, hours.public_id, "2:30", DAY)
    assert row.quantity == 150
    delivery = act(world, initiative.id, realisations.record_from_form, world.agent_actor, town.public_id, "1", DAY)
    assert delivery.source == RealisationSource.DELIVERY
    with pytest.raises(Invalid) as bad:
        act(world, initiative.id, realisations.record_from_form, world.promoter_actor, hours.public_id, "abc", DAY)
    assert bad.value.field == "quantity"
    with pytest.raises(Invalid) as unknown:
        act(world, initiative.id, realisations.record_from_form, world.promoter_actor, "inconnu", "1", DAY)
    assert unknown.value.field == "line"
    other = signed(world, state=S.IN_PROGRESS, title="Autre projet")
    other_line = line_of(world, other.id, Side.RESIDENTS)
    with pytest.raises(Invalid):  # a line of another initiative is not one of this initiative's
        act(world, initiative.id, realisations.record_from_form, world.promoter_actor, other_line.public_id, "1", DAY)


def test_units_follow_the_commitment(world: World) -> None:
    with time_machine.travel(TODAY, tick=False):
        initiative = signed(world, state=S.IN_PROGRESS)
        loan = add_line(world, initiative.id, side=Side.TOWN, kind=LineKind.EQUIPMENT_LOAN, label="Remorque",
                        quantity=3, unit=Unit.DAYS, unit_value_cents=4_000, value_cents=12_000)  # fmt: skip
        assert record(world, world.agent_actor, loan, 2).value_cents == 8_000  # type: ignore[attr-defined]
