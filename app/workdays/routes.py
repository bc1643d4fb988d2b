"""Work day pages: plan and edit a day, « Je participe », the register (entered in bulk, checked by an
agent), its printable sheet and the insurer's CSV export.

Every form works without JavaScript (303 back to the page); « Je participe » swaps its own box with
HTMX. A refused form is shown again with its errors (422, or 409 for a state that forbids it).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from app.accounts.viewer import Viewer
from app.core.errors import Conflict, Forbidden, Invalid
from app.initiatives.models import Initiative
from app.web.auth import CurrentViewer, MaybeViewer
from app.web.deps import CurrentTerritory, ReadSession, WriteSession
from app.web.forms import claim_form_nonce, remember_result, validate_form
from app.web.forms_dep import FormDep
from app.web.i18n import _
from app.web.responses import redirect, safe_next
from app.web.templating import is_htmx, render, url
from app.workdays import forms
from app.workdays import permissions as perm
from app.workdays import service as workdays
from app.workdays.models import WorkDay

router = APIRouter()

# Lines of the blank sheet printed for the day itself, under the people signed up.
BLANK_SHEET_LINES = 15


def _show_url(request: Request, public_id: str, work_day_id: str) -> str:
    return url(request, "workdays:show", public_id=public_id, work_day_id=work_day_id)


def _register_url(request: Request, public_id: str, work_day_id: str) -> str:
    return url(request, "workdays:register", public_id=public_id, work_day_id=work_day_id)


def _form_values(work_day: WorkDay) -> dict[str, Any]:
    return {
        "day": work_day.day.isoformat(),
        "starts_at": work_day.starts_at.strftime("%H:%M"),
        "ends_at": work_day.ends_at.strftime("%H:%M"),
        "place": work_day.place,
        "meeting_point": work_day.meeting_point,
        "tasks": work_day.tasks,
        "tools": work_day.tools,
        "max_participants": work_day.max_participants or "",
    }


def _form_page(
    request: Request, initiative: Initiative, *, work_day: WorkDay | None, values: dict[str, Any],
    errors: dict[str, str], status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    context = {"initiative": initiative, "work_day": work_day, "values": values, "errors": errors}
    return render(request, "pages/workdays/form.html", context, status_code=status_code)


# ---------------------------------------------------------------- planning


@router.get("/initiatives/{public_id}/chantiers/nouveau", name="workdays:new")
def new(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: CurrentViewer, db: ReadSession
) -> HTMLResponse:
    initiative, involvement = workdays.load(db, viewer, territory.id, public_id)
    if not perm.organises(viewer, initiative, involvement):
        raise Forbidden(_("Seul·es les porteur·ses du projet et les agent·es programment un chantier."))
    if not perm.can_plan(viewer, initiative, involvement):
        raise Conflict(_("Un chantier se programme une fois la convention signée, pendant les travaux."))
    values = {"starts_at": "09:00", "ends_at": "12:00", "place": initiative.address}
    return _form_page(request, initiative, work_day=None, values=values, errors={})


@router.post("/initiatives/{public_id}/chantiers", name="workdays:create")
def create(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: CurrentViewer, db: WriteSession,
    form: FormDep,
) -> Response:  # fmt: skip
    initiative, _standing = workdays.load(db, viewer, territory.id, public_id)
    result = validate_form(forms.WorkDayInput, form)
    if result.data is None:
        return _form_page(request, initiative, work_day=None, values=result.values, errors=result.errors,
                          status_code=422)  # fmt: skip
    try:
        with db.begin_nested():
            claim_form_nonce(request, db, form, territory.id)
            work_day = workdays.plan(
                db, viewer, territory.id, public_id, result.data, settings=request.app.state.settings
            )
    except Invalid as exc:
        errors = {exc.field or "__all__": exc.message}
        return _form_page(request, initiative, work_day=None, values=result.values, errors=errors, status_code=422)
    location = _show_url(request, public_id, work_day.public_id)
    return redirect(request, location, flash=_("Le chantier est programmé : les habitant·es peuvent s'y inscrire."))


@router.get("/initiatives/{public_id}/chantiers/{work_day_id}", name="workdays:show")
def show(
    request: Request, public_id: str, work_day_id: str, territory: CurrentTerritory, viewer: MaybeViewer,
    db: ReadSession,
) -> HTMLResponse:  # fmt: skip
    initiative, _standing = workdays.load(db, viewer, territory.id, public_id)
    work_day = workdays.get_work_day(db, initiative, work_day_id)
    return work_day_page(request, db, viewer, initiative, work_day)


def work_day_page(
    request: Request, db: Session, viewer: Viewer | None, initiative: Initiative, work_day: WorkDay, *,
    booking_errors: dict[str, str] | None = None, booking_values: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    """The work day's page (also shown again by the equipment routes when a booking is refused)."""
    page = workdays.work_day_page(db, viewer, initiative, work_day)
    choices = page.booking_form
    default_booking = (
        {"starts_on": choices.starts_on.isoformat(), "ends_on": choices.ends_on.isoformat(), "quantity": "1"}
        if choices is not None
        else {}
    )
    context = {
        "page": page,
        "initiative": initiative,
        "work_day": work_day,
        "booking_errors": booking_errors or {},
        "booking_values": booking_values or default_booking,
    }
    return render(request, "pages/workdays/show.html", context, status_code=status_code)


@router.get("/initiatives/{public_id}/chantiers/{work_day_id}/modifier", name="workdays:edit")
def edit(
    request: Request, public_id: str, work_day_id: str, territory: CurrentTerritory, viewer: CurrentViewer,
    db: ReadSession,
) -> HTMLResponse:  # fmt: skip
    initiative, involvement = workdays.load(db, viewer, territory.id, public_id)
    work_day = workdays.get_work_day(db, initiative, work_day_id)
    if not perm.can_edit(viewer, initiative, involvement, work_day):
        return work_day_page(request, db, viewer, initiative, work_day)
    return _form_page(request, initiative, work_day=work_day, values=_form_values(work_day), errors={})


@router.post("/initiatives/{public_id}/chantiers/{work_day_id}/modifier", name="workdays:update")
def update(
    request: Request, public_id: str, work_day_id: str, territory: CurrentTerritory, viewer: CurrentViewer,
    db: WriteSession, form: FormDep,
) -> Response:  # fmt: skip
    initiative, _standing = workdays.load(db, viewer, territory.id, public_id)
    work_day = workdays.get_work_day(db, initiative, work_day_id)
    result = validate_form(forms.WorkDayInput, form)
    if result.data is None:
        return _form_page(request, initiative, work_day=work_day, values=result.values, errors=result.errors,
                          status_code=422)  # fmt: skip
    try:
        with db.begin_nested():
            claim_form_nonce(request, db, form, territory.id)
            workdays.update(
                db, viewer, territory.id, public_id, work_day_id, result.data, settings=request.app.state.settings
            )
    except Invalid as exc:
        errors = {exc.field or "__all__": exc.message}
        return _form_page(request, initiative, work_day=work_day, values=result.values, errors=errors,
                          status_code=422)  # fmt: skip
    location = _show_url(request, public_id, work_day_id)
    return redirect(request, location, flash=_("Le chantier est modifié ; les participant·es sont prévenu·es."))


@router.post("/initiatives/{public_id}/chantiers/{work_day_id}/annuler", name="workdays:cancel")
def cancel(
    request: Request, public_id: str, work_day_id: str, territory: CurrentTerritory, viewer: CurrentViewer,
    db: WriteSession, form: FormDep,
) -> Response:  # fmt: skip
    initiative, _standing = workdays.load(db, viewer, territory.id, public_id)
    workdays.get_work_day(db, initiative, work_day_id)
    result = validate_form(forms.CancelInput, form)
    reason = result.data.reason if result.data is not None else ""
    claim_form_nonce(request, db, form, territory.id)
    workdays.cancel(db, viewer, territory.id, public_id, work_day_id, reason, settings=request.app.state.settings)
    location = _show_url(request, public_id, work_day_id)
    return redirect(request, location, flash=_("Le chantier est annulé ; les participant·es sont prévenu·es."))


# ---------------------------------------------------------------- « Je participe »


def _participation(
    request: Request, db: Session, viewer: Viewer, territory_id: int, public_id: str, work_day_id: str,
    message: str, form: Any,
) -> Response:  # fmt: skip
    back = _show_url(request, public_id, work_day_id)
    raw_next = form.get("next")
    target = safe_next(raw_next if isinstance(raw_next, str) else None, back)
    if not is_htmx(request):
        return redirect(request, target, flash=message)
    remember_result(request, target)
    initiative, _standing = workdays.load(db, viewer, territory_id, public_id)
    work_day = workdays.get_work_day(db, initiative, work_day_id)
    summary = workdays.summary(db, viewer, initiative, work_day)
    context = {"s": summary, "initiative_public_id": public_id, "message": message, "back": target}
    return render(request, "partials/workdays/participation.html", context)


@router.post("/initiatives/{public_id}/chantiers/{work_day_id}/participer", name="workdays:sign_up")
def sign_up(
    request: Request, public_id: str, work_day_id: str, territory: CurrentTerritory, viewer: CurrentViewer,
    db: WriteSession, form: FormDep,
) -> Response:  # fmt: skip
    workdays.sign_up(db, viewer, territory.id, public_id, work_day_id)
    message = _("C'est noté : vous participez à ce chantier. Merci !")
    return _participation(request, db, viewer, territory.id, public_id, work_day_id, message, form)


@router.post("/initiatives/{public_id}/chantiers/{work_day_id}/ne-plus-participer", name="workdays:withdraw")
def withdraw(
    request: Request, public_id: str, work_day_id: str, territory: CurrentTerritory, viewer: CurrentViewer,
    db: WriteSession, form: FormDep,
) -> Response:  # fmt: skip
    workdays.withdraw(db, viewer, territory.id, public_id, work_day_id)
    message = _("C'est noté : vous ne participez plus à ce chantier.")
    return _participation(request, db, viewer, territory.id, public_id, work_day_id, message, form)


# ---------------------------------------------------------------- the register


def _register_page(
    request: Request, db: Session, viewer: Viewer, initiative: Initiative, work_day: WorkDay, *,
    submitted: list[forms.RowInput] | None = None, new_rows: int | None = None,
    errors: dict[str, str] | None = None, status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    page = workdays.register_page(db, viewer, initiative, work_day, submitted=submitted, new_rows=new_rows)
    context = {
        "page": page,
        "initiative": initiative,
        "work_day": work_day,
        "errors": errors or {},
        "show_url": _show_url(request, initiative.public_id, work_day.public_id),
    }
    return render(request, "pages/workdays/register.html", context, status_code=status_code)


@router.get("/initiatives/{public_id}/chantiers/{work_day_id}/feuille-d-heures", name="workdays:register")
def register(
    request: Request, public_id: str, work_day_id: str, territory: CurrentTerritory, viewer: CurrentViewer,
    db: ReadSession,
) -> HTMLResponse:  # fmt: skip
    initiative, _standing = workdays.load(db, viewer, territory.id, public_id)
    work_day = workdays.get_work_day(db, initiative, work_day_id)
    return _register_page(request, db, viewer, initiative, work_day)


@router.post("/initiatives/{public_id}/chantiers/{work_day_id}/feuille-d-heures", name="workdays:save_register")
def save_register(
    request: Request, public_id: str, work_day_id: str, territory: CurrentTerritory, viewer: CurrentViewer,
    db: WriteSession, form: FormDep,
) -> Response:  # fmt: skip
    initiative, _standing = workdays.load(db, viewer, territory.id, public_id)
    work_day = workdays.get_work_day(db, initiative, work_day_id)
    rows = forms.register_rows(form, workdays.participant_ids(db, work_day))
    count = forms.new_row_count(form)
    if form.get("step") == "more":
        # More blank lines for walk-ins: nothing is saved, what was typed stays.
        more = min(count + forms.BLANK_ROWS, forms.MAX_NEW_ROWS)
        return _register_page(request, db, viewer, initiative, work_day, submitted=rows, new_rows=more)
    try:
        # A refused register leaves nothing behind, not even the used form nonce.
        with db.begin_nested():
            claim_form_nonce(request, db, form, territory.id)
            workdays.enter_register(db, viewer, territory.id, public_id, work_day_id, rows)
    except Invalid as exc:
        errors = dict(exc.params.get("errors") or {exc.field or "__all__": exc.message})
        return _register_page(request, db, viewer, initiative, work_day, submitted=rows, new_rows=count,
                              errors=errors, status_code=422)  # fmt: skip
    flash = _("La feuille d'heures est enregistrée. Un·e agent·e de la commune la vérifiera.")
    return redirect(request, _register_url(request, public_id, work_day_id), flash=flash)


@router.post(
    "/initiatives/{public_id}/chantiers/{work_day_id}/feuille-d-heures/verifier", name="workdays:check_register"
)
def check_register(
    request: Request, public_id: str, work_day_id: str, territory: CurrentTerritory, viewer: CurrentViewer,
    db: WriteSession, form: FormDep,
) -> Response:  # fmt: skip
    initiative, _standing = workdays.load(db, viewer, territory.id, public_id)
    work_day = workdays.get_work_day(db, initiative, work_day_id)
    try:
        with db.begin_nested():
            claim_form_nonce(request, db, form, territory.id)
            result = workdays.check_register(db, viewer, territory.id, public_id, work_day_id)
    except Conflict as exc:
        db.refresh(work_day)
        return _register_page(request, db, viewer, initiative, work_day, errors={"__all__": exc.message},
                              status_code=409)  # fmt: skip
    flash = _("La feuille d'heures est vérifiée : %(n)s réalisation(s) inscrite(s) au registre des apports.") % {
        "n": result.realisations
    }
    return redirect(request, _register_url(request, public_id, work_day_id), flash=flash)


@router.get(
    "/initiatives/{public_id}/chantiers/{work_day_id}/feuille-d-heures/imprimer", name="workdays:print_register"
)
def print_register(
    request: Request, public_id: str, work_day_id: str, territory: CurrentTerritory, viewer: CurrentViewer,
    db: ReadSession, vierge: bool = False,
) -> HTMLResponse:  # fmt: skip
    initiative, _standing = workdays.load(db, viewer, territory.id, public_id)
    work_day = workdays.get_work_day(db, initiative, work_day_id)
    page = workdays.register_page(db, viewer, initiative, work_day, new_rows=0)
    context = {
        "page": page,
        "initiative": initiative,
        "work_day": work_day,
        "blank": vierge,
        "blank_lines": range(BLANK_SHEET_LINES),
        "register_url": _register_url(request, public_id, work_day_id),
    }
    return render(request, "pages/workdays/print.html", context)


@router.post(
    "/initiatives/{public_id}/chantiers/{work_day_id}/feuille-d-heures/export", name="workdays:export_register"
)
def export_register(
    request: Request, public_id: str, work_day_id: str, territory: CurrentTerritory, viewer: CurrentViewer,
    db: WriteSession, form: FormDep,
) -> Response:  # fmt: skip
    filename, body = workdays.export_register(db, viewer, territory.id, public_id, work_day_id)
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )
