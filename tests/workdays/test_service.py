"""Work days through the service: planning, « Je participe », the register's rules, the agent's check
(realisations exactly once), the export and the notifications."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from sqlalchemy import select

from app.accounts.models import AgeBracket, Person, PersonKind
from app.core.errors import Conflict, Forbidden, Invalid, NotFound
from app.db.session import unit_of_work
from app.follows import service as follows
from app.initiatives.models import InitiativeMember, MemberRole
from app.ledger.models import CommitmentLine, LineKind, LineState, RealisationState
from app.notifications.models import Notification
from app.privacy.export import build_export
from app.workdays import service as workdays
from app.workdays.models import RegisterState, WorkDayState
from tests.factories import Factory
from tests.workdays.conftest import (
    S,
    World,
    actor,
    audit_count,
    check,
    enter,
    participants,
    plan,
    realisations,
    reload,
    resident,
    row,
    sign_up,
    signed,
    today,
    work_day_input,
)

# ---------------------------------------------------------------- planning


def test_work_days_are_planned_after_the_signature_by_promoters_and_agents(world: World, factory: Factory) -> None:
    reviewing = world.initiative(S.IN_REVIEW)
    with pytest.raises(Conflict), unit_of_work(world.database) as db:
        workdays.plan(db, world.agent_actor, world.territory_id, reviewing.public_id, work_day_input(today(world)))

    initiative = signed(world)
    neighbour = resident(factory, "voisin@example.org", "Victor Voisin")
    with pytest.raises(Forbidden), unit_of_work(world.database) as db:
        workdays.plan(db, actor(neighbour), world.territory_id, initiative.public_id, work_day_input(today(world)))
    with pytest.raises(Invalid) as refused, unit_of_work(world.database) as db:
        workdays.plan(
            db, world.promoter_actor, world.territory_id, initiative.public_id,
            work_day_input(today(world) - dt.timedelta(days=1)),
        )  # fmt: skip
    assert refused.value.field == "day"

    work_day = plan(world, initiative, who=world.promoter_actor, max_participants="12")
    assert work_day.state == WorkDayState.PLANNED
    assert work_day.register_state == RegisterState.EMPTY
    assert work_day.max_participants == 12
    assert audit_count(world, "work_day.plan") == 1


def test_followers_are_invited_to_a_new_work_day(world: World, factory: Factory) -> None:
    initiative = signed(world)
    fan = resident(factory, "fan@example.org", "Fanny Suiveuse")
    bystander = resident(factory, "passant@example.org", "Paul Passant")
    with unit_of_work(world.database) as db:
        follows.follow(db, actor(fan), world.territory_id, initiative.public_id)
    work_day = plan(world, initiative)
    with unit_of_work(world.database) as db:
        told = list(db.scalars(select(Notification).where(Notification.person_id == fan.person_id)))
        assert [n.link for n in told] == [f"/initiatives/{initiative.public_id}/chantiers/{work_day.public_id}"]
        assert "Nouveau chantier" in told[0].subject
        assert db.scalars(select(Notification).where(Notification.person_id == bystander.person_id)).all() == []


def test_the_end_comes_after_the_start() -> None:
    with pytest.raises(ValueError, match="après l'heure de début"):
        work_day_input(dt.date(2030, 1, 1), starts_at="14h", ends_at="9h30")
    assert work_day_input(dt.date(2030, 1, 1), starts_at="9h", ends_at="12").ends_at == dt.time(12, 0)


# ---------------------------------------------------------------- « Je participe »


def test_sign_up_is_once_per_person_and_flags_minors(world: World, factory: Factory) -> None:
    initiative = signed(world)
    work_day = plan(world, initiative)
    alice = resident(factory, "alice@example.org", "Alice Martin")
    teen = resident(factory, "teen@example.org", "Théo Jeune", AgeBracket.FROM_15_TO_17)

    first = sign_up(world, alice, initiative, work_day)
    again = sign_up(world, alice, initiative, work_day)
    assert again.public_id == first.public_id
    assert not first.is_minor
    assert sign_up(world, teen, initiative, work_day).is_minor
    assert len(participants(world, work_day)) == 2
    assert audit_count(world, "work_day.sign_up") == 2

    with unit_of_work(world.database) as db:
        assert workdays.withdraw(db, actor(alice), world.territory_id, initiative.public_id, work_day.public_id)
    with unit_of_work(world.database) as db:
        assert not workdays.withdraw(db, actor(alice), world.territory_id, initiative.public_id, work_day.public_id)
    assert [p.is_minor for p in participants(world, work_day)] == [True]


def test_sign_up_closes_when_full_cancelled_or_past(world: World, factory: Factory) -> None:
    initiative = signed(world)
    work_day = plan(world, initiative, max_participants="1")
    sign_up(world, resident(factory, "a@example.org", "Anne"), initiative, work_day)
    with pytest.raises(Conflict, match="complet"):
        sign_up(world, resident(factory, "b@example.org", "Bruno"), initiative, work_day)

    with unit_of_work(world.database) as db:
        workdays.cancel(db, world.agent_actor, world.territory_id, initiative.public_id, work_day.public_id, "Pluie")
    with pytest.raises(Conflict, match="closes"):
        sign_up(world, resident(factory, "c@example.org", "Chloé"), initiative, work_day)


# ---------------------------------------------------------------- the register


def test_register_errors_are_given_row_by_row_and_nothing_is_saved(world: World, factory: Factory) -> None:
    initiative = signed(world)
    work_day = plan(world, initiative)
    alice = sign_up(world, resident(factory, "alice@example.org", "Alice Martin"), initiative, work_day)
    teen = sign_up(world, resident(factory, "teen@example.org", "Théo", AgeBracket.FROM_15_TO_17), initiative, work_day)
    bruno = sign_up(world, resident(factory, "bruno@example.org", "Bruno"), initiative, work_day)
    chloe = sign_up(world, resident(factory, "chloe@example.org", "Chloé"), initiative, work_day)
    rows = [
        row(alice, safety=False, insurance=False),
        row(teen, parental=False),
        row(bruno, hours="25:00", remove=True),  # a person signed up cannot be removed from the register
        row(chloe, came=False, hours="2"),
        row(None, key="new-0", name="", hours="1"),
        row(None, key="new-1", name="Dora", hours="beaucoup"),
        row(None, key="new-2", name="", came=False, safety=False, insurance=False, hours=""),  # blank: ignored
    ]
    with pytest.raises(Invalid) as refused:
        enter(world, world.promoter_actor, initiative, work_day, rows)
    errors = refused.value.params["errors"]
    assert set(errors) == {
        f"p-{alice.public_id}-safety",
        f"p-{alice.public_id}-insurance",
        f"p-{teen.public_id}-parental",
        f"p-{bruno.public_id}-hours",
        f"p-{chloe.public_id}-came",
        "new-0-name",
        "new-1-hours",
    }
    assert "24 heures" in errors[f"p-{bruno.public_id}-hours"]
    assert all(p.came is None for p in participants(world, work_day))
    assert len(participants(world, work_day)) == 4
    assert reload(world, work_day).register_state == RegisterState.EMPTY
    with unit_of_work(world.database) as db:
        assert db.scalar(select(Person.id).where(Person.kind == PersonKind.WALK_IN)) is None


def test_register_takes_hours_like_the_ledger_and_walk_ins_by_name(world: World, factory: Factory) -> None:
    initiative = signed(world)
    work_day = plan(world, initiative)
    alice = sign_up(world, resident(factory, "alice@example.org", "Alice Martin"), initiative, work_day)
    bruno = sign_up(world, resident(factory, "bruno@example.org", "Bruno"), initiative, work_day)
    rows = [
        row(alice, hours="3,5"),
        row(bruno, came=False, safety=False, insurance=False, hours=""),
        row(None, key="new-0", name="Dora Passante", hours="2h15"),
        row(None, key="new-1", name="Léo Petit", minor=True, parental=True, hours="1:30"),
    ]
    enter(world, world.promoter_actor, initiative, work_day, rows)

    found = {p.person_id: p for p in participants(world, work_day)}
    assert found[alice.person_id].minutes == 210
    assert found[alice.person_id].came
    assert found[alice.person_id].safety_briefing
    assert found[bruno.person_id].came is False
    assert found[bruno.person_id].minutes is None
    with unit_of_work(world.database) as db:
        walk_ins = {
            p.display_name: p
            for p in db.scalars(
                select(Person).where(Person.kind == PersonKind.WALK_IN, Person.territory_id == world.territory_id)
            )
        }
    assert set(walk_ins) == {"Dora Passante", "Léo Petit"}
    assert found[walk_ins["Dora Passante"].id].minutes == 135
    leo = found[walk_ins["Léo Petit"].id]
    assert leo.is_minor
    assert leo.parental_permission
    assert not leo.signed_up
    assert reload(world, work_day).register_state == RegisterState.ENTERED
    assert audit_count(world, "work_day.register_enter") == 1

    # Entered again before the check: a walk-in added by mistake is removed, its person too.
    dora = found[walk_ins["Dora Passante"].id]
    enter(world, world.promoter_actor, initiative, work_day, [row(dora, remove=True)])
    assert {p.person_id for p in participants(world, work_day)} == {alice.person_id, bruno.person_id, leo.person_id}
    with unit_of_work(world.database) as db:
        assert db.get(Person, dora.person_id) is None


def test_register_waits_for_the_day(world: World, factory: Factory) -> None:
    initiative = signed(world)
    work_day = plan(world, initiative, day=today(world) + dt.timedelta(days=3))
    with pytest.raises(Conflict, match="le jour du chantier ou après"):
        enter(world, world.promoter_actor, initiative, work_day, [row(None, name="Dora")])


def test_agent_check_writes_each_attendees_hours_once(world: World, factory: Factory) -> None:
    initiative = signed(world)
    work_day = plan(world, initiative)
    alice_account = resident(factory, "alice@example.org", "Alice Martin")
    alice = sign_up(world, alice_account, initiative, work_day)
    bruno = sign_up(world, resident(factory, "bruno@example.org", "Bruno"), initiative, work_day)
    enter(
        world, world.promoter_actor, initiative, work_day,
        [row(alice, hours="3:30"), row(bruno, came=False, hours=""), row(None, name="Dora Passante", hours="2")],
    )  # fmt: skip

    result = check(world, world.agent_actor, initiative, work_day)
    assert (result.realisations, result.minutes) == (2, 330)
    lines = realisations(world, initiative)
    assert sorted(line.quantity for line in lines) == [120, 210]
    assert all(line.state == RealisationState.VERIFIED for line in lines)
    assert all(line.delivered_on == work_day.day for line in lines)
    by_participant = {p.public_id: p for p in participants(world, work_day)}
    assert {line.source_key for line in lines} == {
        f"work_day_participant:{p.public_id}" for p in by_participant.values() if p.came
    }
    assert by_participant[alice.public_id].realisation_line_id in {line.id for line in lines}
    with unit_of_work(world.database) as db:
        hours_line = db.scalar(
            select(CommitmentLine).where(
                CommitmentLine.initiative_id == initiative.id, CommitmentLine.kind == LineKind.VOLUNTEER_HOURS
            )
        )
        assert hours_line is not None
        assert {line.commitment_line_id for line in lines} == {hours_line.id}
        assert lines[0].value_cents == hours_line.unit_value_cents * lines[0].quantity // 60
    checked = reload(world, work_day)
    assert checked.register_state == RegisterState.CHECKED
    assert checked.register_checked_by_person_id == world.agent.person_id

    # Checked twice: refused, nothing more written; the register is closed to edits too.
    with pytest.raises(Conflict, match="déjà vérifiée"):
        check(world, world.agent_actor, initiative, work_day)
    with pytest.raises(Conflict, match="vérifiée"):
        enter(world, world.promoter_actor, initiative, work_day, [row(alice, hours="8")])
    assert len(realisations(world, initiative)) == 2
    assert audit_count(world, "work_day.register_check") == 1

    # Alice's download of her data says she came, and for how long.
    with unit_of_work(world.database) as db:
        (entry,) = build_export(db, actor(alice_account))["work_days"]
    assert (entry["initiative"], entry["came"], entry["minutes"]) == (initiative.public_id, True, 210)


def test_only_an_agent_not_tied_to_the_initiative_checks(world: World, factory: Factory) -> None:
    initiative = signed(world)
    work_day = plan(world, initiative)
    enter(world, world.promoter_actor, initiative, work_day, [row(None, name="Dora", hours="2")])
    with pytest.raises(Forbidden):
        check(world, world.promoter_actor, initiative, work_day)
    with pytest.raises(Forbidden):
        check(world, world.executive_actor, initiative, work_day)
    # An agent who is also a promoter of this initiative does not check it either.
    staff_promoter = factory.account("agent2@example.org", roles=("agent",), display_name="Agnès Agent")
    with unit_of_work(world.database) as db:
        db.add(
            InitiativeMember(
                territory_id=world.territory_id, initiative_id=initiative.id, person_id=staff_promoter.person_id,
                role=MemberRole.CO_PROMOTER, accepted_at=work_day.created_at,
            )
        )  # fmt: skip
    with pytest.raises(Forbidden):
        check(world, actor(staff_promoter, "agent"), initiative, work_day)
    assert realisations(world, initiative) == []
    assert check(world, world.agent_actor, initiative, work_day).realisations == 1


def test_check_refused_without_a_residents_hours_line(world: World, factory: Factory) -> None:
    initiative = signed(world)
    work_day = plan(world, initiative)
    enter(world, world.promoter_actor, initiative, work_day, [row(None, name="Dora", hours="2")])
    with unit_of_work(world.database) as db:
        for line in db.scalars(select(CommitmentLine).where(CommitmentLine.initiative_id == initiative.id)):
            if line.kind == LineKind.VOLUNTEER_HOURS:
                line.state = LineState.CANCELLED.value
    with pytest.raises(Conflict, match="Heures de bénévolat"):
        check(world, world.agent_actor, initiative, work_day)
    assert realisations(world, initiative) == []
    assert reload(world, work_day).register_state == RegisterState.ENTERED


# ---------------------------------------------------------------- telling people, exporting


def test_changes_and_cancellation_are_told_to_the_participants(world: World, factory: Factory) -> None:
    initiative = signed(world)
    work_day = plan(world, initiative, day=today(world) + dt.timedelta(days=4))
    alice = resident(factory, "alice@example.org", "Alice Martin")
    sign_up(world, alice, initiative, work_day)
    with unit_of_work(world.database) as db:
        workdays.update(
            db, world.agent_actor, world.territory_id, initiative.public_id, work_day.public_id,
            work_day_input(work_day.day, place="Square Lavoisier"), settings=world.settings,
        )  # fmt: skip
    with unit_of_work(world.database) as db:
        workdays.update(
            db, world.agent_actor, world.territory_id, initiative.public_id, work_day.public_id,
            work_day_input(work_day.day, place="Square Lavoisier", tasks="Planter"), settings=world.settings,
        )  # fmt: skip
        workdays.cancel(
            db, world.agent_actor, world.territory_id, initiative.public_id, work_day.public_id, "Orage annoncé",
            settings=world.settings,
        )  # fmt: skip
    with unit_of_work(world.database) as db:
        told = list(
            db.scalars(select(Notification).where(Notification.person_id == alice.person_id).order_by(Notification.id))
        )
    # Tasks alone changed: nobody is disturbed; the place and the cancellation are told.
    assert [n.kind for n in told] == ["work_days", "work_days"]
    assert "Square Lavoisier" in told[0].body
    assert "Orage annoncé" in told[1].body
    assert told[1].link.endswith(work_day.public_id)
    assert any(e.to_address == "alice@example.org" for e in factory.outbox())


def test_export_is_a_csv_for_staff_with_formulas_defused(world: World, factory: Factory) -> None:
    initiative = signed(world)
    work_day = plan(world, initiative)
    teen = sign_up(
        world, resident(factory, "teen@example.org", "Théo Jeune", AgeBracket.FROM_15_TO_17), initiative, work_day
    )
    enter(
        world, world.promoter_actor, initiative, work_day,
        [row(teen, parental=True, hours="3:30"), row(None, name="=HYPERLINK(\"http://x\")", hours="1,25")],
    )  # fmt: skip
    with pytest.raises(Forbidden), unit_of_work(world.database) as db:
        workdays.export_register(db, world.promoter_actor, world.territory_id, initiative.public_id, work_day.public_id)
    with unit_of_work(world.database) as db:
        filename, body = workdays.export_register(
            db, world.agent_actor, world.territory_id, initiative.public_id, work_day.public_id
        )
    assert filename.endswith(".csv")
    assert body.startswith("\ufeff".encode())
    lines = list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))
    assert lines[0] == [
        "Date", "Lieu", "Initiative", "Nom", "Mineur·e", "Présent·e", "Consignes de sécurité données",
        "Assurance acceptée", "Autorisation parentale", "Heures",
    ]  # fmt: skip
    day = work_day.day.isoformat()
    assert lines[1] == [day, "Rue Lavoisier", initiative.title, "Théo Jeune", "oui", "oui", "oui", "oui", "oui", "3,50"]
    # A name a spreadsheet would run as a formula is written as text.
    assert lines[2][3] == '\'=HYPERLINK("http://x")'
    assert lines[2][4:] == ["non", "oui", "oui", "oui", "", "1,25"]
    assert b";" in body.splitlines()[0]
    assert b"\r\n" in body
    assert audit_count(world, "work_day.register_export") == 1


def test_other_territories_and_outsiders_see_nothing(world: World, factory: Factory) -> None:
    initiative = signed(world)
    work_day = plan(world, initiative)
    with pytest.raises(NotFound), unit_of_work(world.database) as db:
        workdays.load(db, world.agent_actor, world.territory_id + 999, initiative.public_id)
    private = world.initiative(S.DRAFT)
    neighbour = resident(factory, "voisin@example.org", "Victor Voisin")
    with pytest.raises(NotFound), unit_of_work(world.database) as db:
        workdays.load(db, actor(neighbour), world.territory_id, private.public_id)
    # A resident who is not a promoter sees the day, not its register.
    with unit_of_work(world.database) as db:
        row_initiative, _standing = workdays.load(db, actor(neighbour), world.territory_id, initiative.public_id)
        day = workdays.get_work_day(db, row_initiative, work_day.public_id)
        with pytest.raises(NotFound):
            workdays.register_page(db, actor(neighbour), row_initiative, day)
