"""Demo petitions of Loos-en-Gohelle: six civic petitions answered in every way but one still under
review, a duplicate not published, the legal request at 120 of 500, dated in the past, counted by
the counting job, loaded once; their pages answer."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.accounts import sessions
from app.accounts.models import Account
from app.audit.models import AuditEntry
from app.config import Settings
from app.db.base import Base
from app.db.session import Database, unit_of_work
from app.demo import load_demo
from app.demo_petitions import BELLEVUE, BELLEVUE_INITIATIVE, BENCH, CALL, CIVIC, DUPLICATE, LEGAL_TITLE, LIGHTING
from app.initiatives.models import Initiative
from app.petitions.counting import counted_clause
from app.petitions.models import (
    AnswerOutcome,
    LegalQuarterSignature,
    LegalStage,
    PaperBatch,
    Petition,
    PetitionAnswer,
    PetitionCount,
    PetitionKind,
    PetitionSignature,
    PetitionState,
    RollStatus,
    SignatureMethod,
)
from app.territories.models import Territory
from app.web.auth import session_cookie_name


@pytest.fixture
def loaded(database: Database, settings: Settings) -> Database:
    summary = load_demo(database, settings)
    assert len(summary.petitions) == len(CIVIC) + 2  # the duplicate and the legal request
    assert summary.signatures > 600
    return database


def _loos(db: Session) -> Territory:
    return db.scalars(select(Territory).where(Territory.slug == "loos-en-gohelle")).one()


def _petitions(db: Session) -> dict[str, Petition]:
    return {p.title: p for p in db.scalars(select(Petition).where(Petition.territory_id == _loos(db).id))}


def _answer(db: Session, petition: Petition) -> PetitionAnswer | None:
    return db.scalar(select(PetitionAnswer).where(PetitionAnswer.petition_id == petition.id))


def _counts(database: Database) -> dict[str, int]:
    with unit_of_work(database) as db:
        return {t.name: db.scalar(select(func.count()).select_from(t)) or 0 for t in Base.metadata.sorted_tables}


def test_six_civic_petitions_answered_but_one_and_counted(loaded: Database) -> None:
    with unit_of_work(loaded) as db:
        loos = _loos(db)
        today = dt.datetime.now(ZoneInfo(loos.timezone)).date()
        now = dt.datetime.now(dt.UTC)
        petitions = _petitions(db)
        civic = [petitions[spec.title] for spec in CIVIC]
        assert all(p.kind == PetitionKind.CIVIC for p in civic)
        outcomes: Counter[str | None] = Counter()
        for spec, petition in zip(CIVIC, civic, strict=True):
            count = db.get_one(PetitionCount, petition.id)
            assert count.total == spec.signatures, petition.title
            assert 15 <= count.total <= 250
            assert count.town <= count.total
            # The count is what the counted rows and paper batches give.
            rows = db.scalar(
                select(func.count(PetitionSignature.id)).where(
                    PetitionSignature.petition_id == petition.id,
                    counted_clause(),  # type: ignore[arg-type]
                )
            )
            paper = db.scalar(select(func.sum(PaperBatch.signatures)).where(PaperBatch.petition_id == petition.id))
            assert (rows or 0) + (paper or 0) == count.total
            # Dated within the last two years, every signature after the opening and in the past.
            assert petition.opened_at is not None
            assert petition.submitted_at is not None
            assert now - dt.timedelta(days=731) < petition.created_at < petition.opened_at < now
            first, last = db.execute(
                select(func.min(PetitionSignature.counted_at), func.max(PetitionSignature.counted_at)).where(
                    PetitionSignature.petition_id == petition.id
                )
            ).one()
            assert petition.opened_at < first <= last < now
            # Thresholds stamped by the counting job, from the signatures' dates.
            if count.town >= petition.answer_threshold:
                assert petition.answer_threshold_reached_at is not None
                assert petition.opened_at < petition.answer_threshold_reached_at <= last
                assert petition.answer_due_on is not None
            else:
                assert petition.answer_threshold_reached_at is None
            answer = _answer(db, petition)
            if spec.reply is None:
                continue
            assert answer is not None
            assert answer.published_at is not None
            assert petition.opened_at < answer.published_at < now
            assert answer.published_by_person_id is not None
            outcomes[answer.outcome] += 1
            assert petition.state == PetitionState.CLOSED
            assert petition.closes_on is not None
            assert petition.closes_on < today
            assert petition.closed_at is not None
            assert petition.closed_at < now - dt.timedelta(days=7)

        assert set(outcomes) == {
            AnswerOutcome.ACCEPTED,
            AnswerOutcome.PARTLY,
            AnswerOutcome.REFUSED,
            AnswerOutcome.TRANSMITTED,
            AnswerOutcome.CONVERTED,
        }
        relations = Counter(
            db.scalars(
                select(PetitionSignature.relation).where(PetitionSignature.petition_id.in_([p.id for p in civic]))
            )
        )
        assert relations["lives"] > sum(relations.values()) / 2
        assert {"works", "uses", "none"} <= set(relations)

        # One still open, past its threshold, its answer due and drafted, not published.
        bench = petitions[BENCH]
        assert bench.state == PetitionState.OPEN
        assert bench.answer_threshold_reached_at is not None
        assert bench.answer_due_on is not None
        assert bench.answer_due_on >= today
        draft = _answer(db, bench)
        assert draft is not None
        assert draft.published_at is None

        # Transmitted to the agglomeration, which replied later.
        glass = _answer(db, petitions["Des colonnes à verre à la Cité 12"])
        assert glass is not None
        assert glass.outcome == AnswerOutcome.TRANSMITTED
        assert glass.authority == CALL
        assert glass.transmitted_on is not None
        assert glass.authority_reply_on is not None
        assert glass.published_at is not None
        assert glass.transmitted_on <= glass.published_at.date() < glass.authority_reply_on < today
        assert glass.authority_reply

        # The lighting petition comes from the declined initiative; the benches became the demo initiative.
        assert petitions[LIGHTING].from_initiative_id is not None
        bellevue = petitions[BELLEVUE]
        initiative = db.get_one(Initiative, bellevue.converted_initiative_id)
        assert initiative.title == BELLEVUE_INITIATIVE
        answered = _answer(db, bellevue)
        assert answered is not None
        assert answered.published_at is not None
        assert answered.published_at < initiative.created_at

        # A paper batch, and a duplicate refused for a reason of the charter.
        assert db.scalar(select(func.count(PaperBatch.id)).where(PaperBatch.territory_id == loos.id)) == 1
        duplicate = petitions[DUPLICATE.title]
        assert duplicate.state == PetitionState.REJECTED
        assert duplicate.rejection_reason == "duplicate"

        # The audit trail is dated as it happened: nothing about these petitions dated today.
        demo_ids = [p.public_id for p in petitions.values()]
        recent = db.scalar(
            select(func.count(AuditEntry.id)).where(
                AuditEntry.subject_type == "petition",
                AuditEntry.subject_id.in_(demo_ids),
                AuditEntry.created_at > now - dt.timedelta(days=1),
            )
        )
        assert recent == 0


def test_the_legal_request_is_at_120_of_500(loaded: Database) -> None:
    with unit_of_work(loaded) as db:
        loos = _loos(db)
        legal = _petitions(db)[LEGAL_TITLE]
        assert legal.kind == PetitionKind.LEGAL
        assert legal.state == PetitionState.OPEN
        assert legal.legal_stage == LegalStage.COLLECTING
        assert (legal.electors_frozen, legal.answer_threshold) == (5000, 500)
        assert legal.threshold_basis == "total"
        assert db.get_one(PetitionCount, legal.id).total == 120
        assert legal.answer_threshold_reached_at is None
        signatures = list(db.scalars(select(PetitionSignature).where(PetitionSignature.petition_id == legal.id)))
        assert len(signatures) == 120
        methods = Counter(s.method for s in signatures)
        assert methods[SignatureMethod.ACCOUNT] >= 3
        assert methods[SignatureMethod.ACCOUNT] + methods[SignatureMethod.PAPER] == 120
        for s in signatures:
            assert s.surname
            assert s.first_names
            assert s.address
            assert s.birth_date is not None
            assert s.roll_status == RollStatus.PENDING
        # Each holds its elector's one signature of the quarter, and no elector signed twice.
        quarters = list(db.scalars(select(LegalQuarterSignature).where(LegalQuarterSignature.territory_id == loos.id)))
        assert {q.signature_id for q in quarters} == {s.id for s in signatures}
        assert len({(q.quarter, q.elector_key) for q in quarters}) == 120


def test_loading_twice_changes_nothing(loaded: Database, settings: Settings) -> None:
    counts = _counts(loaded)
    again = load_demo(loaded, settings)
    assert not again.changed
    assert (again.petitions, again.signatures) == ([], 0)
    assert _counts(loaded) == counts


def test_the_petition_pages_answer(loaded: Database, app: FastAPI) -> None:
    with unit_of_work(loaded) as db:
        petitions = _petitions(db)
        public = [p.public_id for p in petitions.values() if p.state in (PetitionState.OPEN, PetitionState.CLOSED)]
        duplicate = petitions[DUPLICATE.title].public_id
        agent = db.scalars(select(Account).where(Account.email == "agent@loos.example")).one()
        token = sessions.open_session(db, agent, "pytest")
    pages = ["/petitions", "/petitions?tab=answered", "/petitions/charte", *(f"/petitions/{pid}" for pid in public)]
    with TestClient(app, base_url="http://localhost", follow_redirects=False) as client:
        for path in pages:
            assert client.get(path).status_code == 200, path
        assert (
            "Communauté d'agglomération de Lens-Liévin"
            in client.get(f"/petitions/{petitions['Des colonnes à verre à la Cité 12'].public_id}").text
        )
        assert client.get(f"/petitions/{duplicate}").status_code == 404
        client.cookies.set(session_cookie_name(app.state.settings), token)
        for path in [*pages, "/petitions/a-moderer", f"/petitions/{duplicate}"]:
            assert client.get(path).status_code == 200, path
