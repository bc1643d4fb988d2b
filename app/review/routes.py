"""The agents' queue, the review actions, the thread and the executive's decision.

Every action is a plain form POST answered with 303 (Post/Redirect/Get); HTMX requests from the
queue get the re-rendered row only. Forms in error are shown again on a page of their own, with
the values kept and status 422.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from app.accounts.viewer import Viewer
from app.core.errors import Invalid, NotFound
from app.initiatives.models import Initiative
from app.review import agenda, checklist, forms, interests
from app.review import service as review
from app.review.permissions import AGENT_ACTIONS
from app.territories.service import local_today
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
    "abandon": N_("L'initiative est abandonnée ; les crédits réservés sont libérés."),
}
ACTION_TITLES = {
    "changes": N_("Demander des modifications"),
    "hold": N_("Mettre l'instruction en pause"),
    "abandon": N_("Abandonner le projet"),
}


def workspace_url(request: Request, public_id: str) -> str:
    return url(request, "initiatives:show", public_id=public_id)


# ---------------------------------------------------------------- the queue


def _queue_context(request: Request, db: Session, viewer: Viewer, territory: CurrentTerritory) -> dict[str, Any]:
    result = validate_form(forms.QueueQuery, dict(request.query_params))
    query = result.data or forms.QueueQuery()
    filters = review.QueueFilters(
        state=query.state, neighbourhood=query.neighbourhood, theme=query.theme, fund=query.fund, mine=query.mine,
        council=query.council,
    )  # fmt: skip
    rows = review.queue(db, viewer, territory, filters)
    return {
        "rows": rows,
        "markers": agenda.markers(db, territory.id, [row.id for row in rows]),
        "council": filters.council,
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
    elif action == "abandon":
        review.abandon(db, viewer, initiative, form.reason, settings=settings)
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
    elif action == "abandon":
        result = validate_form(forms.AbandonForm, form)
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
        context = {"row": row, "markers": agenda.markers(db, territory.id, [row.id]), "done": _(DONE_MESSAGES[action])}
        return render(request, "partials/review/queue_row.html", context)
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
    page = review.decision_page(db, viewer, initiative)
    council = agenda.panel(db, viewer, initiative)
    marker = council.marker
    if marker is not None and all(key != marker.sitting_public_id for key, _label in page.sittings):
        # The scheduled sitting is always offered, even beyond the latest ones listed.
        label = f"{marker.sitting_on.isoformat()} — {marker.sitting_title}"
        page = dataclasses.replace(page, sittings=[(marker.sitting_public_id, label), *page.sittings])
    context = {
        "page": page,
        "agenda": council,
        "agenda_from": "decision",
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
    values: dict[str, Any] = {"outcome": "approve", "act_kind": "decision"}
    council = agenda.panel(db, viewer, initiative)
    if council.needs_deliberation:
        values["act_kind"] = "deliberation"
    if council.marker is not None:
        # The deliberation of the sitting the initiative awaits, dated that day once it is held.
        values.update(act_kind="deliberation", sitting=council.marker.sitting_public_id)
        if council.marker.past or council.marker.sitting_on == local_today(territory):
            values["decided_on"] = council.marker.sitting_on.isoformat()
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


# ---------------------------------------------------------------- the council's agenda

AGENDA_STEPS = {
    "inscrire": N_(
        "L'initiative est inscrite à l'ordre du jour du conseil ; les porteur·ses de projet sont prévenu·es."
    ),
    "reporter": N_("L'examen par le conseil est reporté ; les porteur·ses de projet sont prévenu·es."),
    "retirer": N_("L'initiative est retirée de l'ordre du jour du conseil."),
}
AGENDA_ORIGINS = frozenset({"workspace", "decision", "page"})


def _agenda_page(
    request: Request, db: Session, viewer: Viewer, initiative: Initiative, *, origin: str = "page",
    errors: dict[str, str] | None = None, values: dict[str, Any] | None = None, error_form: str = "",
    status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    context = {
        "initiative": initiative,
        "agenda": agenda.panel(db, viewer, initiative),
        "agenda_from": origin,
        "agenda_errors": errors or {},
        "agenda_values": values or {},
        "agenda_error_form": error_form,
        "workspace_url": workspace_url(request, initiative.public_id),
    }
    return render(request, "pages/review/agenda.html", context, status_code=status_code, block="agenda")


def _agenda_origin(value: Any) -> str:
    return value if isinstance(value, str) and value in AGENDA_ORIGINS else "page"


@router.get("/initiatives/{public_id}/conseil", name="review:agenda")
def agenda_show(request: Request, public_id: str, viewer: CurrentViewer, db: ReadSession) -> HTMLResponse:
    initiative = review.get_initiative(db, viewer, public_id)
    return _agenda_page(request, db, viewer, initiative, origin=_agenda_origin(request.query_params.get("from")))


@router.post("/initiatives/{public_id}/conseil/{step}", name="review:agenda_act")
def agenda_act(
    request: Request, public_id: str, step: str, territory: CurrentTerritory, viewer: RequireExecutive,
    db: WriteSession, form: FormDep,
) -> Response:  # fmt: skip
    if step not in AGENDA_STEPS:
        raise NotFound(_("Cette page n'existe pas."))
    initiative = review.get_initiative(db, viewer, public_id)
    origin = _agenda_origin(form.get("from"))
    result = validate_form(agenda.AgendaInput, form)
    if result.data is None:
        return _agenda_page(
            request, db, viewer, initiative, origin=origin, errors=result.errors, values=result.values,
            error_form=step, status_code=422,
        )  # fmt: skip
    data, settings = result.data, request.app.state.settings
    claim_form_nonce(request, db, form, territory.id)
    try:
        if step == "inscrire":
            agenda.schedule(db, viewer, initiative, data.sitting, settings=settings)
        elif step == "reporter":
            agenda.postpone(db, viewer, initiative, data.sitting, data.reason, settings=settings)
        else:
            agenda.take_off(db, viewer, initiative, data.reason, settings=settings)
    except Invalid as exc:
        return _agenda_page(
            request, db, viewer, initiative, origin=origin, errors={exc.field or "__all__": exc.message},
            values=result.values, error_form=step, status_code=422,
        )  # fmt: skip
    location = url(request, "review:agenda", public_id=public_id)
    if origin == "workspace":
        location = workspace_url(request, public_id) + "#council"
    elif origin == "decision":
        location = url(request, "review:decision", public_id=public_id)
    return redirect(request, location, flash=_(AGENDA_STEPS[step]))


# ---------------------------------------------------------------- the checklist (points de contrôle)

CHECKLIST_ACTIONS = frozenset({"request", "done", "waive", "reopen"})
CHECKLIST_DONE = {
    "start": N_("Les points de contrôle du dispositif sont repris pour cette initiative."),
    "add": N_("Le point est ajouté."),
    "request": N_("La demande d'avis est envoyée."),
    "done": N_("Le point est fait."),
    "waive": N_("Le point est classé sans objet."),
    "reopen": N_("Le point est de nouveau à traiter."),
}


def _checklist_page(
    request: Request, db: Session, viewer: Viewer, initiative: Initiative, *, origin: str = "page",
    errors: dict[str, str] | None = None, values: dict[str, Any] | None = None, error_item: str = "",
    message: str = "", status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    context = {
        "initiative": initiative,
        "checklist": checklist.checklist_view(db, viewer, initiative),
        "checklist_from": origin,
        "checklist_errors": errors or {},
        "checklist_values": values or {},
        "checklist_error_item": error_item,
        "checklist_message": message,
        "workspace_url": workspace_url(request, initiative.public_id),
    }
    return render(request, "pages/review/checklist.html", context, status_code=status_code, block="checklist")


def _checklist_done(
    request: Request, db: Session, viewer: Viewer, initiative: Initiative, origin: str, step: str
) -> Response:
    message = _(CHECKLIST_DONE[step])
    if is_htmx(request):
        return _checklist_page(request, db, viewer, initiative, origin=origin, message=message)
    location = url(request, "review:checklist", public_id=initiative.public_id)
    if origin == "workspace":
        location = workspace_url(request, initiative.public_id) + "#checklist"
    return redirect(request, location, flash=message)


def _origin(value: Any) -> str:
    return "workspace" if value == "workspace" else "page"


@router.get("/initiatives/{public_id}/points-de-controle", name="review:checklist")
def checklist_show(request: Request, public_id: str, viewer: RequireAgent, db: ReadSession) -> HTMLResponse:
    initiative = review.get_initiative(db, viewer, public_id)
    return _checklist_page(request, db, viewer, initiative, origin=_origin(request.query_params.get("from")))


@router.post("/initiatives/{public_id}/points-de-controle", name="review:checklist_add")
def checklist_add(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: RequireAgent, db: WriteSession,
    form: FormDep,
) -> Response:  # fmt: skip
    initiative = review.get_initiative(db, viewer, public_id)
    origin, step = _origin(form.get("from")), "add" if form.get("step") != "start" else "start"
    claim_form_nonce(request, db, form, territory.id)
    try:
        if step == "start":
            checklist.start(db, viewer, initiative)
        else:
            checklist.add_item(db, viewer, initiative, str(form.get("label") or ""))
    except Invalid as exc:
        errors, values = {exc.field or "__all__": exc.message}, {"label": form.get("label") or ""}
        return _checklist_page(
            request, db, viewer, initiative, origin=origin, errors=errors, values=values, error_item="new",
            status_code=422,
        )  # fmt: skip
    return _checklist_done(request, db, viewer, initiative, origin, step)


class ChecklistFormError(Exception):
    """The opinion request form has field errors (shown next to the fields, status 422)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("invalid checklist form")
        self.errors = errors


def _checklist_apply(request: Request, db: Session, viewer: Viewer, initiative: Initiative, step: str,
                     item: str, form: Any) -> None:  # fmt: skip
    if step == "request":
        result = validate_form(checklist.OpinionRequestInput, form)
        if result.data is None:
            raise ChecklistFormError(result.errors)
        data = result.data
        checklist.request_opinion(
            db, viewer, initiative, item, data.service_name, data.assignee, data.due_on,
            settings=request.app.state.settings,
        )  # fmt: skip
    elif step == "done":
        checklist.complete_item(db, viewer, initiative, item, str(form.get("opinion") or ""))
    elif step == "waive":
        checklist.waive_item(db, viewer, initiative, item, str(form.get("reason") or ""))
    else:
        checklist.reopen_item(db, viewer, initiative, item)


@router.post("/initiatives/{public_id}/points-de-controle/{item}/{step}", name="review:checklist_act")
def checklist_act(
    request: Request, public_id: str, item: str, step: str, territory: CurrentTerritory, viewer: RequireAgent,
    db: WriteSession, form: FormDep,
) -> Response:  # fmt: skip
    if step not in CHECKLIST_ACTIONS:
        raise NotFound(_("Cette page n'existe pas."))
    initiative = review.get_initiative(db, viewer, public_id)
    origin = _origin(form.get("from"))
    claim_form_nonce(request, db, form, territory.id)
    try:
        _checklist_apply(request, db, viewer, initiative, step, item, form)
    except (Invalid, ChecklistFormError) as exc:
        errors = exc.errors if isinstance(exc, ChecklistFormError) else {exc.field or "__all__": exc.message}
        values = {k: v for k, v in form.items() if k not in ("csrf_token", "form_nonce")}
        return _checklist_page(
            request, db, viewer, initiative, origin=origin, errors=errors, values=values,
            error_item=f"{item}-{step}", status_code=422,
        )  # fmt: skip
    return _checklist_done(request, db, viewer, initiative, origin, step)


# ---------------------------------------------------------------- declared interests and withdrawals


def _interests_page(
    request: Request, db: Session, viewer: Viewer, *, errors: dict[str, dict[str, str]] | None = None,
    values: dict[str, dict[str, Any]] | None = None, status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    context = {"page": interests.interests_page(db, viewer), "errors": errors or {}, "values": values or {}}
    return render(request, "pages/review/interests.html", context, status_code=status_code)


@router.get("/mon-espace/interets", name="review:interests")
def interests_show(request: Request, viewer: RequireAgent, db: ReadSession) -> HTMLResponse:
    return _interests_page(request, db, viewer)


@router.post("/mon-espace/interets", name="review:interest_declare")
def interest_declare(
    request: Request, territory: CurrentTerritory, viewer: RequireAgent, db: WriteSession, form: FormDep
) -> Response:
    values = {k: str(form.get(k) or "") for k in ("description", "beneficiary", "initiative")}
    claim_form_nonce(request, db, form, territory.id)
    try:
        interests.declare_interest(db, viewer, values["description"], values["beneficiary"], values["initiative"])
    except Invalid as exc:
        errors = {"interest": {exc.field or "__all__": exc.message}}
        return _interests_page(request, db, viewer, errors=errors, values={"interest": values}, status_code=422)
    return redirect(request, url(request, "review:interests"), flash=_("Votre déclaration d'intérêt est enregistrée."))


@router.post("/mon-espace/interets/deport", name="review:withdraw")
def interest_withdraw(
    request: Request, territory: CurrentTerritory, viewer: RequireAgent, db: WriteSession, form: FormDep
) -> Response:
    values = {k: str(form.get(k) or "") for k in ("initiative", "reason")}
    claim_form_nonce(request, db, form, territory.id)
    try:
        interests.withdraw_from(db, viewer, values["initiative"], values["reason"])
    except Invalid as exc:
        errors = {"withdrawal": {exc.field or "__all__": exc.message}}
        return _interests_page(request, db, viewer, errors=errors, values={"withdrawal": values}, status_code=422)
    flash = _("Votre déport est enregistré : vous n'interviendrez plus sur cette initiative.")
    if form.get("from") == "workspace":
        return redirect(request, workspace_url(request, values["initiative"]), flash=flash)
    return redirect(request, url(request, "review:interests"), flash=flash)


@router.post("/mon-espace/interets/{public_id}/fin", name="review:interest_end")
def interest_end(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: RequireAgent, db: WriteSession,
    form: FormDep,
) -> Response:  # fmt: skip
    claim_form_nonce(request, db, form, territory.id)
    interests.end_interest(db, viewer, public_id)
    return redirect(request, url(request, "review:interests"), flash=_("Cette déclaration est close."))
