"""Ledger service: dated rates copied onto lines, sides and kinds, the balance and the envelope."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.core.errors import Conflict, Forbidden, Invalid
from app.db.session import Database, unit_of_work
from app.funds import service as funds
from app.funds.forms import RateForm
from app.funds.models import Fund, FundEnvelope, Rate, RateKind
from app.initiatives.models import Initiative, InitiativeState
from app.ledger import service as ledger
from app.ledger.models import CommitmentLine, LineKind, LineState, Side
from app.ledger.service import LineInput
from tests.factories import Factory
from tests.ledger.helpers import agent, default_fund_id, make_initiative

HOURS = LineKind.VOLUNTEER_HOURS


def _add(database: Database, tid: int, public_id: str, data: LineInput, *roles: str) -> CommitmentLine:
    with unit_of_work(database) as db:
        line = ledger.add_line(db, agent(tid, *roles), public_id, tid, data)
        db.expunge(line)
        return line


def _initiative(database: Database, public_id: str) -> Initiative:
    with unit_of_work(database) as db:
        initiative = db.scalar(select(Initiative).where(Initiative.public_id == public_id))
        assert initiative is not None
        db.expunge(initiative)
        return initiative


def test_a_new_territory_has_the_smic_history_and_a_fifty_fifty_fund(factory: Factory, database: Database) -> None:
    tid = factory.territory()
    with unit_of_work(database) as db:
        smic = db.scalars(
            select(Rate.value_cents).where(Rate.territory_id == tid, Rate.kind == RateKind.VOLUNTEER_HOUR)
        ).all()
        assert sorted(smic) == [1025, 1048, 1057, 1085, 1107, 1127, 1152, 1165, 1188, 1202]
        fund = db.scalar(select(Fund).where(Fund.territory_id == tid))
        assert fund is not None
        assert fund.enforcement == "warn"
        assert fund.cap_town_cash_cents == 800_000
        envelope = db.scalar(select(FundEnvelope).where(FundEnvelope.fund_id == fund.id))
        assert envelope is not None
        assert envelope.amount_cents == 3_000_000
        assert funds.seed_default_rates(db, tid) == 0  # idempotent
        funds.seed_default_fund(db, tid)
        assert db.scalar(select(func.count()).select_from(Fund).where(Fund.territory_id == tid)) == 1
        assert db.scalar(select(func.count()).select_from(FundEnvelope).where(FundEnvelope.fund_id == fund.id)) == 1


@pytest.mark.parametrize(
    ("start", "cents"),
    [
        (dt.date(2023, 3, 15), 1127),
        (dt.date(2024, 12, 1), 1188),
        (dt.date(2024, 10, 31), 1165),
        (dt.date(2021, 1, 1), 1025),
    ],
)
def test_rate_on_takes_the_latest_rate_effective_that_day(
    factory: Factory, database: Database, start: dt.date, cents: int
) -> None:
    tid = factory.territory()
    with unit_of_work(database) as db:
        assert funds.rate_on(db, tid, RateKind.VOLUNTEER_HOUR, start).value_cents == cents
        with pytest.raises(Invalid):
            funds.rate_on(db, tid, RateKind.VOLUNTEER_HOUR, dt.date(2020, 12, 31))


def test_lines_copy_the_rate_of_the_start_date_and_a_new_rate_never_rewrites_them(
    factory: Factory, database: Database
) -> None:
    tid = factory.territory()
    in_2023 = make_initiative(database, tid, start_on=dt.date(2023, 3, 15))
    in_2024 = make_initiative(database, tid, start_on=dt.date(2024, 12, 1))
    in_2026 = make_initiative(database, tid, start_on=dt.date(2026, 7, 1))
    hours = LineInput(kind=HOURS, label="Plantation", quantity=150)  # 2 h 30
    assert _add(database, tid, in_2023, hours).unit_value_cents == 1127
    line_2024 = _add(database, tid, in_2024, hours)
    assert (line_2024.unit_value_cents, line_2024.value_cents) == (1188, 2970)
    before = _add(database, tid, in_2026, hours)
    assert before.unit_value_cents == 1202

    with unit_of_work(database) as db:
        form = RateForm(kind=RateKind.VOLUNTEER_HOUR, value_cents="12,50", effective_from=dt.date(2026, 6, 15))
        funds.add_rate(db, agent(tid, "admin"), tid, form)
    after = _add(database, tid, in_2026, hours)
    assert after.unit_value_cents == 1250
    with unit_of_work(database) as db:
        kept = db.get_one(CommitmentLine, before.id)
        assert (kept.unit_value_cents, kept.value_cents, kept.rate_id) == (1202, 3005, before.rate_id)
        assert db.get_one(CommitmentLine, line_2024.id).value_cents == 2970


def test_a_rate_is_never_added_before_the_last_one(factory: Factory, database: Database) -> None:
    tid = factory.territory()
    early = RateForm(kind=RateKind.VOLUNTEER_HOUR, value_cents="9,99", effective_from=dt.date(2025, 1, 1))
    later = RateForm(kind=RateKind.STAFF_HOUR, value_cents="9,99", effective_from=dt.date(2030, 1, 1))
    with unit_of_work(database) as db:
        with pytest.raises(Conflict):
            funds.add_rate(db, agent(tid, "admin"), tid, early)
        with pytest.raises(Forbidden):
            funds.add_rate(db, agent(tid), tid, later)


def test_kinds_units_and_town_cash(factory: Factory, database: Database) -> None:
    tid = factory.territory()
    public_id = make_initiative(database, tid, start_on=dt.date(2025, 4, 1), beneficiary_kind="association")
    loan = _add(
        database, tid, public_id, LineInput(kind=LineKind.EQUIPMENT_LOAN, label="", equipment="Bétonnière", quantity=2)
    )
    assert (loan.side, loan.unit, loan.value_cents, loan.label, loan.is_town_cash) == (
        "town",
        "days",
        7000,
        "Bétonnière",
        False,
    )
    purchase = _add(
        database,
        tid,
        public_id,
        LineInput(kind=LineKind.PURCHASE, label="Plants", quantity=1, unit_value_cents=45_000, supplier="Pépinière"),
    )
    assert purchase.is_town_cash
    assert purchase.supplier == "Pépinière"
    subsidy = _add(
        database,
        tid,
        public_id,
        LineInput(kind=LineKind.SUBSIDY, label="Aide", quantity=1, unit_value_cents=10_000, instalments=2),
    )
    assert subsidy.is_town_cash
    assert subsidy.instalments == 2
    with pytest.raises(Invalid) as exc:
        _add(database, tid, public_id, LineInput(kind=HOURS, side=Side.TOWN, label="x", quantity=60))
    assert exc.value.field == "kind"
    with pytest.raises(Invalid):
        _add(
            database,
            tid,
            public_id,
            LineInput(kind=LineKind.PARTNER_CASH, label="Don", quantity=1, unit_value_cents=100),
        )
    with pytest.raises(Invalid):
        _add(database, tid, public_id, LineInput(kind=LineKind.DONATED_MATERIALS, label="Terreau", quantity=3))


def test_a_subsidy_needs_a_legal_person(factory: Factory, database: Database) -> None:
    tid = factory.territory()
    public_id = make_initiative(database, tid, beneficiary_kind="informal_group")
    with pytest.raises(Invalid, match="personne morale"):
        _add(database, tid, public_id, LineInput(kind=LineKind.SUBSIDY, label="Aide", quantity=1, unit_value_cents=100))


def test_balance_uses_the_fund_rules_and_the_gentler_k(factory: Factory, database: Database) -> None:
    tid = factory.territory()
    priority = factory.neighbourhood_id(tid, "Cité 5")
    public_id = make_initiative(
        database, tid, start_on=dt.date(2025, 4, 1), neighbourhood_id=priority, fiscal_year=2025
    )
    _add(
        database, tid, public_id, LineInput(kind=LineKind.PURCHASE, label="Bois", quantity=1, unit_value_cents=100_000)
    )
    _add(
        database,
        tid,
        public_id,
        LineInput(kind=LineKind.DONATED_MATERIALS, label="Outils", quantity=1, unit_value_cents=60_000),
    )
    with unit_of_work(database) as db:
        initiative = ledger.get_initiative(db, tid, public_id)
        b = ledger.balance(db, initiative)
        assert (b.k_percent, b.required_residents_cents, b.match_ok) == (100, 100_000, False)
        assert b.leverage_residents_per_town == Decimal("0.60")
        assert b.envelope_left_cents is None
        assert not b.envelope_ok
        fund = db.get_one(Fund, initiative.fund_id)
        fund.match_priority_percent = 50
        db.add(FundEnvelope(territory_id=tid, fund_id=fund.id, fiscal_year=2025, amount_cents=500_000))
        db.flush()
        b = ledger.balance(db, initiative)
        assert (b.k_percent, b.match_ok, b.envelope_ok, b.envelope_left_cents) == (50, True, True, 500_000)
        assert b.warnings == []


def test_commit_and_release_keep_the_envelope_and_the_initiative_in_step(factory: Factory, database: Database) -> None:
    tid = factory.territory()
    fund_id = default_fund_id(database, tid)
    with unit_of_work(database) as db:
        year = funds.current_fiscal_year(db, tid)
    first = make_initiative(database, tid, state=InitiativeState.IN_REVIEW, fiscal_year=year)
    second = make_initiative(database, tid, state=InitiativeState.IN_REVIEW, fiscal_year=year)
    with unit_of_work(database) as db:
        a = ledger.get_initiative(db, tid, first)
        b = ledger.get_initiative(db, tid, second)
        assert ledger.commit_envelope(db, a, 2_000_000)
        assert not ledger.commit_envelope(db, b, 1_500_000)  # 1 000 000 left
        assert (a.committed_cents, b.committed_cents, b.committed_envelope_id) == (2_000_000, 0, None)
        envelope = db.get_one(FundEnvelope, a.committed_envelope_id)
        assert envelope.fund_id == fund_id
        assert envelope.committed_cents == 2_000_000
        b.state = InitiativeState.AWAITING_ENVELOPE
        db.flush()
        _line = ledger.build_line(
            db, b, LineInput(kind=LineKind.PURCHASE, label="Bancs", quantity=1, unit_value_cents=1_500_000)
        )
        db.add(_line)
        db.flush()
        assert [(w.initiative.id, w.amount_cents) for w in ledger.next_waiting(db, envelope)] == [(b.id, 1_500_000)]
        assert ledger.release_envelope(db, a) == 2_000_000
        assert (envelope.committed_cents, a.committed_envelope_id, a.committed_cents) == (0, None, 0)
        assert ledger.commit_envelope(db, b, 1_500_000)
        with pytest.raises(Invalid):
            ledger.commit_envelope(db, b, -1)


def test_every_ledger_change_is_audited(factory: Factory, database: Database) -> None:
    tid = factory.territory()
    public_id = make_initiative(database, tid, state=InitiativeState.IN_REVIEW)
    line = _add(
        database,
        tid,
        public_id,
        LineInput(kind=LineKind.LOGISTICS, label="Barrières", quantity=1, unit_value_cents=5_000),
    )
    with unit_of_work(database) as db:
        ledger.secure_line(db, agent(tid), public_id, tid, line.public_id)
        ledger.cancel_line(db, agent(tid), public_id, tid, line.public_id)
        with pytest.raises(Conflict):
            ledger.cancel_line(db, agent(tid), public_id, tid, line.public_id)
    with unit_of_work(database) as db:
        actions = db.scalars(
            select(AuditEntry.action).where(AuditEntry.action.like("ledger.%")).order_by(AuditEntry.id)
        ).all()
        assert actions == ["ledger.add_line", "ledger.secure_line", "ledger.cancel_line"]
        # Filed under the initiative's public id, like its other steps: the timeline reads them there.
        subjects = set(db.scalars(select(AuditEntry.subject_id).where(AuditEntry.action.like("ledger.%"))))
        assert subjects == {public_id}
        assert db.get_one(CommitmentLine, line.id).state == LineState.CANCELLED
