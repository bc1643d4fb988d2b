"""The agents' queue, the review actions, the thread and the executive's decision.

Every action is a plain form POST answered with 303 (Post/Redirect/Get); HTMX requests from the
queue get the re-rendered row only. Forms in error are shown again on a page of their own, with
the values kept and status 422.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from app.accounts.viewer import Viewer
from app.core.errors import Invalid, NotFound
from app.initiatives.models import Initiative
from app.review import forms
from app.review import service as review
from app.review.permissions import AGENT_ACTIONS
from app.web.auth import CurrentViewer, RequireAgent, RequireExecutive
from app.web.deps import CurrentTerritory, ReadSession, WriteSession
from app.web.forms import FormResult, claim_form_nonce, remember_result, validate_form
from app.web.forms_dep import FormDep
from app.web.i18n import N_, _
from app.web.responses import redirect
from app.web.templating import is_htmx, render, url

router = APIRouter()

ACTIONS = frozenset({*AGENT_ACTIONS, "assign"})
DONE_MESSAGES = {
    "start": N_("L'instruction commence."),
    "changes": N_("La demande de modifications est envoyée aux porteur·ses de projet."),
    "hold": N_("L'instruction est mise en pause."),
    "resume": N_("L'instruction reprend."),
    "resubmit": N_("L'initiative est renvoyée en instruction."),
    "assign": N_("L'initiative vous est attribuée."),
}
ACTION_TITLES = {
    "changes": N_("Demander des modifications"),
    "hold": N_("Mettre l'instruction en pause"),
}


def workspace_url(request: Request, public_id: str) -> str:
    return url(request, "initiatives:show", public_id=public_id)


# ---------------------------------------------------------------- the queue


def _queue_context(request: Request, db: Session, viewer: Viewer, territory: CurrentTerritory) -> dict[str, Any]:
    result = validate_form(forms.QueueQuery, dict(request.query_params))
    query = result.data or forms.QueueQuery()
    filters = review.QueueFilters(
        state=query.state, neighbourhood=query.neighbourhood, theme=query.theme, fund=query.fund, mine=query.mine
    )
    return {
        "rows": review.queue(db, viewer, territory, filters),
        "options": review.queue_options(db, territory.id),
        "filters": filters,
        "queue_url": url(request, "review:queue", query=filters.query()),
    }


@router.get("/instruction", name="review:queue")
def review_queue(request: Request, territory: CurrentTerritory, viewer: RequireAgent, db: ReadSession) -> HTMLResponse:
    context = _queue_context(request, db, viewer, territory)
    return render(request, "pages/review/queue.html", context, block="queue_results")


# ---------------------------------------------------------------- review actions


def _action_page(
    request: Request, initiative: Initiative, action: str, values: dict[str, Any], errors: dict[str, str]
) -> HTMLResponse:
    context = {
        "initiative": initiative,
        "action": action,
        "action_title": _(ACTION_TITLES.get(action, "")),
        "values": values,
        "errors": errors,
        "back_url": workspace_url(request, initiative.public_id),
    }
    return render(request, "pages/review/action.html", context, status_code=422)


def _apply(request: Request, db: Session, viewer: Viewer, initiative: Initiative, action: str, form: Any) -> None:
    settings = request.app.state.settings
    if action == "assign":
        review.assign_to_me(db, viewer, initiative)
    elif action == "start":
        review.start_review(db, viewer, initiative, settings=settings)
    elif action == "changes":
        review.request_changes(db, viewer, initiative, form.message, settings=settings)
    elif action == "hold":
        review.put_on_hold(db, viewer, initiative, form.reason, form.resume_on, settings=settings)
    elif action == "resume":
        review.resume(db, viewer, initiative, settings=settings)
    else:
        review.resubmit(db, viewer, initiative, settings=settings)


@router.post("/initiatives/{public_id}/instruction/{action}", name="review:act")
def review_act(
    request: Request, public_id: str, action: str, territory: CurrentTerritory, viewer: CurrentViewer,
    db: WriteSession, form: FormDep,
) -> Response:  # fmt: skip
    if action not in ACTIONS:
        raise NotFound(_("Cette page n'existe pas."))
    initiative = review.get_initiative(db, viewer, public_id)
    result: FormResult[Any] | None = None
    if action == "changes":
        result = validate_form(forms.ChangesForm, form)
    elif action == "hold":
        result = validate_form(forms.HoldForm, form)
    if result is not None and result.data is None:
        return _action_page(request, initiative, action, result.values, result.errors)
    claim_form_nonce(request, db, form, territory.id)
    try:
        _apply(request, db, viewer, initiative, action, result.data if result else None)
    except Invalid as exc:
        values = result.values if result else {}
        return _action_page(request, initiative, action, values, {exc.field or "__all__": exc.message})
    from_queue = form.get("from") == "queue"
    if from_queue and is_htmx(request):
        remember_result(request, url(request, "review:queue"))
        row = review.queue_row(db, viewer, territory, initiative)
        return render(request, "partials/review/queue_row.html", {"row": row, "done": _(DONE_MESSAGES[action])})
    location = url(request, "review:queue") if from_queue else workspace_url(request, public_id)
    return redirect(request, location, flash=_(DONE_MESSAGES[action]))


# ---------------------------------------------------------------- the thread


def _thread_page(
    request: Request, db: Session, viewer: Viewer, initiative: Initiative, *, values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None, status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    context = {
        "initiative": initiative,
        "messages": review.thread(db, viewer, initiative),
        "panel": review.review_panel(db, viewer, initiative),
        "values": values or {},
        "errors": errors or {},
        "workspace_url": workspace_url(request, initiative.public_id),
    }
    return render(request, "pages/review/thread.html", context, status_code=status_code, block="thread")


@router.get("/initiatives/{public_id}/echanges", name="review:thread")
def review_thread(request: Request, public_id: str, viewer: CurrentViewer, db: ReadSession) -> HTMLResponse:
    initiative = review.get_initiative(db, viewer, public_id)
    return _thread_page(request, db, viewer, initiative)


@router.post("/initiatives/{public_id}/messages", name="review:message")
def review_message(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: CurrentViewer, db: WriteSession,
    form: FormDep,
) -> Response:  # fmt: skip
    initiative = review.get_initiative(db, viewer, public_id)
    result = validate_form(forms.MessageForm, form)
    if result.data is None:
        return _thread_page(
            request, db, viewer, initiative, values=result.values, errors=result.errors, status_code=422
        )
    claim_form_nonce(request, db, form, territory.id)
    settings = request.app.state.settings
    review.post_message(db, viewer, initiative, result.data.body, result.data.staff_only, settings=settings)
    location = url(request, "review:thread", public_id=public_id) if form.get("from") == "thread" else None
    return redirect(request, location or workspace_url(request, public_id), flash=_("Votre message est publié."))


# ---------------------------------------------------------------- the decision


def _decision_form(
    request: Request, db: Session, viewer: Viewer, initiative: Initiative, values: dict[str, Any],
    errors: dict[str, str], status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    context = {
        "page": review.decision_page(db, viewer, initiative),
        "initiative": initiative,
        "values": values,
        "errors": errors,
        "workspace_url": workspace_url(request, initiative.public_id),
    }
    return render(request, "pages/review/decision.html", context, status_code=status_code)


@router.get("/initiatives/{public_id}/decision", name="review:decision")
def decision_show(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: RequireExecutive, db: ReadSession
) -> HTMLResponse:
    initiative = review.get_initiative(db, viewer, public_id)
    values = {"outcome": "approve", "act_kind": "decision"}
    return _decision_form(request, db, viewer, initiative, values, {})


@router.post("/initiatives/{public_id}/decision", name="review:decide")
def decision_post(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: RequireExecutive, db: WriteSession,
    form: FormDep,
) -> Response:  # fmt: skip
    initiative = review.get_initiative(db, viewer, public_id)
    result = validate_form(forms.DecisionForm, form)
    if result.data is None:
        return _decision_form(request, db, viewer, initiative, result.values, result.errors, 422)
    claim_form_nonce(request, db, form, territory.id)
    data = result.data
    try:
        decision = review.decide(
            db, viewer, initiative, data.outcome, data.act_kind, data.act_reference, data.sitting or None,
            data.decided_on, data.reason, data.override_reason, data.waiting_list,
            settings=request.app.state.settings,
        )  # fmt: skip
    except Invalid as exc:
        errors = {exc.field or "__all__": exc.message}
        return _decision_form(request, db, viewer, initiative, result.values, errors, 422)
    flash = {
        "approved": _("L'initiative est acceptée."),
        "awaiting_envelope": _("L'initiative est acceptée et placée en liste d'attente de l'enveloppe."),
    }.get(decision.outcome, _("L'initiative est refusée ; le motif est transmis aux porteur·ses de projet."))
    return redirect(request, workspace_url(request, public_id), flash=flash)
