"""Demo initiatives of Loos-en-Gohelle: loaded through the services, idempotent, within the rules."""

from __future__ import annotations

from collections import Counter
from hashlib import sha256

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.accounts.models import AgeBracket, Person
from app.accounts.service import authenticate
from app.config import Settings
from app.conventions.models import Convention, ConventionSignature
from app.conventions.service import release_unsigned
from app.db.base import Base
from app.db.session import Database, unit_of_work
from app.demo import DEMO_PASSWORD, load_demo
from app.demo_initiatives import INITIATIVES, RESIDENTS
from app.funds.models import Fund, FundEnvelope
from app.history.models import HistoricalRecord
from app.initiatives.models import Decision, Initiative, InitiativeMember, MemberRole
from app.initiatives.models import InitiativeState as S
from app.initiatives.workflow import COMMITTED_STATES, SIGNED_STATES
from app.ledger import service as ledger
from app.ledger.models import CommitmentLine, Side
from app.mail.models import OutboxEmail
from app.review.models import CouncilAgendaItem
from app.territories.models import Neighbourhood, Territory

# From the convention on: signed ones moved on (app.demo_followup), one abandoned after its signature.
CONVENTION_STATES = {S.CONVENTION_PROPOSED, *SIGNED_STATES, S.ABANDONED}
DECIDED = {S.APPROVED, S.AWAITING_ENVELOPE, S.DECLINED, *CONVENTION_STATES}


def _counts(database: Database) -> dict[str, int]:
    with unit_of_work(database) as db:
        return {t.name: db.scalar(select(func.count()).select_from(t)) or 0 for t in Base.metadata.sorted_tables}


@pytest.fixture
def loaded(database: Database, settings: Settings) -> Database:
    summary = load_demo(database, settings)
    assert summary.initiatives == len(INITIATIVES)
    assert sorted(summary.promoters) == sorted(r.email for r in RESIDENTS)
    assert summary.envelopes == 5
    return database


def _loos(db: Session) -> Territory:
    return db.scalars(select(Territory).where(Territory.slug == "loos-en-gohelle")).one()


def _lived(db: Session, territory: Territory) -> list[Initiative]:
    """The territory's initiatives lived on the platform (not the historical ones imported from a file)."""
    imported = select(HistoricalRecord.initiative_id)
    return list(
        db.scalars(select(Initiative).where(Initiative.territory_id == territory.id, Initiative.id.not_in(imported)))
    )


def test_loading_twice_changes_nothing(loaded: Database, settings: Settings) -> None:
    counts = _counts(loaded)
    again = load_demo(loaded, settings)
    assert not again.changed
    assert (again.initiatives, again.envelopes, again.promoters) == (0, 0, [])
    assert _counts(loaded) == counts


def test_about_25_initiatives_in_every_reachable_state_over_five_years(loaded: Database) -> None:
    with unit_of_work(loaded) as db:
        loos = _loos(db)
        rows = _lived(db, loos)
        assert 22 <= len(rows) <= 30
        states = Counter(i.state for i in rows)
        # Every state but « convention signée »: the demo's signed conventions all moved on.
        reachable = set(S) - {S.CONVENTION_SIGNED}
        assert set(states) == {s.value for s in reachable}
        assert sum(states[s] for s in {*COMMITTED_STATES, S.ABANDONED}) >= 10
        assert states[S.DECLINED] >= 2
        submitted = [i for i in rows if i.state != S.DRAFT]
        assert all(i.submitted_at is not None and i.fiscal_year is not None for i in submitted)
        years = {i.fiscal_year for i in submitted}
        assert len(years) == 5
        assert max(years) - min(years) == 4
        # Dates are set back into their fiscal year; the opening of the file precedes it.
        for i in submitted:
            assert i.submitted_at is not None
            assert i.created_at <= i.submitted_at
            assert i.submitted_at.year == i.fiscal_year
        for i in rows:
            if i.state == S.DECLINED:
                assert i.decline_reason
            if i.state in DECIDED:
                decision = db.scalars(select(Decision).where(Decision.initiative_id == i.id)).one()
                assert decision.outcome == (S.APPROVED if i.state in CONVENTION_STATES else i.state)
                assert decision.decided_on.year == i.fiscal_year
                assert i.decided_at is not None
                assert i.decided_at.date() == decision.decided_on
            if i.state in {S.CHANGES_REQUESTED, S.ON_HOLD}:
                assert i.paused_since is not None
        # Older projects are valued with the SMIC of their time: several volunteer-hour rates.
        rates = set(db.scalars(select(CommitmentLine.unit_value_cents).where(CommitmentLine.kind == "volunteer_hours")))
        assert len(rates) >= 4


def test_no_initiative_breaks_the_match_and_approvals_fit_their_envelopes(loaded: Database) -> None:
    with unit_of_work(loaded) as db:
        loos = _loos(db)
        rows = _lived(db, loos)
        for initiative in rows:
            balance = ledger.balance(db, initiative)
            assert balance.match_ok, (initiative.title, balance.warnings)
            assert balance.cap_ok, initiative.title
            has_town = db.scalar(
                select(func.count(CommitmentLine.id)).where(
                    CommitmentLine.initiative_id == initiative.id, CommitmentLine.side == Side.TOWN
                )
            )
            assert bool(has_town) == (initiative.state != S.DRAFT)
            if initiative.state in COMMITTED_STATES:
                assert initiative.committed_envelope_id is not None
                assert initiative.committed_cents == balance.town_cash_cents > 0
            else:
                assert initiative.committed_envelope_id is None
                assert initiative.committed_cents == 0

        fund = db.scalars(select(Fund).where(Fund.territory_id == loos.id)).one()
        envelopes = list(db.scalars(select(FundEnvelope).where(FundEnvelope.fund_id == fund.id)))
        overall = sorted(e.fiscal_year for e in envelopes if e.neighbourhood_id is None)
        assert len(overall) == 5
        assert overall == list(range(overall[0], overall[0] + 5))
        for envelope in envelopes:
            committed = sum(i.committed_cents for i in rows if i.committed_envelope_id == envelope.id)
            assert envelope.committed_cents == committed <= envelope.amount_cents
            if envelope.neighbourhood_id is None and envelope.fiscal_year < overall[-1]:
                assert 2_000_000 <= envelope.amount_cents <= 3_000_000
                assert envelope.committed_cents > 0
        # The picnic table waits for Cité Bellevue's own envelope, which the bike shelter filled.
        waiting = next(i for i in rows if i.state == S.AWAITING_ENVELOPE)
        bellevue = db.scalars(select(Neighbourhood).where(Neighbourhood.name == "Cité Bellevue")).one()
        assert waiting.neighbourhood_id == bellevue.id
        own = next(e for e in envelopes if e.neighbourhood_id == bellevue.id)
        need = ledger.balance(db, waiting).town_cash_cents
        assert own.amount_cents - own.committed_cents < need


def test_the_skatepark_is_led_by_a_minor_with_an_adult_guarantor(loaded: Database) -> None:
    with unit_of_work(loaded) as db:
        skatepark = db.scalars(select(Initiative).where(Initiative.title.like("Modules de skatepark%"))).one()
        assert skatepark.state == S.EVALUATED
        members = list(db.scalars(select(InitiativeMember).where(InitiativeMember.initiative_id == skatepark.id)))
        ages = {m.role: db.get_one(Person, m.person_id).age_bracket for m in members if m.person_id is not None}
        assert ages[MemberRole.PROMOTER] == AgeBracket.UNDER_15
        assert ages[MemberRole.GUARDIAN] == AgeBracket.ADULT
        assert all(m.accepted_at is not None for m in members)
        # The guarantor signed the convention for the promoters.
        convention = db.scalars(select(Convention).where(Convention.initiative_id == skatepark.id)).one()
        guardian = next(m.person_id for m in members if m.role == MemberRole.GUARDIAN)
        promoters_signature = db.scalars(
            select(ConventionSignature).where(
                ConventionSignature.convention_id == convention.id, ConventionSignature.party == "promoters"
            )
        ).one()
        assert promoters_signature.person_id == guardian


def test_conventions_are_signed_on_paper_then_in_the_app_and_one_waits(loaded: Database, settings: Settings) -> None:
    with unit_of_work(loaded) as db:
        loos = _loos(db)
        rows = {i.id: i for i in db.scalars(select(Initiative).where(Initiative.territory_id == loos.id))}
        conventions = list(db.scalars(select(Convention).where(Convention.territory_id == loos.id)))
        for convention in conventions:
            state = rows[convention.initiative_id].state
            assert state in ({*SIGNED_STATES, S.ABANDONED} if convention.signed_at else {S.CONVENTION_PROPOSED})
        assert all(c.text_sha256 == sha256(c.text.encode()).hexdigest() for c in conventions)
        waiting = [c for c in conventions if c.signed_at is None]
        assert len(waiting) == 1
        # Recent enough for the daily job not to release it.
        assert release_unsigned(db, settings=settings).abandoned == []
        signatures = list(db.scalars(select(ConventionSignature).where(ConventionSignature.territory_id == loos.id)))
        methods = Counter(sig.method for sig in signatures)
        assert methods["paper"] >= 4
        assert methods["online"] >= 4
        assert all(sig.scan_file_id is not None for sig in signatures if sig.method == "paper")
        for sig in signatures:
            convention = next(c for c in conventions if c.id == sig.convention_id)
            assert sig.text_sha256 == convention.text_sha256
        # Small projects sign a simple commitment, by the promoters only.
        for convention in conventions:
            parties = {sig.party for sig in signatures if sig.convention_id == convention.id}
            if convention.signed_at is not None:
                assert parties == ({"promoters"} if convention.kind == "commitment" else {"promoters", "town"})
        # The compost project waits for the next council sitting.
        compost = next(i for i in rows.values() if i.title.startswith("Composteurs partagés"))
        assert compost.state == S.IN_REVIEW
        assert db.scalar(select(CouncilAgendaItem.id).where(CouncilAgendaItem.initiative_id == compost.id))


def test_promoters_log_in_and_mail_stays_reasonable(loaded: Database) -> None:
    with unit_of_work(loaded) as db:
        loos = _loos(db)
        for resident in RESIDENTS:
            assert authenticate(db, loos.id, resident.email, DEMO_PASSWORD) is not None
        # The demo residents chose weekly summaries: the history does not send one e-mail per step.
        emails = db.scalar(select(func.count(OutboxEmail.id))) or 0
        assert emails < 40
