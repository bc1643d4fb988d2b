"""Public legal pages of a territory: legal notices, privacy notice (with the draft register of
processing activities) and the accessibility statement (RGAA)."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.privacy.registry import processing_activities, retention_rules, rules_for
from app.territories.settings_schema import AccessibilityStatement
from app.web.deps import CurrentTerritory
from app.web.templating import render

router = APIRouter()


def audit_date(statement: AccessibilityStatement) -> dt.date | None:
    try:
        return dt.date.fromisoformat(statement.audit_date) if statement.audit_date else None
    except ValueError:
        return None


@router.get("/mentions-legales", name="legal:notices")
def notices(request: Request, territory: CurrentTerritory) -> HTMLResponse:
    return render(request, "pages/legal/notices.html", {"legal": territory.legal})


@router.get("/donnees-personnelles", name="legal:privacy")
def privacy(request: Request, territory: CurrentTerritory) -> HTMLResponse:
    context = {
        "legal": territory.legal,
        "rules": retention_rules(),
        "activities": processing_activities(),
        "rules_for": rules_for,
    }
    return render(request, "pages/legal/privacy.html", context)


@router.get("/accessibilite", name="legal:accessibility")
def accessibility(request: Request, territory: CurrentTerritory) -> HTMLResponse:
    statement = territory.accessibility
    audited_on = audit_date(statement)
    context = {
        "statement": statement,
        "audited_on": audited_on,
        "audited": audited_on is not None and statement.audit_rate_percent is not None,
    }
    return render(request, "pages/legal/accessibility.html", context)
