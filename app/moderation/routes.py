"""Reporting public content (anyone, signed in or not) and the agents' moderation pages.

The report form is a page of its own, linked from the content: the public pages stay free of
forms and cookies (cacheable); showing the form sets the anonymous form cookie its CSRF token
needs. Reports are limited per address for visitors and per account for signed-in people.
Every decision is a plain form POST answered with 303 (Post/Redirect/Get).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from app.accounts.viewer import Viewer
from app.core.errors import Conflict, Invalid
from app.moderation import forms
from app.moderation import service as moderation
from app.moderation.subjects import Link
from app.security.ratelimit import RateLimiter
from app.web.auth import MaybeViewer, RequireAgent
from app.web.deps import CurrentTerritory, ReadSession, WriteSession
from app.web.forms import FormResult, claim_form_nonce, validate_form
from app.web.forms_dep import FormDep
from app.web.i18n import N_, _
from app.web.responses import redirect
from app.web.templating import render, url

router = APIRouter()


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _limit_reports(request: Request, viewer: Viewer | None) -> None:
    limiter: RateLimiter = request.app.state.rate_limiter
    if viewer is None:
        limiter.hit("report:ip", _client_ip(request))
    else:
        limiter.hit("report:account", str(viewer.account_id))


def link_url(request: Request, link: Link) -> str:
    params: dict[str, Any] = dict(link.params)
    return url(request, link.route, None, **params)


# ---------------------------------------------------------------- reporting


def _report_form(
    request: Request, page: moderation.ReportPage, *, values: dict[str, Any], errors: dict[str, str],
    status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    context = {
        "page": page,
        "values": values,
        "errors": errors,
        "back_url": link_url(request, page.subject.page),
        "action": url(
            request, "moderation:send_report", subject_type=page.subject.type, public_id=page.subject.public_id
        ),
    }
    return render(request, "pages/moderation/report.html", context, status_code=status_code)


@router.get("/signaler/{subject_type}/{public_id}", name="moderation:report")
def report_form(
    request: Request, subject_type: str, public_id: str, territory: CurrentTerritory, viewer: MaybeViewer,
    db: ReadSession,
) -> HTMLResponse:  # fmt: skip
    page = moderation.report_page(db, territory.id, subject_type, public_id)
    return _report_form(request, page, values={}, errors={})


@router.post("/signaler/{subject_type}/{public_id}", name="moderation:send_report")
def send_report(
    request: Request, subject_type: str, public_id: str, territory: CurrentTerritory, viewer: MaybeViewer,
    db: WriteSession, form: FormDep,
) -> Response:  # fmt: skip
    page = moderation.report_page(db, territory.id, subject_type, public_id)
    result = validate_form(forms.ReportInput, form)
    if result.data is None:
        return _report_form(request, page, values=result.values, errors=result.errors, status_code=422)
    _limit_reports(request, viewer)
    try:
        with db.begin_nested():
            claim_form_nonce(request, db, form, territory.id)
            moderation.report(db, viewer, territory.id, subject_type, public_id, result.data)
    except Invalid as exc:
        errors = {exc.field or "__all__": exc.message}
        return _report_form(request, page, values=result.values, errors=errors, status_code=422)
    return redirect(
        request,
        link_url(request, page.subject.page),
        flash=_("Merci. Votre signalement est transmis à la commune, qui va l'examiner."),
    )


# ---------------------------------------------------------------- moderation


@router.get("/moderation", name="moderation:queue")
def moderation_queue(
    request: Request, territory: CurrentTerritory, viewer: RequireAgent, db: ReadSession
) -> HTMLResponse:
    return render(request, "pages/moderation/queue.html", {"queue": moderation.queue(db, viewer, territory.id)})


def _subject_page(
    request: Request, db: Session, viewer: Viewer, territory_id: int, subject_type: str, public_id: str, *,
    errors: dict[str, dict[str, str]] | None = None, values: dict[str, dict[str, Any]] | None = None,
    conflict: str = "", status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    page = moderation.subject_page(db, viewer, territory_id, subject_type, public_id)
    context = {
        "page": page,
        "subject": page.subject,
        "page_url": link_url(request, page.subject.page),
        "image_url": link_url(request, page.subject.image) if page.subject.image else "",
        "form_errors": errors or {},
        "form_values": values or {},
        # A decision the current state refuses (another agent was quicker): said above the forms.
        "conflict": conflict,
    }
    return render(request, "pages/moderation/subject.html", context, status_code=status_code)


@router.get("/moderation/{subject_type}/{public_id}", name="moderation:subject")
def subject(
    request: Request, subject_type: str, public_id: str, territory: CurrentTerritory, viewer: RequireAgent,
    db: ReadSession,
) -> HTMLResponse:  # fmt: skip
    return _subject_page(request, db, viewer, territory.id, subject_type, public_id)


DONE = {
    "hide": N_("Le contenu est masqué au public."),
    "restore": N_("Le contenu est de nouveau visible du public."),
    "dismiss": N_("Les signalements sont classés : le contenu reste visible."),
}


def _decide(
    request: Request, action: str, subject_type: str, public_id: str, territory_id: int, viewer: Viewer,
    db: Session, form: Any,
) -> Response:  # fmt: skip
    # The subject exists and the viewer moderates it (404 / 403) before the form is even read.
    moderation.subject_page(db, viewer, territory_id, subject_type, public_id)
    result: FormResult[forms.DismissInput] | FormResult[forms.DecisionInput] = (
        validate_form(forms.DismissInput, form) if action == "dismiss" else validate_form(forms.DecisionInput, form)
    )
    if result.data is None:
        return _subject_page(
            request, db, viewer, territory_id, subject_type, public_id,
            errors={action: result.errors}, values={action: result.values}, status_code=422,
        )  # fmt: skip
    reason = result.data.reason
    try:
        # A refused decision keeps nothing, not even the used form nonce: the form may be sent again.
        with db.begin_nested():
            claim_form_nonce(request, db, form, territory_id)
            if action == "hide":
                moderation.hide(db, viewer, territory_id, subject_type, public_id, reason)
            elif action == "restore":
                moderation.restore(db, viewer, territory_id, subject_type, public_id, reason)
            else:
                moderation.dismiss(db, viewer, territory_id, subject_type, public_id, reason)
    except Conflict as exc:
        return _subject_page(
            request, db, viewer, territory_id, subject_type, public_id,
            conflict=exc.message, status_code=409,
        )  # fmt: skip
    location = url(request, "moderation:subject", subject_type=subject_type, public_id=public_id)
    return redirect(request, location, flash=_(DONE[action]))


@router.post("/moderation/{subject_type}/{public_id}/masquer", name="moderation:hide")
def hide(
    request: Request, subject_type: str, public_id: str, territory: CurrentTerritory, viewer: RequireAgent,
    db: WriteSession, form: FormDep,
) -> Response:  # fmt: skip
    return _decide(request, "hide", subject_type, public_id, territory.id, viewer, db, form)


@router.post("/moderation/{subject_type}/{public_id}/retablir", name="moderation:restore")
def restore(
    request: Request, subject_type: str, public_id: str, territory: CurrentTerritory, viewer: RequireAgent,
    db: WriteSession, form: FormDep,
) -> Response:  # fmt: skip
    return _decide(request, "restore", subject_type, public_id, territory.id, viewer, db, form)


@router.post("/moderation/{subject_type}/{public_id}/classer", name="moderation:dismiss")
def dismiss(
    request: Request, subject_type: str, public_id: str, territory: CurrentTerritory, viewer: RequireAgent,
    db: WriteSession, form: FormDep,
) -> Response:  # fmt: skip
    return _decide(request, "dismiss", subject_type, public_id, territory.id, viewer, db, form)
