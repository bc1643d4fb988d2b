"""Run in a separate process by the concurrency test: commit an amount on an envelope."""

from __future__ import annotations

from typing import Any

from app.db.session import get_database, unit_of_work
from app.ledger import service as ledger


def try_commit(url: str, territory_id: int, public_id: str, amount: int, barrier: Any, results: Any) -> None:
    database = get_database(url)
    barrier.wait(timeout=60)
    try:
        with unit_of_work(database) as db:
            initiative = ledger.get_initiative(db, territory_id, public_id)
            results.put((public_id, ledger.commit_envelope(db, initiative, amount)))
    except Exception as exc:  # the parent reports it
        results.put((public_id, repr(exc)))
    finally:
        database.dispose()
