"""Agents' pages: the task list (calls and letters for people without e-mail) and the contacts
kept for residents without an account."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from app.accounts import contacts
from app.accounts.models import AgeBracket
from app.accounts.viewer import Viewer
from app.agent_tasks import service as tasks
from app.core.errors import Invalid
from app.territories.service import list_neighbourhoods
from app.web.auth import RequireAgent
from app.web.deps import CurrentTerritory, ReadSession, WriteSession
from app.web.forms import FormResult, claim_form_nonce, remember_result, validate_form
from app.web.forms_dep import FormDep
from app.web.i18n import N_, _
from app.web.responses import redirect
from app.web.templating import is_htmx, render, url

router = APIRouter()

AGE_LABELS = (
    (AgeBracket.ADULT.value, N_("18 ans ou plus")),
    (AgeBracket.FROM_15_TO_17.value, N_("15 à 17 ans")),
    (AgeBracket.UNDER_15.value, N_("moins de 15 ans")),
)
PREFERRED_LABELS = (("phone", N_("par téléphone")), ("letter", N_("par courrier")))


def _labels() -> dict[str, Any]:
    return {
        "channel_labels": {k.value: _(v) for k, v in tasks.CHANNEL_LABELS.items()},
        "status_labels": {k.value: _(v) for k, v in tasks.STATUS_LABELS.items()},
    }


# ---------------------------------------------------------------- tasks


def _list_page(
    request: Request, db: Session, viewer: Viewer, territory_id: int, row_errors: dict[str, dict[str, str]],
    status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    context = {
        "open": tasks.open_tasks(db, viewer, territory_id),
        "closed": tasks.recent_closed_tasks(db, viewer, territory_id),
        "row_errors": row_errors,
        **_labels(),
    }
    return render(request, "pages/agent_tasks/list.html", context, status_code=status_code)


@router.get("/agents/taches", name="tasks:list")
def task_list(request: Request, territory: CurrentTerritory, viewer: RequireAgent, db: ReadSession) -> HTMLResponse:
    return _list_page(request, db, viewer, territory.id, {})


def _row(
    request: Request, db: Session, viewer: Viewer, territory_id: int, public_id: str, *, errors: dict[str, str],
    status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    row = tasks.task_row(db, viewer, territory_id, public_id)
    context = {"row": row, "row_errors": {public_id: errors}, **_labels()}
    return render(request, "pages/agent_tasks/_task_row.html", context, status_code=status_code)


def _close(
    request: Request, viewer: Viewer, territory: CurrentTerritory, db: Session, form: Any, public_id: str, *, done: bool
) -> Response:
    result: FormResult[tasks.OutcomeInput] | FormResult[tasks.CancelInput] = (
        validate_form(tasks.OutcomeInput, form) if done else validate_form(tasks.CancelInput, form)
    )
    tasks.get_task(db, viewer, territory.id, public_id)  # another town's task: 404
    if result.data is None:
        if is_htmx(request):
            return _row(request, db, viewer, territory.id, public_id, errors=result.errors, status_code=422)
        return _list_page(request, db, viewer, territory.id, {public_id: result.errors}, 422)
    claim_form_nonce(request, db, form, territory.id)
    data = result.data
    if isinstance(data, tasks.OutcomeInput):
        tasks.complete_task(db, viewer, territory.id, public_id, data.outcome)
    else:
        tasks.cancel_task(db, viewer, territory.id, public_id, data.reason)
    message = _("La tâche est faite.") if done else _("La tâche est annulée.")
    list_url = url(request, "tasks:list")
    if not is_htmx(request):
        return redirect(request, list_url, flash=message)
    remember_result(request, list_url)
    return _row(request, db, viewer, territory.id, public_id, errors={})


@router.post("/agents/taches/{public_id}/fait", name="tasks:done")
def task_done(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: RequireAgent, db: WriteSession,
    form: FormDep,
) -> Response:  # fmt: skip
    return _close(request, viewer, territory, db, form, public_id, done=True)


@router.post("/agents/taches/{public_id}/annuler", name="tasks:cancel")
def task_cancel(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: RequireAgent, db: WriteSession,
    form: FormDep,
) -> Response:  # fmt: skip
    return _close(request, viewer, territory, db, form, public_id, done=False)


# ---------------------------------------------------------------- contacts


def _contact_form(
    request: Request,
    db: Session,
    viewer: Viewer,
    territory: CurrentTerritory,
    *,
    contact: Any,
    values: dict[str, Any],
    errors: dict[str, str],
    task_values: dict[str, Any] | None = None,
    task_errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    context = {
        "contact": contact,
        "values": values,
        "errors": errors,
        "task_values": task_values or {"channel": (contact.preferred_contact if contact else "") or "phone"},
        "task_errors": task_errors or {},
        "neighbourhoods": [(n.id, n.name) for n in list_neighbourhoods(db, territory.id)],
        "age_choices": [(v, _(label)) for v, label in AGE_LABELS],
        "preferred_choices": [(v, _(label)) for v, label in PREFERRED_LABELS],
        "channel_choices": [(k.value, _(v)) for k, v in tasks.CHANNEL_LABELS.items()],
        "contact_tasks": tasks.tasks_for_person(db, viewer, territory.id, contact.id) if contact else [],
        **_labels(),
    }
    return render(request, "pages/agent_tasks/contact.html", context, status_code=status_code)


@router.get("/agents/contacts", name="contacts:list")
def contact_list(
    request: Request, territory: CurrentTerritory, viewer: RequireAgent, db: ReadSession, q: str = ""
) -> HTMLResponse:
    found = contacts.search_contacts(db, viewer, territory.id, q)
    names = dict((n.id, n.name) for n in list_neighbourhoods(db, territory.id))
    return render(request, "pages/agent_tasks/contacts.html", {"contacts": found, "q": q, "neighbourhood_names": names})


@router.get("/agents/contacts/nouveau", name="contacts:new")
def contact_new(request: Request, territory: CurrentTerritory, viewer: RequireAgent, db: ReadSession) -> HTMLResponse:
    values = {"preferred_contact": "phone", "age_bracket": AgeBracket.ADULT.value}
    return _contact_form(request, db, viewer, territory, contact=None, values=values, errors={})


def _save_contact(
    request: Request, viewer: Viewer, territory: CurrentTerritory, db: Session, form: Any, public_id: str | None
) -> Response:
    contact = contacts.get_contact(db, viewer, territory.id, public_id) if public_id else None
    result = validate_form(contacts.ContactInput, form)
    if result.data is None:
        return _contact_form(
            request, db, viewer, territory, contact=contact, values=result.values, errors=result.errors, status_code=422
        )
    claim_form_nonce(request, db, form, territory.id)
    try:
        if public_id is None:
            contact = contacts.create_contact(db, viewer, territory.id, result.data)
        else:
            contact = contacts.update_contact(db, viewer, territory.id, public_id, result.data)
    except (contacts.ContactErrors, Invalid) as exc:
        errors = exc.errors if isinstance(exc, contacts.ContactErrors) else {exc.field or "__all__": exc.message}
        return _contact_form(
            request, db, viewer, territory, contact=contact, values=result.values, errors=errors, status_code=422
        )
    location = url(request, "contacts:show", public_id=contact.public_id)
    return redirect(request, location, flash=_("Le contact est enregistré."))


@router.post("/agents/contacts/nouveau", name="contacts:create")
def contact_create(
    request: Request, territory: CurrentTerritory, viewer: RequireAgent, db: WriteSession, form: FormDep
) -> Response:
    return _save_contact(request, viewer, territory, db, form, None)


@router.get("/agents/contacts/{public_id}", name="contacts:show")
def contact_show(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: RequireAgent, db: ReadSession
) -> HTMLResponse:
    contact = contacts.get_contact(db, viewer, territory.id, public_id)
    values = contacts.contact_values(contact)
    return _contact_form(request, db, viewer, territory, contact=contact, values=values, errors={})


@router.post("/agents/contacts/{public_id}", name="contacts:update")
def contact_update(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: RequireAgent, db: WriteSession,
    form: FormDep,
) -> Response:  # fmt: skip
    return _save_contact(request, viewer, territory, db, form, public_id)


@router.post("/agents/contacts/{public_id}/taches", name="tasks:create")
def task_create(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: RequireAgent, db: WriteSession,
    form: FormDep,
) -> Response:  # fmt: skip
    contact = contacts.get_contact(db, viewer, territory.id, public_id)
    result = validate_form(tasks.TaskInput, form)
    if result.data is None:
        values = contacts.contact_values(contact)
        return _contact_form(
            request, db, viewer, territory, contact=contact, values=values, errors={},
            task_values=result.values, task_errors=result.errors, status_code=422,
        )  # fmt: skip
    claim_form_nonce(request, db, form, territory.id)
    data = result.data
    tasks.create_task(
        db, territory_id=territory.id, person_id=contact.id, channel=data.channel, subject=data.subject,
        body=data.body, actor=viewer,
    )  # fmt: skip
    location = url(request, "contacts:show", public_id=public_id)
    return redirect(request, location, flash=_("La tâche est ajoutée à la liste des agent·es."))
