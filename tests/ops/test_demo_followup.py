"""Demo follow-up of Loos-en-Gohelle: the signed initiatives moved on through the services, dated in
the past, within the ledger's rules, and the pages that show them answer."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.accounts import sessions
from app.accounts.models import Account, Person, PersonKind
from app.agent_tasks.models import AgentTask
from app.audit.models import AuditEntry
from app.config import Settings
from app.db.session import Database, unit_of_work
from app.demo import load_demo
from app.demo_followup import EQUIPMENT, FOLLOW_UPS, HISTORY_REFERENCES, WALK_IN
from app.equipment.models import BookingState, Equipment, EquipmentBooking
from app.evaluation.models import Evaluation, FineTrace, SurveyAnswer, UpkeepCheck
from app.follows.models import InitiativeFollow
from app.followup.models import DeliveryReport, Milestone
from app.history.models import HistoricalRecord
from app.initiatives.models import Initiative
from app.initiatives.models import InitiativeState as S
from app.initiatives.permissions import is_public
from app.ledger import service as ledger
from app.ledger.models import CommitmentLine, LineKind, RealisationLine, RealisationSource, RealisationState, Side
from app.library.models import LibraryEntry
from app.territories.models import Territory
from app.updates.models import ProgressUpdate
from app.web.auth import session_cookie_name
from app.workdays.models import RegisterState, WorkDay, WorkDayParticipant


@pytest.fixture
def loaded(database: Database, settings: Settings) -> Database:
    summary = load_demo(database, settings)
    assert len(summary.followups) == 12  # every signed convention of the demo moved on
    assert summary.equipment == len(EQUIPMENT)
    assert summary.historical == len(HISTORY_REFERENCES)
    assert summary.shared == 1
    return database


def _loos(db: Session) -> Territory:
    return db.scalars(select(Territory).where(Territory.slug == "loos-en-gohelle")).one()


def _today(territory: Territory) -> dt.date:
    return dt.datetime.now(ZoneInfo(territory.timezone)).date()


def _by_title(db: Session, title: str) -> Initiative:
    return db.scalars(select(Initiative).where(Initiative.title == title)).one()


def test_the_signed_initiatives_move_on_within_the_rules(loaded: Database) -> None:
    with unit_of_work(loaded) as db:
        loos = _loos(db)
        today = _today(loos)
        moved = [_by_title(db, f.title) for f in FOLLOW_UPS]
        for spec, initiative in zip(FOLLOW_UPS, moved, strict=True):
            assert initiative.state == spec.state, initiative.title
        states = Counter(i.state for i in db.scalars(select(Initiative).where(Initiative.territory_id == loos.id)))
        assert states[S.IN_PROGRESS] >= 2
        assert states[S.DELIVERED] >= 2
        assert states[S.EVALUATED] >= 3
        assert states[S.CONVENTION_SIGNED] == 0

        # Each step went through the workflow, in order, dated in the past (after the signature).
        for initiative in db.scalars(
            select(Initiative).where(
                Initiative.territory_id == loos.id,
                Initiative.state.in_([S.IN_PROGRESS, S.DELIVERED, S.EVALUATED, S.ABANDONED]),
                Initiative.id.not_in(select(HistoricalRecord.initiative_id)),
            )
        ):
            moments = {
                action: at
                for action, at in db.execute(
                    select(AuditEntry.action, AuditEntry.created_at).where(
                        AuditEntry.subject_type == "initiative", AuditEntry.subject_id == initiative.public_id
                    )
                )
            }
            chain = ["initiative.sign_convention", "initiative.start_work", "initiative.deliver", "initiative.evaluate"]
            reached = [moments[a] for a in chain if a in moments]
            assert len(reached) >= 2, initiative.title
            assert reached == sorted(reached), initiative.title
            assert initiative.state_changed_at is not None
            assert initiative.state_changed_at.date() < today
            if initiative.state == S.ABANDONED:
                abandon = db.scalars(
                    select(AuditEntry).where(
                        AuditEntry.subject_id == initiative.public_id, AuditEntry.action == "initiative.abandon"
                    )
                ).one()
                assert abandon.reason
                assert initiative.committed_cents == 0
            # The ledger's rules hold; what was done never changes what was committed.
            balance = ledger.balance(db, initiative)
            assert balance.match_ok, initiative.title
            assert balance.cap_ok, initiative.title
        # Nothing the demo wrote is dated in the future.
        latest = db.scalar(select(func.max(AuditEntry.created_at)))
        assert latest is not None
        assert (latest if latest.tzinfo else latest.replace(tzinfo=dt.UTC)) <= dt.datetime.now(dt.UTC)

        # Realisations: against a live commitment of the same initiative, in the commitment's unit and value.
        realised = list(db.scalars(select(RealisationLine).where(RealisationLine.territory_id == loos.id)))
        assert realised
        for row in realised:
            line = db.get_one(CommitmentLine, row.commitment_line_id)
            assert line.initiative_id == row.initiative_id
            assert row.delivered_on <= today
            if row.state == RealisationState.VERIFIED:
                assert row.verified_by_person_id is not None
                assert row.verified_at is not None
        states_of = Counter(r.state for r in realised)
        assert states_of[RealisationState.VERIFIED] > states_of[RealisationState.DELIVERED] > 0

        # The delivered and evaluated ones have their report; the evaluated ones a final evaluation.
        for initiative in moved:
            if initiative.state in {S.DELIVERED, S.EVALUATED}:
                assert db.scalar(select(DeliveryReport.id).where(DeliveryReport.initiative_id == initiative.id))
            final = db.scalar(select(Evaluation.finalised_at).where(Evaluation.initiative_id == initiative.id))
            assert (final is not None) == (initiative.state == S.EVALUATED), initiative.title
        assert db.scalar(select(func.count(SurveyAnswer.id))) >= 8
        garden = _by_title(db, "Jardin partagé de la Cité 5")
        assert db.scalar(select(func.count(SurveyAnswer.id)).where(SurveyAnswer.initiative_id == garden.id)) >= 3
        traces = list(db.scalars(select(FineTrace).where(FineTrace.territory_id == loos.id)))
        assert any(t.publishable for t in traces)
        assert not any(t.publishable and t.involves_minor for t in traces)

        # Yearly upkeep: answered « maintained », one « needs help » (a task for the agents), one waiting.
        checks = list(db.scalars(select(UpkeepCheck).where(UpkeepCheck.territory_id == loos.id)))
        statuses = Counter(c.status for c in checks)
        assert statuses["maintained"] >= 1
        assert statuses["needs_help"] == 1
        assert statuses[None] == 1
        helped = next(c for c in checks if c.status == "needs_help")
        assert helped.task_id is not None
        assert db.get_one(AgentTask, helped.task_id).status == "open"
        assert all(c.due_on < today for c in checks)
        assert all(c.answered_at is None or c.answered_at.date() >= c.due_on for c in checks)

        # Shared with the peer library; three initiatives older than the platform, imported.
        entry = db.scalars(select(LibraryEntry)).one()
        assert entry.source_territory_id == loos.id
        records = set(db.scalars(select(HistoricalRecord.reference)))
        assert records == set(HISTORY_REFERENCES)


def test_work_days_equipment_updates_and_followers(loaded: Database) -> None:
    with unit_of_work(loaded) as db:
        loos = _loos(db)
        today = _today(loos)
        verger = _by_title(db, "Verger partagé de la Cité des Castors")
        days = list(db.scalars(select(WorkDay).where(WorkDay.initiative_id == verger.id).order_by(WorkDay.day)))
        past, upcoming = days
        assert past.day < today <= upcoming.day

        # The past work day: its register checked by the agent, a walk-in without an account on it,
        # and each attendee's hours a verified realisation of the residents' volunteer hours.
        assert past.register_state == RegisterState.CHECKED
        came = list(
            db.scalars(
                select(WorkDayParticipant).where(
                    WorkDayParticipant.work_day_id == past.id, WorkDayParticipant.came.is_(True)
                )
            )
        )
        walk_in = next(p for p in came if not p.signed_up)
        person = db.get_one(Person, walk_in.person_id)
        assert (person.kind, person.display_name) == (PersonKind.WALK_IN, WALK_IN)
        assert db.scalar(select(Account.id).where(Account.person_id == person.id)) is None
        assert len(came) >= 3
        for participant in came:
            assert participant.safety_briefing
            assert participant.insurance_ack
            realisation = db.get_one(RealisationLine, participant.realisation_line_id)
            assert realisation.source == RealisationSource.WORK_DAY
            assert realisation.state == RealisationState.VERIFIED
            assert realisation.quantity == participant.minutes
            assert realisation.delivered_on == past.day
            line = db.get_one(CommitmentLine, realisation.commitment_line_id)
            assert (line.initiative_id, line.side, line.kind) == (verger.id, Side.RESIDENTS, LineKind.VOLUNTEER_HOURS)

        # The next one: sign-ups and equipment booked from the town's inventory.
        signed_up = db.scalar(
            select(func.count(WorkDayParticipant.id)).where(WorkDayParticipant.work_day_id == upcoming.id)
        )
        assert (signed_up or 0) >= 3
        inventory = {e.name: e for e in db.scalars(select(Equipment).where(Equipment.territory_id == loos.id))}
        assert {"Bétonnière", "Échafaudage", "Remorque", "Outillage de jardin (lot)"} <= set(inventory)
        bookings = list(db.scalars(select(EquipmentBooking).where(EquipmentBooking.territory_id == loos.id)))
        ahead = [b for b in bookings if b.work_day_id == upcoming.id]
        assert ahead
        assert all(b.state == BookingState.BOOKED and b.starts_on >= today for b in ahead)
        behind = [b for b in bookings if b.work_day_id == past.id]
        assert {b.state for b in behind} == {BookingState.RETURNED, BookingState.OUT}
        assert all(b.ends_on < today for b in behind)
        for booking in bookings:
            assert booking.quantity <= inventory[db.get_one(Equipment, booking.equipment_id).name].quantity

        # Milestones of the projects under way: one overdue, some done, some ahead.
        under_way = [verger.id, _by_title(db, "Repair café de la Cité 12").id]
        rows = list(db.scalars(select(Milestone).where(Milestone.initiative_id.in_(under_way))))
        overdue = [m for m in rows if m.done_on is None and m.due_on < today]
        assert len(overdue) == 1
        assert any(m.done_on is not None for m in rows)
        assert any(m.due_on > today for m in rows)
        assert all(m.done_on is None or m.done_on < today for m in rows)

        # Progress updates (with a %), followers, and most public initiatives on the map.
        news = list(db.scalars(select(ProgressUpdate).where(ProgressUpdate.initiative_id == verger.id)))
        assert len(news) >= 2
        assert all(n.progress_percent is not None for n in news)
        assert db.scalar(select(func.count(InitiativeFollow.id)).where(InitiativeFollow.initiative_id == verger.id))
        public = [
            i
            for i in db.scalars(select(Initiative).where(Initiative.territory_id == loos.id))
            if is_public(i) and i.state != S.DRAFT
        ]
        located = [i for i in public if i.latitude is not None and i.longitude is not None]
        assert len(located) >= 0.8 * len(public)
        for i in located:
            assert i.latitude is not None
            assert i.longitude is not None
            assert Decimal("50.43") < i.latitude < Decimal("50.48")
            assert Decimal("2.75") < i.longitude < Decimal("2.83")


def test_the_follow_up_pages_answer(loaded: Database, app: FastAPI) -> None:
    with unit_of_work(loaded) as db:
        ids = {
            title: _by_title(db, title).public_id
            for title in (
                "Verger partagé de la Cité des Castors",
                "Balade contée de la mémoire minière",
                "Fresque de la mémoire minière de la Cité Belgique",
                "Cuve d'eau de pluie des jardins familiaux",
            )
        }
        agent = db.scalars(select(Account).where(Account.email == "agent@loos.example")).one()
        token = sessions.open_session(db, agent, "pytest")
    pages = ["/initiatives", "/initiatives/carte", *(f"/initiatives/{pid}" for pid in ids.values())]
    with TestClient(app, base_url="http://localhost", follow_redirects=False) as client:
        for path in pages:
            assert client.get(path).status_code == 200, path
        client.cookies.set(session_cookie_name(app.state.settings), token)
        for path in [*pages, "/materiel/semaine", "/evaluations", "/bibliotheque"]:
            assert client.get(path).status_code == 200, path
        fresque = ids["Fresque de la mémoire minière de la Cité Belgique"]
        assert client.get(f"/initiatives/{fresque}/evaluation").status_code == 200
        assert "Broyeur de végétaux" in client.get("/materiel/semaine").text  # out, and late
        assert "Verger partagé" in client.get("/initiatives/carte").text
