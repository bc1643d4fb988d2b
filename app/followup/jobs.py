"""The daily job that flags overdue milestones and commitments to both sides."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from app.followup.overdue import flag_overdue
from app.jobs.registry import job_settings, recurring, register


@register("followup_overdue")
def followup_overdue(db: Session, payload: dict[str, Any]) -> None:
    flag_overdue(db, settings=job_settings())


# 06:00 UTC: after the night's jobs, so promoters and agents find the flags when their day starts.
recurring("followup_overdue", every=dt.timedelta(days=1), offset=dt.timedelta(hours=6))
