"""Equipment pages: the inventory (staff), booking for a work day, the week's view for the technical
services with its « sorti » / « rendu » buttons (HTMX, or a plain form that comes back to the week)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from app.accounts.viewer import Viewer
from app.core.errors import Conflict, Invalid
from app.equipment import forms
from app.equipment import service as equipment
from app.equipment.models import Equipment
from app.web.auth import CurrentViewer, RequireAgent
from app.web.deps import CurrentTerritory, ReadSession, WriteSession
from app.web.forms import claim_form_nonce, remember_result, validate_form
from app.web.forms_dep import FormDep
from app.web.i18n import _, date
from app.web.responses import redirect
from app.web.templating import is_htmx, render, url
from app.workdays import routes as workday_routes
from app.workdays import service as workdays

router = APIRouter()


# ---------------------------------------------------------------- the inventory


def _values(item: Equipment) -> dict[str, Any]:
    return {
        "name": item.name,
        "description": item.description,
        "quantity": item.quantity,
        "condition_notes": item.condition_notes,
        "active": "on" if item.active else "",
    }


def _list_page(
    request: Request, db: Session, viewer: Viewer, territory_id: int, *, values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None, status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    context = {
        "items": equipment.list_equipment(db, viewer, territory_id),
        "values": values if values is not None else {"quantity": "1", "active": "on"},
        "errors": errors or {},
    }
    return render(request, "pages/equipment/list.html", context, status_code=status_code)


@router.get("/admin/materiel", name="equipment:list")
def inventory(request: Request, territory: CurrentTerritory, viewer: RequireAgent, db: ReadSession) -> HTMLResponse:
    return _list_page(request, db, viewer, territory.id)


@router.post("/admin/materiel", name="equipment:create")
def create(
    request: Request, territory: CurrentTerritory, viewer: RequireAgent, db: WriteSession, form: FormDep
) -> Response:
    result = validate_form(forms.EquipmentInput, form)
    if result.data is None:
        return _list_page(request, db, viewer, territory.id, values=result.values, errors=result.errors,
                          status_code=422)  # fmt: skip
    try:
        with db.begin_nested():
            claim_form_nonce(request, db, form, territory.id)
            item = equipment.create_equipment(db, viewer, territory.id, result.data)
    except Invalid as exc:
        return _list_page(request, db, viewer, territory.id, values=result.values,
                          errors={exc.field or "__all__": exc.message}, status_code=422)  # fmt: skip
    flash = _("« %(name)s » est ajouté au matériel de la commune.") % {"name": item.name}
    return redirect(request, url(request, "equipment:list"), flash=flash)


def _edit_page(
    request: Request, item: Equipment, *, values: dict[str, Any], errors: dict[str, str], status_code: int = 200
) -> HTMLResponse:
    context = {"item": item, "values": values, "errors": errors}
    return render(request, "pages/equipment/edit.html", context, status_code=status_code)


@router.get("/admin/materiel/{equipment_id}", name="equipment:edit")
def edit(
    request: Request, equipment_id: str, territory: CurrentTerritory, viewer: RequireAgent, db: ReadSession
) -> HTMLResponse:
    item = equipment.get_equipment(db, territory.id, equipment_id)
    return _edit_page(request, item, values=_values(item), errors={})


@router.post("/admin/materiel/{equipment_id}", name="equipment:update")
def update(
    request: Request, equipment_id: str, territory: CurrentTerritory, viewer: RequireAgent, db: WriteSession,
    form: FormDep,
) -> Response:  # fmt: skip
    item = equipment.get_equipment(db, territory.id, equipment_id)
    result = validate_form(forms.EquipmentInput, form)
    if result.data is None:
        return _edit_page(request, item, values=result.values, errors=result.errors, status_code=422)
    try:
        with db.begin_nested():
            claim_form_nonce(request, db, form, territory.id)
            item = equipment.update_equipment(db, viewer, territory.id, equipment_id, result.data)
    except Invalid as exc:
        return _edit_page(request, item, values=result.values, errors={exc.field or "__all__": exc.message},
                          status_code=422)  # fmt: skip
    flash = _("« %(name)s » est enregistré.") % {"name": item.name}
    return redirect(request, url(request, "equipment:list"), flash=flash)


# ---------------------------------------------------------------- booking for a work day


@router.post("/initiatives/{public_id}/chantiers/{work_day_id}/materiel", name="equipment:book")
def book(
    request: Request, public_id: str, work_day_id: str, territory: CurrentTerritory, viewer: CurrentViewer,
    db: WriteSession, form: FormDep,
) -> Response:  # fmt: skip
    initiative, involvement = workdays.load(db, viewer, territory.id, public_id)
    work_day = workdays.get_work_day(db, initiative, work_day_id)
    result = validate_form(forms.BookingInput, form)
    try:
        if result.data is None:
            raise Invalid(next(iter(result.errors.values())), field=next(iter(result.errors)))
        data = result.data
        # A refused booking leaves nothing behind, not even the used form nonce.
        with db.begin_nested():
            claim_form_nonce(request, db, form, territory.id)
            booking = equipment.book(db, viewer, initiative, involvement, work_day, data)
    except (Invalid, Conflict) as exc:
        errors = result.errors or {exc.field or "__all__": exc.message}
        return workday_routes.work_day_page(
            request, db, viewer, initiative, work_day, booking_errors=errors, booking_values=result.values,
            status_code=exc.status_code,
        )  # fmt: skip
    location = url(request, "workdays:show", public_id=public_id, work_day_id=work_day_id)
    flash = _("Le matériel est réservé du %(start)s au %(end)s.") % {
        "start": date(booking.starts_on),
        "end": date(booking.ends_on),
    }
    return redirect(request, location, flash=flash)


# ---------------------------------------------------------------- the week, handing out, taking back


def _week_day(raw: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def _week_page(request: Request, db: Session, viewer: Viewer, territory_id: int, day: dt.date | None,
               message: str = "") -> HTMLResponse:  # fmt: skip
    week = equipment.week_view(db, viewer, territory_id, day)
    return render(request, "pages/equipment/week.html", {"week": week, "message": message}, block="week")


@router.get("/materiel/semaine", name="equipment:week")
def week(
    request: Request, territory: CurrentTerritory, viewer: RequireAgent, db: ReadSession, semaine: str = ""
) -> HTMLResponse:
    return _week_page(request, db, viewer, territory.id, _week_day(semaine[:10]))


def _after_change(
    request: Request, db: Session, viewer: Viewer, territory_id: int, form: Any, context: equipment.BookingContext,
    message: str,
) -> Response:  # fmt: skip
    raw = form.get("semaine")
    day = _week_day(raw[:10] if isinstance(raw, str) else "")
    if form.get("from") == "work_day":
        location = url(
            request, "workdays:show", public_id=context.initiative.public_id,
            work_day_id=context.work_day.public_id,
        )  # fmt: skip
    else:
        start = equipment.week_start(day or context.booking.starts_on)
        location = url(request, "equipment:week", query={"semaine": start.isoformat()})
    if not is_htmx(request):
        return redirect(request, location, flash=message)
    remember_result(request, location)
    return _week_page(request, db, viewer, territory_id, day, message)


@router.post("/materiel/reservations/{booking_id}/sortie", name="equipment:hand_out")
def hand_out(
    request: Request, booking_id: str, territory: CurrentTerritory, viewer: CurrentViewer, db: WriteSession,
    form: FormDep,
) -> Response:  # fmt: skip
    context = equipment.get_booking(db, viewer, territory.id, booking_id)
    result = validate_form(forms.ConditionInput, form)
    condition = result.data.condition if result.data is not None else ""
    claim_form_nonce(request, db, form, territory.id)
    equipment.hand_out(db, viewer, context, condition)
    message = _("« %(name)s » est sorti.") % {"name": context.equipment.name}
    return _after_change(request, db, viewer, territory.id, form, context, message)


@router.post("/materiel/reservations/{booking_id}/retour", name="equipment:take_back")
def take_back(
    request: Request, booking_id: str, territory: CurrentTerritory, viewer: CurrentViewer, db: WriteSession,
    form: FormDep,
) -> Response:  # fmt: skip
    context = equipment.get_booking(db, viewer, territory.id, booking_id)
    result = validate_form(forms.ConditionInput, form)
    condition = result.data.condition if result.data is not None else ""
    claim_form_nonce(request, db, form, territory.id)
    equipment.take_back(db, viewer, context, condition)
    message = _("« %(name)s » est rendu.") % {"name": context.equipment.name}
    return _after_change(request, db, viewer, territory.id, form, context, message)


@router.post("/materiel/reservations/{booking_id}/annuler", name="equipment:cancel")
def cancel(
    request: Request, booking_id: str, territory: CurrentTerritory, viewer: CurrentViewer, db: WriteSession,
    form: FormDep,
) -> Response:  # fmt: skip
    context = equipment.get_booking(db, viewer, territory.id, booking_id)
    result = validate_form(forms.CancelBookingInput, form)
    reason = result.data.reason if result.data is not None else ""
    claim_form_nonce(request, db, form, territory.id)
    equipment.cancel_booking(db, viewer, context, reason)
    message = _("La réservation de « %(name)s » est annulée.") % {"name": context.equipment.name}
    return _after_change(request, db, viewer, territory.id, form, context, message)
