"""Recurring digest jobs: one e-mail per person gathering the day's or the week's notifications."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from app.jobs.registry import job_settings, recurring, register
from app.notifications.kinds import Frequency
from app.notifications.service import send_digests


@register("digest_daily")
def digest_daily(db: Session, payload: dict[str, Any]) -> None:
    send_digests(db, Frequency.DAILY, job_settings())


@register("digest_weekly")
def digest_weekly(db: Session, payload: dict[str, Any]) -> None:
    send_digests(db, Frequency.WEEKLY, job_settings())


# 17:00 UTC (18:00 or 19:00 in Paris): the day's news arrive at the end of the afternoon;
# the weekly digest on Mondays (the registry's periods start on a Monday).
recurring("digest_daily", every=dt.timedelta(days=1), offset=dt.timedelta(hours=17))
recurring("digest_weekly", every=dt.timedelta(days=7), offset=dt.timedelta(hours=17))
