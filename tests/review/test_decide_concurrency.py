"""Approvals decided at the same time, through ``review.decide``, never overspend the envelope: real
processes, one database (SQLite or PostgreSQL, whichever the suite runs on). Exactly as many as
fit are approved; the others are refused (409) or join the waiting list, and each approval has
its decision and its audit entry."""

from __future__ import annotations

import multiprocessing

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.db.session import unit_of_work
from app.initiatives.models import Decision, Initiative, InitiativeState
from tests.review.conftest import World
from tests.review.decide_worker import try_decide

PROCESSES = 6
AMOUNT = 1_000_000  # 10 000 €
EACH = 300_000  # 3 000 € of town cash each: exactly three fit
FIT = AMOUNT // EACH


@pytest.mark.parametrize("waiting_list", [False, True], ids=["refused", "waiting-list"])
def test_parallel_approvals_never_exceed_the_envelope(world: World, database_url: str, waiting_list: bool) -> None:
    world.set_envelope(AMOUNT)
    initiatives = [
        world.initiative(InitiativeState.IN_REVIEW, title=f"Projet {i}", town_cash_cents=EACH, residents_cents=EACH)
        for i in range(PROCESSES)
    ]
    public_ids = [i.public_id for i in initiatives]

    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(PROCESSES)
    results = ctx.Queue()
    processes = [
        ctx.Process(
            target=try_decide,
            args=(database_url, world.settings, world.executive_actor, public_id, waiting_list, barrier, results),
        )
        for public_id in public_ids
    ]
    for p in processes:
        p.start()
    outcomes = dict(results.get(timeout=120) for _ in processes)
    for p in processes:
        p.join(timeout=60)
        assert p.exitcode == 0

    over = "awaiting_envelope" if waiting_list else "conflict"
    assert sorted(outcomes.values()) == sorted(["approved"] * FIT + [over] * (PROCESSES - FIT)), outcomes
    approved = {pid for pid, outcome in outcomes.items() if outcome == "approved"}
    envelope = world.envelope()
    assert envelope.committed_cents == FIT * EACH <= envelope.amount_cents
    with unit_of_work(world.database) as db:
        rows = db.execute(
            select(Initiative.public_id, Initiative.state, Initiative.committed_cents).where(
                Initiative.public_id.in_(public_ids)
            )
        ).all()
        decisions = dict(
            db.execute(
                select(Initiative.public_id, Decision.outcome).join(Decision, Decision.initiative_id == Initiative.id)
            ).all()
        )
        audits = dict(
            db.execute(
                select(AuditEntry.subject_id, AuditEntry.action).where(
                    AuditEntry.subject_type == "initiative", AuditEntry.action.like("initiative.approve%")
                )
            ).all()
        )
        decision_count = db.scalar(select(func.count()).select_from(Decision))
    for public_id, state, committed in rows:
        if public_id in approved:
            assert (state, committed) == (InitiativeState.APPROVED, EACH)
            assert decisions[public_id] == "approved"
            assert audits[public_id] == "initiative.approve"
        elif waiting_list:
            assert (state, committed) == (InitiativeState.AWAITING_ENVELOPE, 0)
            assert decisions[public_id] == "awaiting_envelope"
            assert audits[public_id] == "initiative.approve_waiting"
        else:  # refused: nothing changed, nothing recorded
            assert (state, committed) == (InitiativeState.IN_REVIEW, 0)
            assert public_id not in decisions
            assert public_id not in audits
    assert decision_count == (PROCESSES if waiting_list else FIT)
