"""Recurring jobs of the close-out: the volunteers' survey invitations and the yearly upkeep checks."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from app.evaluation.service import send_survey_invitations
from app.evaluation.upkeep import run_upkeep
from app.jobs.registry import job_settings, recurring, register


@register("evaluation_surveys")
def evaluation_surveys(db: Session, payload: dict[str, Any]) -> None:
    send_survey_invitations(db, settings=job_settings())


@register("upkeep_checks")
def upkeep_checks(db: Session, payload: dict[str, Any]) -> None:
    run_upkeep(db, settings=job_settings())


# Hourly: the people who took part hear about the survey soon after the promoters report the
# delivery. Upkeep checks daily at 06:00 UTC, before the agents' day starts.
recurring("evaluation_surveys", every=dt.timedelta(hours=1))
recurring("upkeep_checks", every=dt.timedelta(days=1), offset=dt.timedelta(hours=6))
