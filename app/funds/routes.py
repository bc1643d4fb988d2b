"""Administration of funds (rules and envelopes) and of the dated rate table."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from app.accounts.viewer import Viewer
from app.core.errors import AppError, Conflict, Invalid, NotFound
from app.funds import checklist as fund_checklist
from app.funds import forms
from app.funds import service as funds
from app.funds.models import Fund
from app.territories.service import list_neighbourhoods
from app.web.auth import RequireAdmin
from app.web.deps import CurrentTerritory, ReadSession, WriteSession
from app.web.forms import claim_form_nonce, validate_form
from app.web.forms_dep import FormDep
from app.web.i18n import N_, _
from app.web.responses import redirect
from app.web.templating import render, url

router = APIRouter()

NEW_FUND_VALUES: dict[str, Any] = {
    "is_active": True,
    "match_physical_percent": 100,
    "match_activity_percent": 50,
    "partners_count": True,
    "enforcement": "warn",
    "small_project_threshold_cents": "500",
    "decision_deadline_days": 30,
    "unsigned_release_days": 60,
}


def _error(exc: AppError) -> dict[str, str]:
    return {exc.field or "__all__": exc.message}


# ---------------------------------------------------------------- funds


def _list_page(
    request: Request,
    db: Session,
    territory_id: int,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    context = {
        "funds": funds.list_funds(db, territory_id),
        "fields": forms.FUND_FIELDS,
        "values": values if values is not None else NEW_FUND_VALUES,
        "errors": errors or {},
    }
    return render(request, "pages/funds/list.html", context, status_code=status_code)


@router.get("/admin/dispositifs", name="funds:list")
def fund_list(request: Request, territory: CurrentTerritory, viewer: RequireAdmin, db: ReadSession) -> HTMLResponse:
    return _list_page(request, db, territory.id)


@router.post("/admin/dispositifs", name="funds:create")
def fund_create(
    request: Request, territory: CurrentTerritory, viewer: RequireAdmin, db: WriteSession, form: FormDep
) -> Response:
    result = validate_form(forms.FundForm, form)
    if result.data is None:
        return _list_page(request, db, territory.id, result.values, result.errors, 422)
    try:
        with db.begin_nested():
            claim_form_nonce(request, db, form, territory.id)
            fund = funds.create_fund(db, viewer, territory.id, result.data)
    except Invalid as exc:
        return _list_page(request, db, territory.id, result.values, _error(exc), 422)
    return redirect(request, url(request, "funds:edit", public_id=fund.public_id), flash=_("Le dispositif est créé."))


def _edit_page(
    request: Request,
    db: Session,
    territory_id: int,
    fund: Fund,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    envelope_values: dict[str, Any] | None = None,
    envelope_errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    context = {
        "fund": fund,
        "fields": forms.FUND_FIELDS,
        "values": values if values is not None else forms.FundForm.values_from(fund),
        "errors": errors or {},
        "envelopes": funds.list_envelopes(db, fund),
        "neighbourhoods": list_neighbourhoods(db, territory_id),
        "envelope_values": envelope_values or {"fiscal_year": funds.current_fiscal_year(db, territory_id)},
        "envelope_errors": envelope_errors or {},
    }
    return render(request, "pages/funds/edit.html", context, status_code=status_code)


@router.get("/admin/dispositifs/{public_id}", name="funds:edit")
def fund_edit(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: RequireAdmin, db: ReadSession
) -> HTMLResponse:
    return _edit_page(request, db, territory.id, funds.get_fund(db, territory.id, public_id))


@router.post("/admin/dispositifs/{public_id}", name="funds:update")
def fund_update(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: RequireAdmin, db: WriteSession, form: FormDep
) -> Response:
    fund = funds.get_fund(db, territory.id, public_id)
    result = validate_form(forms.FundForm, form)
    if result.data is None:
        return _edit_page(request, db, territory.id, fund, values=result.values, errors=result.errors, status_code=422)
    try:
        with db.begin_nested():
            claim_form_nonce(request, db, form, territory.id)
            funds.update_fund(db, viewer, territory.id, public_id, result.data)
    except Invalid as exc:
        db.refresh(fund)
        return _edit_page(request, db, territory.id, fund, values=result.values, errors=_error(exc), status_code=422)
    return redirect(request, url(request, "funds:edit", public_id=public_id), flash=_("Les règles sont enregistrées."))


@router.post("/admin/dispositifs/{public_id}/enveloppes", name="funds:envelope")
def envelope_save(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: RequireAdmin, db: WriteSession, form: FormDep
) -> Response:
    fund = funds.get_fund(db, territory.id, public_id)
    result = validate_form(forms.EnvelopeForm, form)
    status_code = 422
    if result.data is not None:
        try:
            with db.begin_nested():
                claim_form_nonce(request, db, form, territory.id)
                funds.set_envelope(db, viewer, territory.id, public_id, result.data)
        except (Invalid, Conflict) as exc:
            result.errors, status_code = _error(exc), exc.status_code
        else:
            target = url(request, "funds:edit", public_id=public_id)
            return redirect(request, target, flash=_("L'enveloppe est enregistrée."))
    return _edit_page(
        request,
        db,
        territory.id,
        fund,
        envelope_values=result.values,
        envelope_errors=result.errors,
        status_code=status_code,
    )


# ---------------------------------------------------------------- rates


def _rates_page(
    request: Request,
    db: Session,
    territory_id: int,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    context = {
        "groups": funds.list_rates(db, territory_id),
        "kind_labels": forms.RATE_KIND_LABELS,
        "values": values or {"effective_from": funds.territory_today(db, territory_id).isoformat()},
        "errors": errors or {},
    }
    return render(request, "pages/funds/rates.html", context, status_code=status_code)


@router.get("/admin/taux", name="funds:rates")
def rates(request: Request, territory: CurrentTerritory, viewer: RequireAdmin, db: ReadSession) -> HTMLResponse:
    return _rates_page(request, db, territory.id)


@router.post("/admin/taux", name="funds:rate_create")
def rate_create(
    request: Request, territory: CurrentTerritory, viewer: RequireAdmin, db: WriteSession, form: FormDep
) -> Response:
    result = validate_form(forms.RateForm, form)
    if result.data is None:
        return _rates_page(request, db, territory.id, result.values, result.errors, 422)
    try:
        with db.begin_nested():
            claim_form_nonce(request, db, form, territory.id)
            funds.add_rate(db, viewer, territory.id, result.data)
    except (Invalid, Conflict) as exc:
        return _rates_page(request, db, territory.id, result.values, _error(exc), exc.status_code)
    return redirect(request, url(request, "funds:rates"), flash=_("Le nouveau taux est enregistré."))


# ---------------------------------------------------------------- the fund's review checklist

CHECKLIST_STEPS = {
    "renommer": N_("Le point est renommé."),
    "monter": N_("Le point est déplacé."),
    "descendre": N_("Le point est déplacé."),
    "supprimer": N_("Le point est retiré de la liste."),
}


def _checklist_page(
    request: Request, db: Session, viewer: Viewer, territory_id: int, fund: Fund, *,
    errors: dict[str, str] | None = None, values: dict[str, Any] | None = None, error_item: str = "",
    status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    context = {
        "fund": fund,
        "checklist": fund_checklist.checklist(db, viewer, territory_id, fund.public_id),
        "errors": errors or {},
        "values": values or {},
        "error_item": error_item,
    }
    return render(request, "pages/funds/checklist.html", context, status_code=status_code)


@router.get("/admin/dispositifs/{public_id}/points-de-controle", name="funds:checklist")
def checklist_show(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: RequireAdmin, db: ReadSession
) -> HTMLResponse:
    return _checklist_page(request, db, viewer, territory.id, funds.get_fund(db, territory.id, public_id))


@router.post("/admin/dispositifs/{public_id}/points-de-controle", name="funds:checklist_add")
def checklist_add(
    request: Request, public_id: str, territory: CurrentTerritory, viewer: RequireAdmin, db: WriteSession,
    form: FormDep,
) -> Response:  # fmt: skip
    fund = funds.get_fund(db, territory.id, public_id)
    customise = form.get("step") == "personnaliser"
    label = str(form.get("label") or "")
    try:
        with db.begin_nested():
            claim_form_nonce(request, db, form, territory.id)
            if customise:
                fund_checklist.customise(db, viewer, territory.id, public_id)
            else:
                fund_checklist.add_item(db, viewer, territory.id, public_id, label)
    except Invalid as exc:
        return _checklist_page(
            request, db, viewer, territory.id, fund, errors=_error(exc), values={"label": label}, error_item="new",
            status_code=422,
        )  # fmt: skip
    flash = (
        _("Les points habituels sont repris : vous pouvez les modifier.") if customise else _("Le point est ajouté.")
    )
    return redirect(request, url(request, "funds:checklist", public_id=public_id), flash=flash)


@router.post("/admin/dispositifs/{public_id}/points-de-controle/{item}/{step}", name="funds:checklist_act")
def checklist_act(
    request: Request, public_id: str, item: str, step: str, territory: CurrentTerritory, viewer: RequireAdmin,
    db: WriteSession, form: FormDep,
) -> Response:  # fmt: skip
    if step not in CHECKLIST_STEPS:
        raise NotFound(_("Cette page n'existe pas."))
    fund = funds.get_fund(db, territory.id, public_id)
    label = str(form.get("label") or "")
    try:
        with db.begin_nested():
            claim_form_nonce(request, db, form, territory.id)
            if step == "renommer":
                fund_checklist.rename_item(db, viewer, territory.id, public_id, item, label)
            elif step == "supprimer":
                fund_checklist.remove_item(db, viewer, territory.id, public_id, item)
            else:
                direction = "up" if step == "monter" else "down"
                fund_checklist.move_item(db, viewer, territory.id, public_id, item, direction)
    except Invalid as exc:
        return _checklist_page(
            request, db, viewer, territory.id, fund, errors=_error(exc), values={"label": label}, error_item=item,
            status_code=422,
        )  # fmt: skip
    location = url(request, "funds:checklist", public_id=public_id) + f"#point-{item}"
    if step == "supprimer":
        location = url(request, "funds:checklist", public_id=public_id)
    return redirect(request, location, flash=_(CHECKLIST_STEPS[step]))
