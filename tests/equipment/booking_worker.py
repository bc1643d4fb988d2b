"""Run in a separate process by the concurrency test: book one unit of an equipment for a work day."""

from __future__ import annotations

from typing import Any

from app.core.actor import Actor
from app.core.errors import Conflict
from app.db.session import get_database, unit_of_work
from app.equipment import service as equipment
from app.equipment.forms import BookingInput
from app.workdays import service as workdays


def try_book(url: str, agent: dict[str, Any], ids: dict[str, str], name: str, barrier: Any, results: Any) -> None:
    database = get_database(url)
    who = Actor(roles=frozenset({"agent"}), label="agent", **agent)
    barrier.wait(timeout=60)
    try:
        with unit_of_work(database) as db:
            initiative, involvement = workdays.load(db, who, agent["territory_id"], ids["initiative"])
            work_day = workdays.get_work_day(db, initiative, ids["work_day"])
            equipment.book(db, who, initiative, involvement, work_day, BookingInput(equipment=ids["equipment"]))
        results.put((name, True))
    except Conflict:
        results.put((name, False))
    except Exception as exc:  # the parent reports it
        results.put((name, repr(exc)))
    finally:
        database.dispose()
