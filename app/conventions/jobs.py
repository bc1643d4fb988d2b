"""The daily job that reminds, then releases the envelope of, conventions left unsigned."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from app.conventions.service import release_unsigned
from app.jobs.registry import job_settings, recurring, register


@register("conventions_unsigned")
def conventions_unsigned(db: Session, payload: dict[str, Any]) -> None:
    release_unsigned(db, settings=job_settings())


# 05:00 UTC: before the agents' day starts, so the waiting list has moved when they open the queue.
recurring("conventions_unsigned", every=dt.timedelta(days=1), offset=dt.timedelta(hours=5))
