"""Recurring jobs of the petitions: the public count every minute, the closing of ended petitions daily."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from app.jobs.registry import job_settings, recurring, register
from app.petitions.counting import recount
from app.petitions.service import close_expired


@register("petition_counts")
def petition_counts(db: Session, payload: dict[str, Any]) -> None:
    recount(db, settings=job_settings())


@register("petitions_close")
def petitions_close(db: Session, payload: dict[str, Any]) -> None:
    close_expired(db)


# Every minute: the public count lags the signatures by 60 s at most. Closing runs hourly so that
# a petition closes soon after local midnight whatever the territory's time zone.
recurring("petition_counts", every=dt.timedelta(minutes=1))
recurring("petitions_close", every=dt.timedelta(hours=1))
