"""Bookings made at the same moment never take more units than the equipment has: real processes,
one database (SQLite or PostgreSQL, whichever the suite runs on)."""

from __future__ import annotations

import datetime as dt
import multiprocessing

from sqlalchemy import func, select

from app.db.session import unit_of_work
from app.equipment.models import BookingState, EquipmentBooking
from tests.equipment.booking_worker import try_book
from tests.equipment.conftest import World, item
from tests.workdays.conftest import plan, signed, today

PROCESSES = 5
UNITS = 2


def test_parallel_bookings_never_exceed_the_quantity(world: World, database_url: str) -> None:
    initiative = signed(world)
    work_day = plan(world, initiative, day=today(world) + dt.timedelta(days=6))
    ladder = item(world, "Échelle", quantity=UNITS)
    agent = {"person_id": world.agent.person_id, "account_id": world.agent.id, "territory_id": world.territory_id}
    ids = {"initiative": initiative.public_id, "work_day": work_day.public_id, "equipment": ladder.public_id}

    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(PROCESSES)
    results = ctx.Queue()
    processes = [
        ctx.Process(target=try_book, args=(database_url, agent, ids, f"p{i}", barrier, results))
        for i in range(PROCESSES)
    ]
    for p in processes:
        p.start()
    outcomes = dict(results.get(timeout=120) for _ in processes)
    for p in processes:
        p.join(timeout=60)
        assert p.exitcode == 0

    assert all(isinstance(v, bool) for v in outcomes.values()), outcomes
    assert sum(outcomes.values()) == UNITS
    with unit_of_work(world.database) as db:
        held = db.scalar(
            select(func.sum(EquipmentBooking.quantity)).where(
                EquipmentBooking.equipment_id == ladder.id, EquipmentBooking.state == BookingState.BOOKED
            )
        )
    assert held == UNITS
