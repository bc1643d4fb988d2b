"""No sequence of ledger and envelope actions yields a negative amount, totals that disagree with
the lines, or an envelope committed above its amount."""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import select

from app.db.base import new_public_id
from app.db.session import Database, unit_of_work
from app.funds.models import Fund, FundEnvelope
from app.initiatives.models import Initiative, InitiativeState
from app.ledger import service as ledger
from app.ledger.models import CommitmentLine, LineKind, LineState, Side
from app.ledger.service import LineInput
from tests.factories import Factory
from tests.ledger.helpers import agent, make_initiative

ENVELOPE = 100_000
PRICED_KINDS = [LineKind.PURCHASE, LineKind.DONATED_MATERIALS, LineKind.PARTNER_CASH, LineKind.LOGISTICS]


def run_machine(database: Database, territory_id: int) -> None:
    class LedgerMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            with unit_of_work(database) as db:
                fund = Fund(territory_id=territory_id, name="Essai " + new_public_id())
                db.add(fund)
                db.flush()
                envelope = FundEnvelope(
                    territory_id=territory_id, fund_id=fund.id, fiscal_year=2030, amount_cents=ENVELOPE
                )
                db.add(envelope)
                db.flush()
                self.fund_id, self.envelope_id = fund.id, envelope.id
            self.initiatives = [
                make_initiative(
                    database, territory_id, state=InitiativeState.IN_REVIEW, fund_id=self.fund_id, fiscal_year=2030
                )
                for _ in range(3)
            ]
            self.lines: list[str] = []
            self.actor = agent(territory_id)

        @rule(
            which=st.integers(0, 2),
            kind=st.sampled_from(PRICED_KINDS),
            quantity=st.integers(1, 5),
            cents=st.integers(0, 20_000),
        )
        def add_line(self, which: int, kind: LineKind, quantity: int, cents: int) -> None:
            data = LineInput(
                kind=kind, label="Ligne", quantity=quantity, unit_value_cents=cents, partner_name="Bailleur"
            )
            with unit_of_work(database) as db:
                line = ledger.add_line(db, self.actor, self.initiatives[which], territory_id, data)
                self.lines.append(line.public_id)

        @rule(data=st.data())
        def cancel_line(self, data: st.DataObject) -> None:
            if not self.lines:
                return
            public_id = data.draw(st.sampled_from(self.lines))
            with unit_of_work(database) as db:
                line = db.scalar(select(CommitmentLine).where(CommitmentLine.public_id == public_id))
                assert line is not None
                if line.state == LineState.CANCELLED:
                    return
                initiative = db.get_one(Initiative, line.initiative_id)
                ledger.cancel_line(db, self.actor, initiative.public_id, territory_id, public_id)

        @rule(which=st.integers(0, 2))
        def commit(self, which: int) -> None:
            with unit_of_work(database) as db:
                initiative = ledger.get_initiative(db, territory_id, self.initiatives[which])
                needed = ledger.town_cash_cents(db, initiative) - initiative.committed_cents
                if needed <= 0:
                    return
                envelope = db.get_one(FundEnvelope, self.envelope_id)
                left = envelope.amount_cents - envelope.committed_cents
                assert ledger.commit_envelope(db, initiative, needed) == (needed <= left)

        @rule(which=st.integers(0, 2))
        def release(self, which: int) -> None:
            with unit_of_work(database) as db:
                initiative = ledger.get_initiative(db, territory_id, self.initiatives[which])
                held = initiative.committed_cents
                assert ledger.release_envelope(db, initiative) == held

        @invariant()
        def envelope_within_amount(self) -> None:
            with unit_of_work(database) as db:
                envelope = db.get_one(FundEnvelope, self.envelope_id)
                held = db.scalars(select(Initiative.committed_cents).where(Initiative.fund_id == self.fund_id)).all()
                assert 0 <= envelope.committed_cents <= envelope.amount_cents
                assert envelope.committed_cents == sum(held)

        @invariant()
        def totals_agree_with_lines(self) -> None:
            with unit_of_work(database) as db:
                for public_id in self.initiatives:
                    initiative = ledger.get_initiative(db, territory_id, public_id)
                    lines = db.scalars(
                        select(CommitmentLine).where(
                            CommitmentLine.initiative_id == initiative.id, CommitmentLine.state != LineState.CANCELLED
                        )
                    ).all()
                    b = ledger.balance(db, initiative)
                    by_side = {s: sum(x.value_cents for x in lines if x.side == s) for s in Side}
                    assert b.residents_value_cents == by_side[Side.RESIDENTS]
                    assert b.town_value_cents == by_side[Side.TOWN]
                    assert b.partners_value_cents == by_side[Side.PARTNERS]
                    assert b.town_cash_cents == sum(x.value_cents for x in lines if x.is_town_cash)
                    assert min(b.residents_value_cents, b.town_value_cents, b.town_cash_cents) >= 0

    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=8, stateful_step_count=12, deadline=None, suppress_health_check=list(HealthCheck)
        ),
    )


def test_ledger_and_envelope_state_machine(factory: Factory, database: Database) -> None:
    run_machine(database, factory.territory())
