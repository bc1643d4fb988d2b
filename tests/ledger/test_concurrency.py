"""Decisions at the same time never overspend an envelope: real processes, one database
(SQLite or PostgreSQL, whichever the suite runs on)."""

from __future__ import annotations

import multiprocessing

from sqlalchemy import select

from app.db.session import Database, unit_of_work
from app.funds.models import FundEnvelope
from app.initiatives.models import Initiative, InitiativeState
from tests.factories import Factory
from tests.ledger.envelope_worker import try_commit
from tests.ledger.helpers import default_fund_id, make_initiative

PROCESSES = 6
AMOUNT = 1_000_000  # 10 000 €
EACH = 300_000  # 3 000 €: exactly three fit


def test_parallel_commits_never_exceed_the_envelope(factory: Factory, database: Database, database_url: str) -> None:
    tid = factory.territory()
    fund_id = default_fund_id(database, tid)
    with unit_of_work(database) as db:
        db.add(FundEnvelope(territory_id=tid, fund_id=fund_id, fiscal_year=2031, amount_cents=AMOUNT))
    initiatives = [
        make_initiative(database, tid, state=InitiativeState.IN_REVIEW, fiscal_year=2031, title=f"Projet {i}")
        for i in range(PROCESSES)
    ]

    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(PROCESSES)
    results = ctx.Queue()
    processes = [
        ctx.Process(target=try_commit, args=(database_url, tid, public_id, EACH, barrier, results))
        for public_id in initiatives
    ]
    for p in processes:
        p.start()
    outcomes = dict(results.get(timeout=120) for _ in processes)
    for p in processes:
        p.join(timeout=60)
        assert p.exitcode == 0

    assert all(isinstance(v, bool) for v in outcomes.values()), outcomes
    assert sum(outcomes.values()) == AMOUNT // EACH
    with unit_of_work(database) as db:
        envelope = db.scalar(
            select(FundEnvelope).where(FundEnvelope.fund_id == fund_id, FundEnvelope.fiscal_year == 2031)
        )
        assert envelope is not None
        assert envelope.committed_cents == (AMOUNT // EACH) * EACH <= envelope.amount_cents
        held = db.scalars(select(Initiative.committed_cents).where(Initiative.public_id.in_(initiatives))).all()
        assert sorted(held) == [0] * (PROCESSES - AMOUNT // EACH) + [EACH] * (AMOUNT // EACH)
