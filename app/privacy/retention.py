"""Applying every retention rule: the recurring "retention" job, also run by hand.

Each rule is idempotent (it acts on what is past its period at ``now``), so running the job
twice changes nothing more. One audit entry per rule that changed something, with the count.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from app.audit import service as audit
from app.core.actor import SYSTEM
from app.db.base import utcnow
from app.privacy.registry import retention_rules


def apply_retention(db: Session, now: dt.datetime | None = None) -> dict[str, int]:
    """Runs every rule that does something; returns the number of records changed per rule."""
    now = now or utcnow()
    results: dict[str, int] = {}
    for rule in retention_rules():
        if rule.apply is None:
            continue
        count = rule.apply(db, now)
        results[rule.kind] = count
        if count:
            audit.record(
                db,
                SYSTEM,
                "privacy.retention",
                "retention_rule",
                rule.kind,
                territory_id=None,
                data={"action": rule.action, "count": count},
            )
    db.flush()
    return results
