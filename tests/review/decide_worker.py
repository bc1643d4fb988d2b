"""Run in a separate process by the decision concurrency test: the executive approves one initiative."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app.config import Settings
from app.core.actor import Actor
from app.core.errors import Conflict
from app.db.session import get_database, read_only, unit_of_work
from app.initiatives.models import Initiative
from app.review import service as review

# SQLite has one writer at a time and gives up after its busy timeout: a request would answer
# "try again" (503), so the worker sends its decision again, as a person would. PostgreSQL waits
# on the envelope's row lock instead and never needs this.
SQLITE_ATTEMPTS = 20


def _initiative(db: Session, executive: Actor, public_id: str) -> Initiative:
    return db.scalars(
        select(Initiative).where(Initiative.public_id == public_id, Initiative.territory_id == executive.territory_id)
    ).one()


def try_decide(
    url: str, settings: Settings, executive: Actor, public_id: str, waiting_list: bool, barrier: Any, results: Any
) -> None:
    database = get_database(url)
    try:
        # What a fresh process loads the first time (mappers, statements) is loaded before the start.
        with read_only(database) as db:
            review.decision_page(db, executive, _initiative(db, executive, public_id))
        barrier.wait(timeout=60)
        for attempt in range(1, SQLITE_ATTEMPTS + 1):
            try:
                with unit_of_work(database) as db:
                    initiative = _initiative(db, executive, public_id)
                    decision = review.decide(
                        db, executive, initiative, "approve", waiting_list=waiting_list, settings=settings
                    )
                    answer = decision.outcome
                break
            except OperationalError as exc:
                if not database.is_sqlite or "locked" not in str(exc) or attempt == SQLITE_ATTEMPTS:
                    raise
        # Reported once the transaction is committed: what the parent counts really happened.
        results.put((public_id, answer))
    except Conflict:
        results.put((public_id, "conflict"))
    except Exception as exc:  # the parent reports it
        results.put((public_id, repr(exc)))
    finally:
        database.dispose()
