"""The daily retention job."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from app.jobs.registry import recurring, register
from app.privacy.retention import apply_retention


@register("retention")
def retention(db: Session, payload: dict[str, Any]) -> None:
    apply_retention(db)


# 02:30 UTC, at night in France, when nobody is using the service.
recurring("retention", every=dt.timedelta(days=1), offset=dt.timedelta(hours=2, minutes=30))
